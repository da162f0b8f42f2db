"""Reading what came back from "PropelAuth": whose answer it is, what a failure was, how long to wait.

Pure functions over statuses, headers and bytes, used by the PropelAuth client and the start-up check.
Nothing here ever puts the API key in a text: callers pass it so that it can be scrubbed.
"""

from __future__ import annotations

import datetime
import email.utils
import re
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2

from tools.backend import rate_limit_wait_s, sane_wait_s
from tools.secrets import REDACTED

_DELAY_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)  # Retry-After: delay-seconds (a fraction too)
_TOKEN = re.compile(r"[^A-Za-z0-9._/()+ -]")  # what a Server header may show of itself
_HTML_TYPES = ("text/html", "application/xhtml+xml")
IDENTITY_PATH = "/api/v1/token_verification_metadata"  # read-only, needs the key; PropelAuth's own


def host_of(url: httpx2.URL) -> str:
    """host[:port] of a URL, never its user-info."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{url.port}" if url.port else host


# --- whose answer is it ---------------------------------------------------------------------------


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").partition(";")[0].strip().lower()


def is_html(headers: Mapping[str, str], content: bytes) -> bool:
    """An HTML page: so typed, or an untyped or text body that starts like markup (not broken JSON)."""
    media = _media_type(headers)
    if media in _HTML_TYPES:
        return True
    return (not media or media.startswith("text/")) and content.lstrip()[:1] == b"<"


def seen_text(status: int, headers: Mapping[str, str], content: bytes) -> str:
    """What an answer looked like, in a few words: "HTTP 404 with an HTML page (server: nginx)"."""
    if is_html(headers, content):
        what = "an HTML page"
    elif not content:
        what = "an empty body"
    else:
        what = f"a body of type {_media_type(headers) or 'none given'}"
    server = _TOKEN.sub("", headers.get("server", ""))[:40].strip()
    return f"HTTP {status} with {what}" + (f" (server: {server})" if server else "")


def strange_answer(status: int, headers: Mapping[str, str], content: bytes) -> str | None:
    """What was seen, when PropelAuth's API would never answer so; None for a plausible answer.

    5xx and 429 are left alone: a proxy in front of PropelAuth answers those with HTML pages too.
    """
    if status >= 500 or status == 429:
        return None
    if 300 <= status < 400:
        location = headers.get("location", "")
        target = host_of(httpx2.URL(location)) if location.startswith(("http://", "https://")) else ""
        return f"HTTP {status}, a redirect" + (f" to {_TOKEN.sub('', target)[:80]}" if target else "")
    if is_html(headers, content):
        return seen_text(status, headers, content)
    return None


@dataclass(frozen=True)
class Identity:
    """How a host answered PropelAuth's token-verification endpoint (IDENTITY_PATH) with the key."""

    is_propelauth: bool  # answered as only PropelAuth does (a verifier key for this API key)
    key_refused: bool  # answered 401/403, as PropelAuth does for a wrong or weaker key
    seen: str  # what was seen, for a message


def propelauth_identity(status: int, body: Any, seen: str) -> Identity:
    """Read the answer to GET IDENTITY_PATH: only PropelAuth hands out a verifier key for this key."""
    if 200 <= status < 300 and isinstance(body, dict):
        pem = body.get("verifier_key_pem")
        if isinstance(pem, str) and "PUBLIC KEY" in pem:
            return Identity(True, False, seen)
    return Identity(False, status in (401, 403), seen)


def not_propelauth_text(host: str, seen: str) -> str:
    return f"this does not look like PropelAuth at {host}: {seen}; check PROPELAUTH_AUTH_URL (--auth-url)"


# --- what a connection failure was ----------------------------------------------------------------

_CAUSE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"not known|nodename nor servname|getaddrinfo|name resolution|no address", re.I),
        "DNS lookup failed (no such host name)",
    ),
    (re.compile(r"refused", re.I), "connection refused (nothing listens on that port)"),
    (re.compile(r"certificate", re.I), "TLS certificate not accepted"),
    (re.compile(r"ssl|tls", re.I), "TLS handshake failed"),
    (re.compile(r"timed? ?out", re.I), "timed out"),
    (re.compile(r"unreachable", re.I), "network unreachable"),
    (re.compile(r"reset", re.I), "connection reset"),
    (re.compile(r"disconnected|closed", re.I), "the server closed the connection"),
)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def connection_failure_cause(exc: BaseException, key: str | None = None) -> str:
    """The cause of a connection failure in a few words (DNS, refused, TLS, timeout), never the key."""
    chain = _chain(exc)
    for link in chain:
        if isinstance(link, socket.gaierror):
            return "DNS lookup failed (no such host name)"
        if isinstance(link, ConnectionRefusedError):
            return "connection refused (nothing listens on that port)"
        if isinstance(link, ssl.SSLCertVerificationError):
            detail = link.verify_message or "verification failed"
            return f"TLS certificate not accepted ({_clip(detail, key)})"
        if isinstance(link, ssl.SSLError):
            return f"TLS handshake failed ({_clip(link.reason or 'SSL error', key)})"
        if isinstance(link, TimeoutError):
            return "timed out"
        if isinstance(link, ConnectionResetError):
            return "connection reset"
    message = " ".join(str(link) for link in chain)
    for pattern, cause in _CAUSE_PATTERNS:
        if pattern.search(message):
            return cause
    return f"{type(exc).__name__}: {_clip(str(exc) or 'no detail', key)}"


def _clip(text: str, key: str | None) -> str:
    if key:
        text = text.replace(key, REDACTED)
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


# --- how long a 429 asks us to wait -----------------------------------------------------------------


def retry_after_s(headers: Mapping[str, str], body: Any, *, now: float | None = None) -> float | None:
    """The wait a 429 names: PropelAuth's plain-text body first, else a Retry-After header.

    Anything unusable (a word, a negative number, "1e400", a malformed date) is ignored, never raised;
    a huge wait is clamped (to a day), and the caller gives up at once on a wait past its budget.
    """
    named = rate_limit_wait_s(body)
    if named is not None:
        return named
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if _DELAY_SECONDS.fullmatch(value):
        return sane_wait_s(float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a zone-less one ("-0000") is taken as such
        when = when.replace(tzinfo=datetime.UTC)
    try:
        delta = when.timestamp() - (time.time() if now is None else now)
    except (OverflowError, OSError, ValueError):
        return None
    return sane_wait_s(max(delta, 0.0))
