"""Show a value from PropelAuth or from the arguments in our text so that it cannot pass for our text.

End users write their own names, usernames and metadata; an agent reads our result text as the
server's words. So a value shown in text keeps to its place: every character that is not printable
(Python's `str.isprintable`: controls C0/C1, line and paragraph separators, format characters "Cf"
such as bidi controls, zero-width characters and tag characters, unassigned and private-use code
points) is shown as an escape (\\n, \\x1b, \\u202e, \\U000e0041) rather than passed on or silently
dropped, and a value that could be mistaken for the row around it is quoted, JSON-style.
Structured content is never rendered through here: it stays the faithful JSON.
"""

from __future__ import annotations

import json
from typing import Any

_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}
# What our rows and sentences use as separators and quotes: a bare value holds none of them.
_STRUCTURE = frozenset(" ()[],;'\"\\`")


def escape_char(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escaped(text: str) -> str:
    """`text` with every non-printable character escaped; printable text (backslashes too) unchanged.

    For a message that already quotes its values (e.g. a validation error) or a backend's own words.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else escape_char(char) for char in text)


def shown(value: Any, *, quote: bool = False) -> str:
    """An untrusted value for text: bare when it is a plain token (an id, an email, a link), else quoted.

    `quote=True` always quotes (free text such as names, so a row reads the same whatever they hold).
    Non-strings are shown as compact JSON (numbers, true/false, null, objects).
    """
    if not isinstance(value, str):
        return escaped(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))
    if not quote and _is_bare(value):
        return value
    inner = "".join(
        escape_char(char) if char in _SHORT_ESCAPES or not char.isprintable() else char for char in value
    )
    return f'"{inner}"'


def _is_bare(text: str) -> bool:
    # Printable excludes every space but " ", and " " is structure.
    return bool(text) and text.isprintable() and _STRUCTURE.isdisjoint(text)
