"""The bearer-token gate and its token table, on their own: who gets in, under which name, and what the
refusals say (token parsing rules that the start-up tests do not reach)."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.types import Receive, Scope, Send

from server.http_auth import (
    MIN_TOKEN_LENGTH,
    AnonymousCaller,
    BearerTokenGate,
    TokenTable,
    load_tokens,
    parse_tokens,
)

A = "a" * MIN_TOKEN_LENGTH
B = "b" * MIN_TOKEN_LENGTH
KEY = "propelauth_mcp.caller"


async def echo_caller(scope: Scope, receive: Receive, send: Send) -> None:
    """The protected app: answers 200 with the caller name the middleware put on the scope and the
    request body it received."""
    request = await receive()
    caller = scope.get(KEY)
    body = json.dumps(
        {"caller": caller.name if caller else None, "body": request.get("body", b"").decode()}
    ).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


async def post(app: Callable[..., Any], headers: dict[str, str] | None = None) -> httpx2.Response:
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://gate.test"
    ) as client:
        return await client.post("/mcp", headers=headers or {}, content=b"ping")


async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers a lifespan startup, so the scope and both channels must have reached it."""
    if scope["type"] == "lifespan" and (await receive())["type"] == "lifespan.startup":
        await send({"type": "lifespan.startup.complete"})


