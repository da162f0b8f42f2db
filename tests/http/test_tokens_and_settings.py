"""Token parsing and the start-up rules for HTTP: auth on by default, --no-auth only on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import main
from server.http_auth import MIN_TOKEN_LENGTH, bearer_of, load_tokens, parse_tokens

A = "a" * MIN_TOKEN_LENGTH
B = "b" * MIN_TOKEN_LENGTH


def test_tokens_are_named_pairs_from_the_environment_and_a_file_combined(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text(f"# support desk\nbob={B}\n\n")
    table = load_tokens(f"alice={A}", file)
    assert table.names == ["alice", "bob"]
    assert (table.identify(A), table.identify(B)) == ("alice", "bob")


@pytest.mark.parametrize("presented", ["", A[:-1], A + "a", A.upper(), "alice", f"alice={A}"], ids=repr)
def test_only_the_exact_token_identifies_a_caller(presented: str) -> None:
    assert load_tokens(f"alice={A}", None).identify(presented) is None


@pytest.mark.parametrize(
    "text",
    [
        f"alice{A}",
        f"alice={A},alice={B}",
        f"alice={A},bob={A}",
        "alice=short",
        f"al ice={A}",
        f"=={A}",
        f"{A}==",  # a base64 token pasted without a name: its body looks like a name
        f"{A}+/==",
    ],
    ids=[
        "no-equals",
        "duplicate-name",
        "shared-token",
        "short-token",
        "bad-name",
        "no-name",
        "bare-base64",
        "bare-base64-symbols",
    ],
)
def test_a_malformed_token_list_is_refused_without_echoing_the_token(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_tokens(text, source="PROPELAUTH_MCP_TOKENS")
    assert A not in str(raised.value) and B not in str(raised.value)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (b"Bearer tok", "tok"),
        (b"bearer  tok ", "tok"),
        (b"Basic tok", None),
        (b"Bearer", None),
        (b"tok", None),
    ],
)
def test_the_bearer_token_is_read_from_the_authorization_header(header: bytes, token: str | None) -> None:
    assert bearer_of([(b"authorization", header)]) == token


def test_two_authorization_headers_are_not_a_token() -> None:
    assert bearer_of([(b"authorization", b"Bearer x"), (b"authorization", b"Bearer y")]) is None


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--sandbox", "--sandbox-db", ":memory:", "--transport", "http", *argv])
    return code, capsys.readouterr().err


def test_http_without_tokens_is_refused_unless_no_auth_is_explicit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = run([], capsys)
    assert code == 2 and "PROPELAUTH_MCP_TOKENS" in err and "--no-auth" in err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "mcp.acme.internal"])
def test_no_auth_is_refused_off_loopback(capsys: pytest.CaptureFixture[str], host: str) -> None:
    code, err = run(["--no-auth", "--host", host], capsys)
    assert code == 2 and "loopback" in err


def test_no_auth_and_tokens_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["--no-auth", "--tokens", f"alice={A}"], capsys)
    assert code == 2 and A not in err


def test_a_bad_token_file_is_refused_at_start_up(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "tokens").write_text("alice=short\n")
    code, err = run(["--tokens-file", str(tmp_path / "tokens")], capsys)
    assert code == 2 and "shorter than" in err
    code, err = run(["--tokens-file", str(tmp_path / "missing")], capsys)
    assert code == 2 and "cannot read" in err


def test_short_request_state_keys_are_refused_at_start_up(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["--tokens", f"alice={A}", "--request-state-keys", "too-short"], capsys)
    assert code == 2 and "32 bytes" in err and "too-short" not in err


@pytest.mark.parametrize(
    ("inline", "file_text"),
    [(f"alice={A}", f"alice={B}\n"), (f"alice={A}", f"bob={A}\n")],
    ids=["name-in-both", "token-under-two-names"],
)
def test_a_name_or_token_given_in_both_tokens_and_tokens_file_is_a_start_up_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, inline: str, file_text: str
) -> None:
    """Otherwise the audit would credit every call with that token to whichever name came last."""
    (tmp_path / "tokens").write_text(file_text)
    with pytest.raises(ValueError) as raised:
        load_tokens(inline, tmp_path / "tokens")
    code, err = run(["--tokens", inline, "--tokens-file", str(tmp_path / "tokens")], capsys)
    assert code == 2
    assert "PROPELAUTH_MCP_TOKENS_FILE" in str(raised.value) and "PROPELAUTH_MCP_TOKENS_FILE" in err
    assert A not in err and B not in err
