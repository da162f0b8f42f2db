"""bench/load.py --auth propelauth's own parts: a bench caller signs in on the sandbox's page and its token
introspects as that user; the audit check catches a record naming the wrong caller or a missing one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.sandbox.oauth_testkit import INTROSPECTION, RESOURCE, oauth_sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _sign_in import SignedIn, create_user, sign_in, token_key
from load_oauth import misnamed

BOB = "bench-bob@example.com"


@pytest.mark.anyio
async def test_a_bench_caller_signs_in_on_the_sign_in_page_and_its_token_introspects_as_that_user() -> None:
    async with oauth_sandbox(oauth_auto_approve=None, with_alice=False) as s:
        user_id = await create_user(s.api, BOB)
        caller = await sign_in(s.http, RESOURCE, user_id, BOB, "read:users")
        answer = await s.http.post(
            "/oauth/2.1/introspect", data={"token": caller.access_token}, auth=INTROSPECTION
        )
        counts = await s.api.get("/_sandbox/oauth/introspections")
    assert caller.user_id == user_id and caller.email == BOB
    body = answer.json()
    assert body["active"] is True
    assert (body["sub"], body["email"], body["aud"], body["scope"]) == (user_id, BOB, RESOURCE, "read:users")
    assert counts.json()["by_token"] == {token_key(caller.access_token): 1}


def _record(caller: str, email: str, fetched: str) -> dict[str, object]:
    return {
        "kind": "outcome",
        "call_id": f"{caller}-{fetched}",
        "caller": caller,
        "caller_identity": {"user_id": caller, "email": email, "client_id": "c"},
        "arguments": {"user_id": fetched},
    }


def test_the_audit_check_passes_records_naming_their_callers_and_flags_wrong_or_missing_ones() -> None:
    alice, bob = SignedIn("u-alice", "alice@x.test", "t1"), SignedIn("u-bob", "bob@x.test", "t2")
    right = [_record("u-alice", "alice@x.test", "u-alice"), _record("u-bob", "bob@x.test", "u-bob")]
    assert misnamed(right, [alice, bob], calls=1) == []
    wrong_email = [right[0], _record("u-bob", "alice@x.test", "u-bob")]
    assert len(misnamed(wrong_email, [alice, bob], calls=1)) == 1
    wrong_target = [right[0], _record("u-bob", "bob@x.test", "u-alice")]
    assert len(misnamed(wrong_target, [alice, bob], calls=1)) == 1
    assert len(misnamed(right[:1], [alice, bob], calls=1)) == 1  # bob's record is missing
