"""The `propelauth-mcp` command: serve MCP (stdio or HTTP), run the sandbox, verify an audit file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from server import __version__
from server.console import say

EXIT_CONFIG = 2

DESCRIPTION = """\
An MCP server that gives AI agents the PropelAuth user-management API as tools.

Every flag has an environment variable (shown in brackets); flags win. Without --sandbox,
PROPELAUTH_AUTH_URL and PROPELAUTH_API_KEY are required.

other commands:
  propelauth-mcp sandbox [--host H] [--port P] [--api-key KEY] [--db PATH] [--seed]
                         serve the local PropelAuth emulator over HTTP (see `propelauth-mcp sandbox --help`)
  propelauth-mcp audit verify PATH
                         check an audit file's hash chain; exit 1 at the first edited, removed or
                         reordered record, 0 with the count of good records
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="propelauth-mcp", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--version", action="version", version=f"propelauth-mcp {__version__}")
    g = p.add_argument_group("PropelAuth")
    g.add_argument(
        "--auth-url", help="your PropelAuth Auth URL, e.g. https://auth.acme.com [PROPELAUTH_AUTH_URL]"
    )
    g.add_argument("--api-key", help="backend integration API key; prefer the env var [PROPELAUTH_API_KEY]")
    g.add_argument(
        "--api-base-url",
        help="send requests here (e.g. https://propelauth-api.com) with the Auth URL's host in "
        "X-Propelauth-url [PROPELAUTH_API_BASE_URL]",
    )
    g.add_argument(
        "--timeout",
        dest="timeout_s",
        type=float,
        help="seconds per request (default 10) [PROPELAUTH_TIMEOUT]",
    )
    g.add_argument(
        "--max-retries",
        type=int,
        help="retries of reads on 429/502/503/504 (default 3) [PROPELAUTH_MAX_RETRIES]",
    )
    g.add_argument(
        "--retry-budget",
        dest="retry_budget_s",
        type=float,
        help="seconds a read may spend on retries in all (default 15) [PROPELAUTH_RETRY_BUDGET]",
    )
    g.add_argument(
        "--max-in-flight",
        type=int,
        help="PropelAuth requests in flight at once (default 8) [PROPELAUTH_MAX_IN_FLIGHT]",
    )
    g = p.add_argument_group("sandbox")
    g.add_argument(
        "--sandbox",
        action="store_true",
        default=None,
        help="run against the in-process PropelAuth emulator: no account, no network "
        "[PROPELAUTH_MCP_SANDBOX]",
    )
    g.add_argument(
        "--sandbox-db",
        help="sandbox SQLite file (default $XDG_STATE_HOME/propelauth-mcp/sandbox.db, seeded with demo "
        "users when first created; ':memory:' for a throwaway one) [PROPELAUTH_MCP_SANDBOX_DB]",
    )
    g = p.add_argument_group("least privilege")
    g.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="offer only read-only tools [PROPELAUTH_MCP_READ_ONLY]",
    )
    g.add_argument(
        "--toolsets",
        help="comma-separated toolsets to offer: users, magic_links, access_tokens, migration, sessions, "
        "employees [PROPELAUTH_MCP_TOOLSETS]",
    )
    g.add_argument(
        "--tools", help="comma-separated tool names to offer; overrides --toolsets [PROPELAUTH_MCP_TOOLS]"
    )
    g.add_argument(
        "--exclude-tools", help="comma-separated tool names to withhold [PROPELAUTH_MCP_EXCLUDE_TOOLS]"
    )
    g.add_argument(
        "--destructive-limit",
        type=int,
        help="confirmed destructive calls allowed per window (default 10; 0 forbids them) "
        "[PROPELAUTH_MCP_DESTRUCTIVE_LIMIT]",
    )
    g.add_argument(
        "--destructive-window",
        dest="destructive_window_s",
        type=float,
        help="the window in seconds (default 3600) [PROPELAUTH_MCP_DESTRUCTIVE_WINDOW]",
    )
    g = p.add_argument_group("audit and logs")
    g.add_argument(
        "--audit-log",
        type=Path,
        help="audit JSON-lines file (default $XDG_STATE_HOME/propelauth-mcp/audit.jsonl) "
        "[PROPELAUTH_MCP_AUDIT_LOG]",
    )
    g.add_argument(
        "--no-audit-stderr",
        dest="audit_stderr",
        action="store_false",
        default=None,
        help="do not echo audit records to stderr [PROPELAUTH_MCP_AUDIT_STDERR]",
    )
    g.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="[PROPELAUTH_MCP_LOG_LEVEL]"
    )
    g = p.add_argument_group("transport")
    g.add_argument(
        "--transport",
        choices=["stdio", "http"],
        help="stdio (default) or Streamable HTTP [PROPELAUTH_MCP_TRANSPORT]",
    )
    g.add_argument("--host", help="HTTP bind address (default 127.0.0.1) [PROPELAUTH_MCP_HOST]")
    g.add_argument("--port", type=int, help="HTTP port (default 8000) [PROPELAUTH_MCP_PORT]")
    g = p.add_argument_group("HTTP authentication and origin checks (--transport http)")
    g.add_argument(
        "--tokens",
        dest="http_tokens",
        help="callers' named bearer tokens, name=token[,name=token...]; the audit records the name; prefer "
        "the env var [PROPELAUTH_MCP_TOKENS]",
    )
    g.add_argument(
        "--tokens-file",
        dest="http_tokens_file",
        type=Path,
        help="file of name=token pairs, one per line, '#' comments [PROPELAUTH_MCP_TOKENS_FILE]",
    )
    g.add_argument(
        "--no-auth",
        action="store_true",
        default=None,
        help="serve without tokens; refused unless bound to loopback [PROPELAUTH_MCP_NO_AUTH]",
    )
    g.add_argument(
        "--allowed-hosts",
        help="comma-separated Host values accepted ('name:*' for any port; default: loopback names and "
        "the bind address) [PROPELAUTH_MCP_ALLOWED_HOSTS]",
    )
    g.add_argument(
        "--allowed-origins",
        help="comma-separated browser Origins accepted (default: http://localhost:*, http://127.0.0.1:*, "
        "http://[::1]:*) [PROPELAUTH_MCP_ALLOWED_ORIGINS]",
    )
    g.add_argument(
        "--trusted-proxies",
        help="comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed "
        "(default: none; the peer address is used) [PROPELAUTH_MCP_TRUSTED_PROXIES]",
    )
    g.add_argument(
        "--request-state-keys",
        help="comma-separated secrets (>= 32 bytes each, the first seals) that every replica shares, so "
        "state sealed by one replica opens on another (default: a per-process key) "
        "[PROPELAUTH_MCP_REQUEST_STATE_KEYS]",
    )
    g.add_argument(
        "--http-max-concurrent",
        type=int,
        help="MCP requests handled at once over HTTP; more wait their turn (default 32) "
        "[PROPELAUTH_MCP_HTTP_MAX_CONCURRENT]",
    )
    return p


