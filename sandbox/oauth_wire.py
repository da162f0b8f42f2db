"""What the OAuth endpoints share on the wire: form bodies, error bodies, client credentials, URI rules."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse

# Token answers must not be cached (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="PropelAuth sandbox"'}
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 section 4.1
_S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of 32 bytes, unpadded
MAX_FORM_BYTES = 64 * 1024


class BadRequest(Exception):
    """A request the endpoint refuses with an RFC 6749 error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def oauth_error(status: int, error: str, description: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error}
    if description:
        body["error_description"] = description
    headers = {**NO_STORE, **(_BASIC_CHALLENGE if status == 401 else {})}
    return JSONResponse(body, status_code=status, headers=headers)


def no_store_json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


def single_valued(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The parameters as a dict; a parameter sent twice is refused (RFC 6749 section 3.1)."""
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise BadRequest("invalid_request", f"the parameter {name} is given more than once")
        params[name] = value
    return params


async def form_params(request: Request) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body, as the OAuth endpoints take it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise BadRequest("invalid_request", "the body must be application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise BadRequest("invalid_request", "the body is too large")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("invalid_request", "the body is not a valid form") from None
    return single_valued(pairs)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The HTTP Basic id and secret (each form-urlencoded, RFC 6749 section 2.3.1), or None.

    A malformed header counts as credentials that match nothing.
    """
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else ("", "")


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def is_allowed_redirect_uri(uri: str) -> bool:
    """https, or http on a loopback host (native clients, RFC 8252 section 7.3); no fragment."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return False
    if parts.fragment or "#" in uri or not host or any(c.isspace() for c in uri):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS)


def is_resource_uri(uri: str) -> bool:
    """An absolute http(s) URI without a fragment (RFC 8707 section 2)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and "#" not in uri


def is_s256_challenge(challenge: str) -> bool:
    return bool(_S256_CHALLENGE.match(challenge))


def verifier_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) == challenge."""
    if not _VERIFIER.match(verifier):
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=")
    return hmac.compare_digest(computed, challenge.encode("ascii"))


def scope_words(scope: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(word for word in scope.split(" ") if word))
