"""Named bearer tokens for the HTTP transport: parsing, constant-time lookup, and the ASGI gate.

Tokens come as `name=token` pairs (`PROPELAUTH_MCP_TOKENS="alice=...,ci-bot=..."`, or a file with one
pair per line or comma-separated, `#` comments allowed). A request to the MCP endpoint must carry
`Authorization: Bearer <token>`; the gate answers 401 with `WWW-Authenticate` otherwise, before the
MCP SDK (and so any tool code) sees the request, and puts the token's *name* on the ASGI scope for
the audit trail. Tokens themselves are never logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from server.callers import Caller

MIN_TOKEN_LENGTH = 16
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
REALM = "propelauth-mcp"
GENERATE_HINT = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'


class TokenTable:
    """name -> token; `identify` compares a presented token with every known one in constant time."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        # Compare fixed-length digests, so neither the length nor the content of a token leaks by timing.
        self._entries = [(name, hashlib.sha256(token.encode()).digest()) for name, token in tokens.items()]
        self._secrets = tuple(tokens.values())

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._entries]

    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def identify(self, presented: str) -> str | None:
        digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        found: str | None = None
        for name, expected in self._entries:  # no early exit: every entry is compared
            if hmac.compare_digest(digest, expected):
                found = name
        return found


def parse_tokens(text: str, *, source: str) -> dict[str, str]:
    """Parse `name=token` pairs separated by commas or newlines; raises ValueError naming the bad entry.

    Errors give the entry's position, never its text: a token pasted without `name=` would be
    taken for a name.
    """
    tokens: dict[str, str] = {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        if raw_line.lstrip().startswith("#"):
            continue
        for part in raw_line.split(","):
            entry = part.strip()
            if not entry:
                continue
            where = f"{source} entry {len(tokens) + 1}" + (f" (line {number})" if "\n" in text else "")
            name, sep, token = (s.strip() for s in entry.partition("="))
            if not sep or not name or not token:
                raise ValueError(f"{where}: expected name=token")
            if not _NAME.match(name):
                raise ValueError(f"{where}: the name must be 1-64 letters, digits, '.', '_', '@' or '-'")
            if name in tokens:
                raise ValueError(f"{where}: the name appears twice")
            if len(token) < MIN_TOKEN_LENGTH:
                raise ValueError(
                    f"{where}: the token is shorter than {MIN_TOKEN_LENGTH} characters; " + GENERATE_HINT
                )
            if any(c.isspace() for c in token):
                raise ValueError(f"{where}: the token contains whitespace")
            if token in tokens.values():
                raise ValueError(f"{where}: the token is also another name's token")
            tokens[name] = token
    return tokens


def load_tokens(inline: str | None, file: Path | None) -> TokenTable:
    """The union of the inline tokens and the file's; a name may appear in only one place."""
    tokens: dict[str, str] = {}
    sources: list[tuple[str, str]] = []
    if inline:
        sources.append((inline, "PROPELAUTH_MCP_TOKENS"))
    if file is not None:
        try:
            sources.append((file.read_text(encoding="utf-8"), f"PROPELAUTH_MCP_TOKENS_FILE {file}"))
        except OSError as exc:
            raise ValueError(
                f"PROPELAUTH_MCP_TOKENS_FILE: cannot read {file}: {exc.strerror or exc}"
            ) from exc
    for text, source in sources:
        for name, token in parse_tokens(text, source=source).items():
            if name in tokens:
                raise ValueError(f"{source}: a name is defined twice")
            if token in tokens.values():
                raise ValueError(f"{source}: a token is given to two names")
            tokens[name] = token
    if (inline or file is not None) and not tokens:
        raise ValueError("PROPELAUTH_MCP_TOKENS / PROPELAUTH_MCP_TOKENS_FILE define no token")
    return TokenTable(tokens)


def bearer_of(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), else None."""
    values = [value for key, value in headers if key == b"authorization"]
    if len(values) != 1:
        return None
    scheme, _, token = values[0].decode("latin-1").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def send_refusal(
    send: Send,
    status: int,
    body: dict[str, str],
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """An auth refusal (401, 403, 503): a JSON body, never cached, with the given extra headers."""
    encoded = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(encoded)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": encoded})


async def unauthorized(send: Send, *, error: str | None, description: str) -> None:
    challenge = f'Bearer realm="{REALM}"'
    if error:
        challenge += f', error="{error}", error_description="{description}"'
    body = {"error": error or "unauthorized", "error_description": description}
    await send_refusal(send, 401, body, [(b"www-authenticate", challenge.encode())])


class BearerTokenGate:
    """ASGI middleware: only requests with a known bearer token pass, with the token's name in the scope."""

    def __init__(self, app: ASGIApp, tokens: TokenTable, *, scope_key: str) -> None:
        self.app = app
        self.tokens = tokens
        self.scope_key = scope_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = bearer_of(scope["headers"])
        if presented is None:
            await unauthorized(send, error=None, description="Authorization: Bearer <token> is required")
            return
        name = self.tokens.identify(presented)
        if name is None:
            await unauthorized(send, error="invalid_token", description="the bearer token is not recognised")
            return
        scope[self.scope_key] = Caller(name)
        await self.app(scope, receive, send)


class AnonymousCaller:
    """ASGI middleware for --no-auth on loopback: no gate, but the audit still names the caller."""

    def __init__(self, app: ASGIApp, *, scope_key: str, name: str = "anonymous") -> None:
        self.app = app
        self.scope_key = scope_key
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[self.scope_key] = Caller(self.name)
        await self.app(scope, receive, send)
