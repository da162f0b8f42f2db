"""The per-caller policy grammar: `key=policy;key=policy`, for OAuth scopes and static token names alike.

A policy is terms joined by `+`: `all`, `read-only`, `toolsets:a,b`, `tools:a,b`, `exclude:a,b`, e.g.
`read:users=read-only;admin:users=all;support=toolsets:users+read-only`. The key is split at the first
`=` (scopes may hold `:`, never `=` in a useful way). Each policy becomes the same ExposurePolicy the
server's own filters are, so a term means for one caller what the flag means for the whole server.

Errors name the entry's position and the bad term, never the whole value (an operator who swaps two
variables must not see a secret echoed in a start-up error).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tools import ExposurePolicy, tool_definitions
from tools.catalog import ALL_TOOLSETS, TOOLSETS

ENTRY_SEPARATOR = ";"
TERM_SEPARATOR = "+"
LIST_TERMS = ("toolsets", "tools", "exclude")
# A term this long is not shown: it may be a token pasted into the wrong variable (tokens are >= 16).
SHOWN_TERM_CHARS = 15
# RFC 6749 section 3.3 scope-token: printable ASCII except space, '"' and '\' (it goes into a header).
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
_TOKEN_NAME = re.compile(r"^\S+$")


def is_scope_token(text: str) -> bool:
    return _SCOPE.match(text) is not None


def parse_scope_policies(text: str) -> dict[str, ExposurePolicy]:
    """PROPELAUTH_MCP_SCOPES: OAuth scope -> what a token carrying that scope may use."""
    return parse_policies(text, key_kind="scope", key_ok=_SCOPE.match)


def parse_token_policies(text: str) -> dict[str, ExposurePolicy]:
    """PROPELAUTH_MCP_TOKEN_POLICIES: static token name -> what that token's caller may use."""
    return parse_policies(text, key_kind="token name", key_ok=_TOKEN_NAME.match)


def parse_policies(text: str, *, key_kind: str, key_ok: Callable[[str], object]) -> dict[str, ExposurePolicy]:
    """Raise ValueError naming the entry's position (1-based, counted by ';') and what is wrong with it."""
    policies: dict[str, ExposurePolicy] = {}
    for number, raw in enumerate(text.split(ENTRY_SEPARATOR), start=1):
        entry = raw.strip()
        if not entry:
            continue  # a trailing ';' or a blank between two
        where = f"entry {number}"
        key, sep, policy_text = (part.strip() for part in entry.partition("="))
        if not sep or not key or not policy_text:
            raise ValueError(f"{where}: expected {key_kind}=policy")
        if not key_ok(key):
            raise ValueError(f"{where}: {_shown(key)} is not a valid {key_kind}")
        if key in policies:
            raise ValueError(f"{where}: the {key_kind} {key!r} appears twice")
        policies[key] = parse_policy(policy_text, where=where)
    if not policies:
        raise ValueError(f"no entry: expected {key_kind}=policy[;{key_kind}=policy...]")
    return policies


def parse_policy(text: str, *, where: str) -> ExposurePolicy:
    """One policy (`all`, `read-only`, `toolsets:a,b`, `tools:a,b`, `exclude:a,b`, joined by '+')."""
    seen: set[str] = set()
    lists: dict[str, frozenset[str]] = {}
    read_only = False
    for raw_term in text.split(TERM_SEPARATOR):
        term = raw_term.strip()
        kind, colon, names_text = (part.strip() for part in term.partition(":"))
        if kind in seen:
            raise ValueError(f"{where}: {kind!r} appears twice in one policy")
        if term == "all":
            pass
        elif term == "read-only":
            read_only = True
        elif colon and kind in LIST_TERMS:
            names = frozenset(name.strip() for name in names_text.split(",") if name.strip())
            if not names:
                raise ValueError(f"{where}: {kind}: names no {'toolset' if kind == 'toolsets' else 'tool'}")
            lists[kind] = names
        else:
            raise ValueError(
                f"{where}: unknown term {_shown(term)}; a policy is all, read-only, toolsets:a,b, "
                "tools:a,b or exclude:a,b, joined with '+'"
            )
        seen.add(kind)
    if "all" in seen and seen & {"toolsets", "tools"}:
        raise ValueError(f"{where}: 'all' and toolsets:/tools: contradict each other; give one")
    if {"toolsets", "tools"} <= seen:
        raise ValueError(f"{where}: tools: replaces toolsets: (as --tools does --toolsets); give one")
    toolsets = lists.get("toolsets")
    if toolsets is not None and ALL_TOOLSETS in toolsets:
        toolsets = frozenset(TOOLSETS)
    policy = ExposurePolicy(
        read_only=read_only, toolsets=toolsets, tools=lists.get("tools"), exclude_tools=lists.get("exclude")
    )
    try:
        policy.check_names(tool_definitions())
    except ValueError as exc:  # it lists the valid toolsets or tools
        raise ValueError(f"{where}: {exc}") from None
    return policy


def _shown(text: str) -> str:
    """A bad term as an error may show it: quoted when short, else only its length."""
    return repr(text) if len(text) <= SHOWN_TERM_CHARS else f"of {len(text)} characters (not shown)"
