"""The pieces every result rendering is made of: times, counts, names and the one-line user.

Every value goes through tools/untrusted.py; tools/render.py and tools/render_orgs.py build on these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tools.untrusted import shown

Renderer = Callable[[Mapping[str, Any], Mapping[str, Any]], str]


def when(unix_seconds: Any) -> str:
    if not isinstance(unix_seconds, int) or isinstance(unix_seconds, bool):
        return "never"
    try:
        moment = datetime.fromtimestamp(unix_seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        # Beyond what the platform's clock can express (year 0 or 10000, time_t overflow): say so.
        return f"invalid timestamp {unix_seconds}"
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def count_text(count: Any, noun: str) -> str:
    """ "12 members", "1 member", or "unknown members" when PropelAuth gave no number."""
    if not isinstance(count, int) or isinstance(count, bool):
        return f"unknown {noun}s"
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def full_name(user: Mapping[str, Any]) -> str:
    """The name as PropelAuth holds it (raw: for structured details, never for text)."""
    return " ".join(str(part) for part in (user.get("first_name"), user.get("last_name")) if part) or "-"


def name_text(user: Mapping[str, Any]) -> str:
    """The name for text: quoted, escaped ("-" when there is none)."""
    has_name = user.get("first_name") or user.get("last_name")
    return shown(full_name(user), quote=True) if has_name else "-"


def optional_text(value: Any) -> str:
    """A free-text field for text: quoted, escaped, "-" when empty."""
    return shown(value, quote=True) if value else "-"


def user_summary(user: Mapping[str, Any]) -> str:
    """One line: id, email, name and the states an operator acts on."""
    flags = [
        "enabled" if user.get("enabled") else "DISABLED",
        "2FA on" if user.get("mfa_enabled") else "2FA off",
    ]
    if user.get("locked"):
        flags.append("LOCKED")
    if not user.get("email_confirmed"):
        flags.append("email unconfirmed")
    return f"{shown(user.get('user_id'))} {shown(user.get('email'))} ({name_text(user)}), {', '.join(flags)}"
