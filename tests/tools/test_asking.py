"""The contract between the server and a confirm-gated call: modes, and single use of what was sealed."""

from __future__ import annotations

from tools.asking import Answer, Asking, SpentTokens


async def _accept(_message: str) -> Answer:
    return "accept"


def test_a_token_id_can_be_spent_once_until_it_expires_then_is_forgotten() -> None:
    now = [1000.0]
    spent = SpentTokens(clock=lambda: now[0])
    assert spent.spend("a", expires_at=1300.0) is True
    assert spent.spend("a", expires_at=1300.0) is False  # a replay
    assert spent.spend("b", expires_at=1300.0) is True
    now[0] = 1301.0  # after expiry the id is no longer kept (the token itself no longer opens)
    assert spent.spend("a", expires_at=1600.0) is True


def test_the_person_can_be_asked_only_in_the_modes_that_ask_and_when_the_client_can_answer() -> None:
    assert Asking(mode="auto", ask_now=_accept).can_ask
    assert Asking(mode="human", can_ask_later=True).can_ask
    assert not Asking(mode="preview", ask_now=_accept).can_ask
    assert not Asking(mode="argument", can_ask_later=True).can_ask
    assert not Asking(mode="auto").can_ask
