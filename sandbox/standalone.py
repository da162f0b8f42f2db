"""Serve the sandbox on a port with uvicorn: `propelauth-mcp sandbox ...` / `python -m sandbox ...`.

Everything goes to stderr; stdout stays empty.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socket

    import uvicorn

    from sandbox.state import Sandbox

from sandbox.oauth_config import DEFAULT_OAUTH_SCOPES, DEFAULT_TOKEN_TTL_S, OAuthSettings, issuer_of

logger = logging.getLogger("sandbox")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


def default_db_path() -> str:
    """`$XDG_STATE_HOME/propelauth-mcp/sandbox.db`, i.e. `~/.local/state/...` when unset."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(state_home) / "propelauth-mcp" / "sandbox.db")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="propelauth-mcp sandbox",
        description="Run a local emulator of the PropelAuth Backend API"
        " and its OAuth 2.1 authorization server for MCP.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"interface to bind (default {DEFAULT_HOST})")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to bind (default {DEFAULT_PORT})"
    )
    parser.add_argument("--api-key", help="the backend API key clients must send (default: generate one)")
    parser.add_argument(
        "--db",
        default=None,
        help=f"SQLite file, or :memory: (default {default_db_path()}, created on first use)",
    )
    parser.add_argument("--seed", action="store_true", help="load the demo data set into a new, empty store")
    parser.add_argument("--auth-url", help="the Auth URL tokens are issued for (default http://HOST:PORT)")
    parser.add_argument("--rate-limit", metavar="N/SECONDS", help="answer 429 beyond N requests per SECONDS")
    parser.add_argument(
        "--no-orgs",
        action="store_true",
        help="act as a project without organizations: 426 on org, membership and invite endpoints",
    )
    oauth = parser.add_argument_group(
        "OAuth 2.1 authorization server for MCP (issuer AUTH_URL/oauth/2.1, as PropelAuth's MCP page sets up)"
    )
    oauth.add_argument(
        "--introspection-credentials",
        metavar="ID:SECRET",
        help="the client id and secret resource servers introspect tokens with (default: generate, print)",
    )
    oauth.add_argument(
        "--oauth-auto-approve",
        metavar="EMAIL",
        help="sign this sandbox user in at once on authorize (tests, demos; default off: a sign-in page)",
    )
    oauth.add_argument(
        "--oauth-scopes",
        metavar="A,B",
        default=",".join(DEFAULT_OAUTH_SCOPES),
        help=f"comma-separated scopes the server grants (default {','.join(DEFAULT_OAUTH_SCOPES)})",
    )
    oauth.add_argument(
        "--oauth-token-ttl",
        metavar="SECONDS",
        type=int,
        default=DEFAULT_TOKEN_TTL_S,
        help=f"access token lifetime (default {DEFAULT_TOKEN_TTL_S})",
    )
    return parser


def oauth_options(args: argparse.Namespace) -> dict[str, Any]:
    """The create_app keywords of the OAuth flags; ValueError says which flag is wrong."""
    credentials = None
    if args.introspection_credentials is not None:
        client_id, sep, secret = args.introspection_credentials.partition(":")
        if not sep or not client_id or not secret:
            raise ValueError("--introspection-credentials: expected ID:SECRET, both non-empty")
        credentials = (client_id, secret)
    scopes = [scope.strip() for scope in args.oauth_scopes.split(",") if scope.strip()]
    if not scopes:
        raise ValueError("--oauth-scopes: expected at least one scope")
    if args.oauth_token_ttl <= 0:
        raise ValueError("--oauth-token-ttl: expected a positive number of seconds")
    return {
        "oauth_introspection_credentials": credentials,
        "oauth_auto_approve": args.oauth_auto_approve,
        "oauth_scopes": scopes,
        "oauth_token_ttl_s": args.oauth_token_ttl,
    }


def apply_project_switches(sandbox: Sandbox, args: argparse.Namespace) -> None:
    """Set the emulated project's switches from the command line."""
    sandbox.orgs_enabled = not args.no_orgs


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from sandbox.faults import RateLimit

    try:
        rate_limit = RateLimit.parse(args.rate_limit) if args.rate_limit else None
    except ValueError as exc:
        sys.stderr.write(f"propelauth-mcp sandbox: --rate-limit: {exc}\n")
        return 2
    try:
        oauth = oauth_options(args)
    except ValueError as exc:
        sys.stderr.write(f"propelauth-mcp sandbox: {exc}\n")
        return 2

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    db_path = args.db or default_db_path()
    if db_path != ":memory:":
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    base_url = f"http://{args.host}:{args.port}"
    api_key = args.api_key or secrets.token_urlsafe(32)

    import uvicorn

    from sandbox.app import create_app

    try:
        app = create_app(
            api_key=api_key, db_path=db_path, auth_url=args.auth_url or base_url, seed=args.seed, **oauth
        )
    except ValueError as exc:  # e.g. a scope with a space or quote in it
        sys.stderr.write(f"propelauth-mcp sandbox: {exc}\n")
        return 2
    app.state.sandbox.rate_limit = rate_limit
    apply_project_switches(app.state.sandbox, args)
    # log_config=None: uvicorn's default config sends access logs to stdout.
    config = uvicorn.Config(app, host=args.host, port=args.port, log_config=None, access_log=False)
    announcement = _announcement(base_url, db_path, None if args.api_key else api_key)
    announcement += "\n" + oauth_announcement(
        app.state.sandbox.auth_url,
        app.state.oauth.settings,
        generated=oauth["oauth_introspection_credentials"] is None,
    )
    server = _announcing_server(config, announcement)
    with closing(app.state.sandbox):  # the database is closed at shutdown, however the server ends
        server.run()
    return 0 if server.started else 1


def _announcement(base_url: str, db_path: str, generated_key: str | None) -> str:
    lines = [
        f"PropelAuth sandbox ready at {base_url} (store: {db_path})",
        f"  base URL for clients: {base_url} (API under /api/backend/v1)",
    ]
    if generated_key is not None:
        lines.append(f"  generated API key: {generated_key} (pass --api-key to choose one)")
    return "\n".join(lines)


def oauth_announcement(auth_url: str, settings: OAuthSettings, *, generated: bool) -> str:
    """The OAuth lines of the start-up message: the secret only when it was generated here."""
    lines = [
        f"  OAuth 2.1 issuer: {issuer_of(auth_url)} (scopes: {' '.join(settings.scopes)})",
        f"  introspection client id: {settings.introspection_client_id}",
    ]
    if generated:
        lines.append(
            f"  generated introspection secret: {settings.introspection_client_secret}"
            " (pass --introspection-credentials ID:SECRET to choose them)"
        )
    approve = settings.auto_approve_email
    lines.append(f"  authorize signs in {approve} at once" if approve else "  authorize shows a sign-in page")
    return "\n".join(lines)


def _announcing_server(config: uvicorn.Config, announcement: str) -> uvicorn.Server:
    """A uvicorn server that says where it is (and the generated key) once the socket is bound."""
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                sys.stderr.write(announcement + "\n")
                sys.stderr.flush()

    return AnnouncingServer(config)