def _fail(message: str) -> int:
    say(message)
    return EXIT_CONFIG


def _flag_for(dest: str) -> str:
    for action in _parser()._actions:
        if action.dest == dest and action.option_strings:
            return action.option_strings[0]
    return "--" + dest.replace("_", "-")


def _settings_error(exc: ValidationError) -> str:
    from server.settings import Settings
    from server.settings_errors import describe

    return describe(exc, Settings.model_fields, _flag_for)


def load_settings(args: argparse.Namespace) -> Any:
    from server.settings import Settings

    overrides = {key: value for key, value in vars(args).items() if value is not None}
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        from sandbox.standalone import main as sandbox_main

        return sandbox_main(argv[1:])
    if argv[:1] == ["audit"]:
        return _audit_command(argv[1:])
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args)
    except ValidationError as exc:
        return _fail(_settings_error(exc))
    from server.run import serve

    try:
        return serve(settings)
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:  # a bad tool selection, found when the tool surface is built
        return _fail(str(exc))


def _audit_command(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="propelauth-mcp audit", description="Audit trail commands.")
    sub = p.add_subparsers(dest="command", required=True)
    verify_p = sub.add_parser("verify", help="check an audit file's hash chain")
    verify_p.add_argument("path", type=Path)
    args = p.parse_args(argv)
    from server.audit import verify

    if not args.path.is_file():
        return _fail(f"no audit file at {args.path}")
    good, problem = verify(args.path)
    if problem:
        print(f"BROKEN after {good} good records: {problem}", file=sys.stderr)
        return 1
    print(f"OK: {good} records, chain intact", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
