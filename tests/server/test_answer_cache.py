"""The answer cache under introspection and the operators' check: single-flight, kept until the time
each answer sets, bounded, failures never kept."""

from __future__ import annotations

import anyio
import pytest

from server.answer_cache import AnswerCache

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Asker:
    """Answers `value` until `now + keep_s`, after `gate` opens; counts the questions."""

    def __init__(self, clock: Clock, value: str = "yes", keep_s: float = 60) -> None:
        self.clock, self.value, self.keep_s = clock, value, keep_s
        self.questions = 0
        self.gate = anyio.Event()
        self.gate.set()

    async def __call__(self) -> tuple[str, float]:
        self.questions += 1
        await self.gate.wait()
        return self.value, self.clock.now + self.keep_s


async def test_concurrent_misses_for_one_key_ask_once_and_all_get_the_answer() -> None:
    clock = Clock()
    cache: AnswerCache[str] = AnswerCache(clock=clock)
    asker = Asker(clock)
    asker.gate = anyio.Event()
    answers: list[str] = []

    async def get() -> None:
        answers.append(await cache.get(b"k", asker))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(get)
            await anyio.wait_all_tasks_blocked()
            asker.gate.set()
    assert (asker.questions, answers) == (1, ["yes"] * 20)


async def test_an_answer_is_kept_until_its_own_time_then_asked_again() -> None:
    clock = Clock()
    cache: AnswerCache[str] = AnswerCache(clock=clock)
    asker = Asker(clock, keep_s=10)
    await cache.get(b"k", asker)
    clock.now += 9
    await cache.get(b"k", asker)
    clock.now += 2
    await cache.get(b"k", asker)
    assert asker.questions == 2


async def test_an_answer_already_past_its_time_is_not_kept() -> None:
    clock = Clock()
    cache: AnswerCache[str] = AnswerCache(clock=clock)
    asker = Asker(clock, keep_s=0)
    await cache.get(b"k", asker)
    await cache.get(b"k", asker)
    assert (asker.questions, len(cache)) == (2, 0)


async def test_the_least_recently_used_answer_goes_first_past_the_bound() -> None:
    clock = Clock()
    cache: AnswerCache[str] = AnswerCache(max_entries=2, clock=clock)
    asker = Asker(clock)
    for key in (b"a", b"b", b"a", b"c"):  # b is the least recently used when c arrives
        await cache.get(key, asker)
    questions = asker.questions
    await cache.get(b"a", asker)
    assert asker.questions == questions
    await cache.get(b"b", asker)
    assert (asker.questions, len(cache)) == (questions + 1, 2)


async def test_a_failure_reaches_every_waiter_and_is_never_kept() -> None:
    clock = Clock()
    cache: AnswerCache[str] = AnswerCache(clock=clock)
    gate = anyio.Event()
    calls = 0

    async def failing() -> tuple[str, float]:
        nonlocal calls
        calls += 1
        await gate.wait()
        raise LookupError("PropelAuth is down")

    errors: list[BaseException] = []

    async def get() -> None:
        try:
            await cache.get(b"k", failing)
        except LookupError as exc:
            errors.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(get)
            await anyio.wait_all_tasks_blocked()
            gate.set()
    assert [str(e) for e in errors] == ["PropelAuth is down"] * 3 and calls == 1
    with pytest.raises(LookupError):
        await cache.get(b"k", failing)
    assert calls == 2


async def test_when_the_one_asking_is_cancelled_a_waiter_asks_again() -> None:
    clock = Clock()
    cache: AnswerCache[str] = AnswerCache(clock=clock)
    asker = Asker(clock)
    asker.gate = anyio.Event()
    got: list[str] = []
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            leader = anyio.CancelScope()

            async def lead() -> None:
                with leader:
                    await cache.get(b"k", asker)

            async def wait() -> None:
                got.append(await cache.get(b"k", asker))

            tg.start_soon(lead)
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(wait)
            await anyio.wait_all_tasks_blocked()
            leader.cancel()
            await anyio.wait_all_tasks_blocked()
            asker.gate.set()
    assert got == ["yes"] and asker.questions == 2