async def lifespan_through(app: Callable[..., Any]) -> list[dict[str, Any]]:
    """The lifespan scope after the app ran, then the messages it sent, for one startup."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "lifespan"}
    await app(scope, receive, send)
    return [scope, *sent]


def gate() -> BearerTokenGate:
    return BearerTokenGate(echo_caller, load_tokens(f"alice={A},bob={B}", None), scope_key=KEY)


# --- the gate ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_known_token_passes_with_its_name_on_the_scope_and_the_request_intact() -> None:
    response = await post(gate(), {"Authorization": f"Bearer {B}"})
    assert response.status_code == 200
    assert response.json() == {"caller": "bob", "body": "ping"}


@pytest.mark.anyio
async def test_a_request_without_a_token_gets_a_bare_bearer_challenge() -> None:
    response = await post(gate())
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="propelauth-mcp"'
    assert response.json() == {
        "error": "unauthorized",
        "error_description": "Authorization: Bearer <token> is required",
    }


@pytest.mark.anyio
async def test_an_unknown_token_gets_an_invalid_token_challenge() -> None:
    response = await post(gate(), {"Authorization": "Bearer " + "c" * MIN_TOKEN_LENGTH})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="propelauth-mcp", error="invalid_token", error_description="')
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "the bearer token is not recognised",
    }
    assert challenge.endswith('error_description="the bearer token is not recognised"')


@pytest.mark.anyio
async def test_a_refusal_is_json_of_its_stated_length_and_never_cached() -> None:
    response = await post(gate(), {"Authorization": "Bearer nope"})
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["cache-control"] == "no-store"
    assert "nope" not in response.text


@pytest.mark.anyio
async def test_a_refusal_is_sent_as_asgi_messages_with_lowercase_header_names() -> None:
    """ASGI requires lowercased header names; servers pass them to the wire as given."""
    sent: list[dict[str, Any]] = []

    async def record(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": [(b"authorization", b"Bearer nope")]}
    await gate()(scope, None, record)  # type: ignore[arg-type]
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 401
    assert sorted(name for name, _ in sent[0]["headers"]) == [
        b"cache-control",
        b"content-length",
        b"content-type",
        b"www-authenticate",
    ]
    assert KEY not in scope


@pytest.mark.anyio
async def test_non_http_traffic_goes_through_the_gate_untouched() -> None:
    assert await lifespan_through(BearerTokenGate(lifespan_app, TokenTable({}), scope_key=KEY)) == [
        {"type": "lifespan"},
        {"type": "lifespan.startup.complete"},
    ]


@pytest.mark.anyio
async def test_without_auth_every_http_caller_is_named_anonymous() -> None:
    response = await post(AnonymousCaller(echo_caller, scope_key=KEY))
    assert response.json() == {"caller": "anonymous", "body": "ping"}
    named = await post(AnonymousCaller(echo_caller, scope_key=KEY, name="local"))
    assert named.json() == {"caller": "local", "body": "ping"}


@pytest.mark.anyio
async def test_without_auth_non_http_traffic_gets_no_caller_name() -> None:
    assert await lifespan_through(AnonymousCaller(lifespan_app, scope_key=KEY)) == [
        {"type": "lifespan"},
        {"type": "lifespan.startup.complete"},
    ]


# --- the table -------------------------------------------------------------------------------------


def test_the_table_knows_its_size_names_and_secrets() -> None:
    table = load_tokens(f"alice={A},bob={B}", None)
    assert (len(table), table.names, table.secrets()) == (2, ["alice", "bob"], (A, B))


def test_a_token_that_is_not_valid_utf8_text_is_simply_unknown() -> None:
    assert load_tokens(f"alice={A}", None).identify("\udcff" * MIN_TOKEN_LENGTH) is None


# --- parsing rules ---------------------------------------------------------------------------------


def test_a_token_one_character_short_of_the_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match=f"shorter than {MIN_TOKEN_LENGTH} characters"):
        parse_tokens(f"alice={A[:-1]}", source="PROPELAUTH_MCP_TOKENS")
    assert parse_tokens(f"alice={A}", source="PROPELAUTH_MCP_TOKENS") == {"alice": A}


def test_fifteen_characters_are_too_short_and_sixteen_enough() -> None:
    with pytest.raises(ValueError, match="shorter than"):
        parse_tokens("alice=" + "x" * 15, source="PROPELAUTH_MCP_TOKENS")
    assert parse_tokens("alice=" + "x" * 16, source="PROPELAUTH_MCP_TOKENS") == {"alice": "x" * 16}


@pytest.mark.parametrize("text", [f"alice={A[:8]} {A[8:]}", f"alice={A[:8]}\t{A[8:]}"], ids=["space", "tab"])
def test_a_token_with_whitespace_inside_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="whitespace"):
        parse_tokens(text, source="PROPELAUTH_MCP_TOKENS")


@pytest.mark.parametrize("text", ["alice=", "alice= ", f"={A}"], ids=["no-token", "blank-token", "no-name"])
def test_a_pair_missing_either_half_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected name=token"):
        parse_tokens(text, source="PROPELAUTH_MCP_TOKENS")


def test_names_and_tokens_are_trimmed_and_blank_entries_skipped() -> None:
    assert parse_tokens(f" alice = {A} ,, \n\n bob={B},", source="S") == {"alice": A, "bob": B}
    assert parse_tokens(f"alice={A}, ,bob={B}", source="S") == {"alice": A, "bob": B}


def test_a_token_may_contain_equals_signs_like_base64_padding() -> None:
    assert parse_tokens(f"alice={A}==", source="S") == {"alice": f"{A}=="}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"al ice={A}", "the name must be 1-64 letters"),
        (f"alice={A},alice={B}", "the name appears twice"),
        (f"alice={A},bob={A}", "the token is also another name's token"),
    ],
    ids=["bad-name", "duplicate-name", "shared-token"],
)
def test_each_refused_entry_says_what_is_wrong_with_it(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_tokens(text, source="S")


def test_a_comment_line_may_be_indented_and_may_hold_anything() -> None:
    assert parse_tokens(f"  # alice=x, not a pair\nbob={B}", source="S") == {"bob": B}


def test_an_error_names_the_source_and_the_entry_position_in_a_one_line_list() -> None:
    with pytest.raises(ValueError) as raised:
        parse_tokens(f"alice={A},bob=short", source="PROPELAUTH_MCP_TOKENS")
    assert str(raised.value).startswith("PROPELAUTH_MCP_TOKENS entry 2: ")


def test_an_error_in_a_file_also_names_the_line() -> None:
    with pytest.raises(ValueError) as raised:
        parse_tokens(f"# team\nalice={A}\n\nbob", source="tokens.txt")
    assert str(raised.value).startswith("tokens.txt entry 2 (line 4): ")


def test_the_short_token_error_says_how_to_generate_a_good_one() -> None:
    with pytest.raises(ValueError, match=r"secrets\.token_urlsafe"):
        parse_tokens("alice=short", source="S")


# --- combining the inline list and the file --------------------------------------------------------


def test_an_error_names_the_setting_it_comes_from(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as inline:
        load_tokens("alice=short", None)
    assert str(inline.value).startswith("PROPELAUTH_MCP_TOKENS entry 1: ")
    file = tmp_path / "tokens"
    file.write_text("# team\nalice=short\n")
    with pytest.raises(ValueError) as from_file:
        load_tokens(None, file)
    assert str(from_file.value).startswith(f"PROPELAUTH_MCP_TOKENS_FILE {file} entry 1 (line 2): ")


def test_a_name_given_both_inline_and_in_the_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text(f"alice={B}\n")
    with pytest.raises(ValueError, match="a name is defined twice"):
        load_tokens(f"alice={A}", file)


def test_one_token_under_two_names_across_inline_and_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text(f"bob={A}\n")
    with pytest.raises(ValueError, match="a token is given to two names") as raised:
        load_tokens(f"alice={A}", file)
    assert A not in str(raised.value)


def test_an_unreadable_token_file_is_named_with_the_cause(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    with pytest.raises(ValueError) as raised:
        load_tokens(None, missing)
    assert (
        str(raised.value) == f"PROPELAUTH_MCP_TOKENS_FILE: cannot read {missing}: {os.strerror(errno.ENOENT)}"
    )


@pytest.mark.parametrize("inline", ["# nothing yet", " , "], ids=["only-a-comment", "only-separators"])
def test_a_token_setting_that_defines_no_token_is_refused_naming_both_settings(inline: str) -> None:
    with pytest.raises(ValueError) as raised:
        load_tokens(inline, None)
    assert str(raised.value) == "PROPELAUTH_MCP_TOKENS / PROPELAUTH_MCP_TOKENS_FILE define no token"


def test_a_token_file_that_defines_no_token_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text("# to be filled in\n")
    with pytest.raises(ValueError, match="define no token"):
        load_tokens(None, file)


def test_no_token_setting_at_all_is_an_empty_table() -> None:
    assert len(load_tokens(None, None)) == 0
    assert len(load_tokens("", None)) == 0
