"""The sandbox's minimal sign-in page and its error page. Every value is HTML-escaped: user names
and client names are end-user data."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from starlette.responses import HTMLResponse

# No scripts, no framing, no caching, no referrer: the page carries a one-time nonce.
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>\n<body>\n{body}\n</body></html>\n"
    )


def error_page(description: str) -> HTMLResponse:
    body = f"<h1>Sign-in request refused</h1>\n<p>{escape(description)}</p>"
    return HTMLResponse(_document("Sign-in request refused", body), status_code=400, headers=_HEADERS)


def _display_name(user: Mapping[str, Any]) -> str:
    full = " ".join(part for part in (user.get("first_name"), user.get("last_name")) if part)
    return full or user.get("username") or user["email"]


def sign_in_page(
    action: str,
    client_name: str | None,
    scopes: tuple[str, ...],
    resource: str,
    carried: Mapping[str, str],
    nonce: str,
    users: list[dict[str, Any]],
) -> HTMLResponse:
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in [*carried.items(), ("nonce", nonce)]
    )
    buttons = "\n".join(
        f'<li><button type="submit" name="user_id" value="{escape(user["user_id"])}">'
        f"{escape(_display_name(user))} &lt;{escape(user['email'])}&gt;</button></li>"
        for user in users
    )
    # The person may grant fewer scopes than asked for (RFC 6749 3.3): a text field, the requested ones in it.
    grant = (
        "<p><label>Scopes to grant (remove any you do not consent to): "
        f'<input type="text" name="granted_scope" value="{escape(" ".join(scopes))}"></label></p>'
    )
    choice = (
        f"<ul>\n{buttons}\n</ul>"
        if users
        else "<p>The sandbox has no user who may sign in: create one (POST /api/backend/v1/user/).</p>"
    )
    body = (
        "<h1>PropelAuth sandbox: sign in</h1>\n"
        f"<p>{escape(client_name or 'An MCP client')} asks for {escape(' '.join(scopes))}"
        f" on {escape(resource)}.</p>\n"
        f'<form method="post" action="{escape(action)}">\n{hidden}\n{grant}\n'
        f"<p>Choose the user to sign in as:</p>\n{choice}\n</form>"
    )
    return HTMLResponse(_document("PropelAuth sandbox: sign in", body), headers=_HEADERS)
