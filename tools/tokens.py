"""What a confirmation is bound to, and the sealed token that carries it from a preview to its call.

A preview mints a token binding the caller, the tool, the exact arguments and the target as it was
read; the confirmed call must bring it back unchanged, in time, once. The same digests bind the state
of a question put to the person (the 2026-07-28 multi-round-trip form). Sealing is the server's
(`tools.asking.Sealer`); nothing here knows MCP or a transport.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.asking import Sealer, SpentTokens

TOKEN_ARGUMENT = "confirmation_token"
CONFIRMATION_TTL_S = 300  # minutes, for a person to read a preview and decide
_VERSION = 1
# The arguments that confirm a call, not those that say what it does: left out of the digest.
_CONFIRMING = frozenset({"confirm", TOKEN_ARGUMENT})


def canonical(value: Any) -> bytes:
    """One byte string per JSON value, whatever the key order (the digests compare these)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def arguments_digest(arguments: Mapping[str, Any]) -> str:
    return digest({name: value for name, value in arguments.items() if name not in _CONFIRMING})


def same(a: object, b: object) -> bool:
    """Two digests (or names) equal, compared in constant time; anything not a string differs."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class Binding:
    """What one confirmation is for: who calls, which tool, with what, on the target as read."""

    caller: str | None
    tool: str
    arguments: str  # arguments_digest
    target: str  # digest of the preview's facts


class TokenRefused(Exception):
    """A token that confirms nothing; `reason` is the audit's code, the text says what to do."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.text = text


def mint(sealer: Sealer, binding: Binding, now: float) -> str:
    claims = {
        "v": _VERSION,
        "iat": int(now),
        "exp": int(now) + CONFIRMATION_TTL_S,
        "jti": secrets.token_urlsafe(16),
        "caller": binding.caller or "",
        "tool": binding.tool,
        "args": binding.arguments,
        "target": binding.target,
    }
    return sealer.seal(canonical(claims))


def open_token(sealer: Sealer, token: object, binding: Binding, now: float) -> dict[str, Any]:
    """The claims of `token` if it is ours, unexpired, and for this caller, tool and arguments.

    The target is checked apart (`check_target`), after a fresh read; the token is spent last
    (`spend`), so that a refused call leaves a good token usable.
    """
    if not isinstance(token, str) or not token:
        raise TokenRefused("confirmation_token_missing", "confirm: true needs the confirmation_token")
    try:
        claims = json.loads(sealer.unseal(token))
    except ValueError:  # InvalidRequestState, a bad seal, bad JSON: all the same to the caller
        raise TokenRefused("confirmation_token_invalid", "the confirmation_token is not valid") from None
    if not isinstance(claims, dict) or claims.get("v") != _VERSION:
        raise TokenRefused("confirmation_token_invalid", "the confirmation_token is not valid")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now:
        raise TokenRefused("confirmation_token_expired", "the confirmation_token has expired")
    for claim, expected, what in (
        ("caller", binding.caller or "", "another caller"),
        ("tool", binding.tool, "another tool"),
        ("args", binding.arguments, "other arguments"),
    ):
        if not same(claims.get(claim), expected):
            raise TokenRefused("confirmation_token_mismatch", f"the confirmation_token is for {what}")
    return claims


def check_target(claims: Mapping[str, Any], target: str) -> None:
    if not same(claims.get("target"), target):
        raise TokenRefused("target_changed", "the target has changed since the preview")


def spend(spent: SpentTokens, claims: Mapping[str, Any]) -> None:
    """Use the token up: a second call with it is a replay."""
    if not spent.spend(str(claims.get("jti")), float(claims["exp"])):
        raise TokenRefused("confirmation_token_reused", "the confirmation_token was used already")


# The state of a question put to the person (sealed by the server's request-state boundary).


def question_state(tool: str, message: str, target: str, now: float) -> dict[str, Any]:
    return {
        "v": _VERSION,
        "tool": tool,
        "nonce": secrets.token_urlsafe(16),
        "question": digest(message),
        "target": target,
        "exp": int(now) + CONFIRMATION_TTL_S,
    }


def check_state(
    state: Mapping[str, Any], tool: str, message: str, target: str, now: float, spent: SpentTokens
) -> None:
    """The answer is to this question, about this target as read again, in time, and the first one."""
    exp = state.get("exp")
    if state.get("v") != _VERSION or not same(state.get("tool"), tool) or not isinstance(exp, int):
        raise TokenRefused("state_invalid", "the answer is not to a question of this call")
    if exp <= now:
        raise TokenRefused("state_expired", "the question has expired")
    if not same(state.get("target"), target) or not same(state.get("question"), digest(message)):
        raise TokenRefused("target_changed", "the target has changed since the person was asked")
    nonce = state.get("nonce")
    if not isinstance(nonce, str) or not spent.spend(f"state:{nonce}", float(exp)):
        raise TokenRefused("state_reused", "this answer was used already")
