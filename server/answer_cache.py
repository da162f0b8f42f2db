"""A small cache of answers from PropelAuth about one token: kept until a time the answer itself
sets, least recently used dropped first, and single-flight (concurrent misses for one key make one
request; the others wait for its answer). Introspection and the operators' check both use it, so a
burst of calls with one token is one request of each kind.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

V = TypeVar("V")
MAX_ENTRIES = 10_000


@dataclass
class _Flight(Generic[V]):
    done: anyio.Event = field(default_factory=anyio.Event)
    answered: bool = False
    value: V | None = None
    error: Exception | None = None


class AnswerCache(Generic[V]):
    """key -> value until its own time; see the module docstring. Failures are never cached."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.time) -> None:
        self._entries: OrderedDict[bytes, tuple[V, float]] = OrderedDict()
        self._flights: dict[bytes, _Flight[V]] = {}
        self._max_entries = max_entries
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: bytes, ask: Callable[[], Awaitable[tuple[V, float]]]) -> V:
        """The value for `key`; on a miss `ask()` answers (value, keep until), once for all waiters."""
        while True:
            entry = self._entries.get(key)
            if entry is not None:
                if entry[1] > self._clock():
                    self._entries.move_to_end(key)
                    return entry[0]
                del self._entries[key]
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, ask)
            await flight.done.wait()
            if flight.error is not None:
                raise type(flight.error)(*flight.error.args)  # a fresh one: each waiter its own traceback
            if flight.answered:
                return flight.value  # type: ignore[return-value]  # answered: the value is a V
            # The one asking was cancelled (its client went away): ask again, maybe as the leader.

    async def _lead(self, key: bytes, ask: Callable[[], Awaitable[tuple[V, float]]]) -> V:
        flight: _Flight[V] = _Flight()
        self._flights[key] = flight
        try:
            value, until = await ask()
            flight.value, flight.answered = value, True
            self._remember(key, value, until)
            return value
        except Exception as exc:
            flight.error = exc
            raise
        finally:
            del self._flights[key]
            flight.done.set()

    def _remember(self, key: bytes, value: V, until: float) -> None:
        if until <= self._clock():
            return
        self._entries[key] = (value, until)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
