"""What a confirm-gated call needs from the server: the operator's mode, the caller, and whether and
how the person at the client can be asked. The server builds one `Asking` per call; the tool layer
knows no transport and no protocol era beyond what is said here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from threading import Lock
from typing import Any, Literal, Protocol

ConfirmationMode = Literal["auto", "human", "preview", "argument"]
CONFIRMATION_MODES: tuple[ConfirmationMode, ...] = ("auto", "human", "preview", "argument")
Answer = Literal["accept", "decline", "cancel", "unavailable"]


class Sealer(Protocol):
    """Seals bytes so that only a holder of the same keys can open them, and any change is seen."""

    def seal(self, data: bytes) -> str: ...

    def unseal(self, sealed: str) -> bytes:  # raises ValueError (or a subclass) on any tampering
        ...


class SpentTokens:
    """Ids of confirmation tokens and request states already used, until they expire (per process)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._spent: dict[str, float] = {}
        self._lock = Lock()

    def spend(self, token_id: str, expires_at: float) -> bool:
        """Mark `token_id` used; False if it was used already (a replay)."""
        with self._lock:
            now = self._clock()
            self._spent = {key: exp for key, exp in self._spent.items() if exp > now}
            if token_id in self._spent:
                return False
            self._spent[token_id] = expires_at
            return True


@dataclass(frozen=True)
class Asking:
    mode: ConfirmationMode = "argument"
    caller: str | None = None
    sealer: Sealer | None = None
    spent: SpentTokens = field(default_factory=SpentTokens)
    # 2025-11-25 era, form elicitation declared and the transport carries server requests: ask now.
    ask_now: Callable[[str], Awaitable[Answer]] | None = None
    # 2026-07-28 era, form elicitation declared in this request: answer an input_required outcome.
    can_ask_later: bool = False
    # 2026-07-28 retry: our state as the SDK's boundary unsealed it, and the person's answer to it.
    state: Mapping[str, Any] | None = None
    answer: Answer | None = None
    clock: Callable[[], float] = time.time

    @property
    def can_ask(self) -> bool:
        return self.mode in ("auto", "human") and (self.ask_now is not None or self.can_ask_later)
