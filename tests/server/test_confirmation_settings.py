"""The operator's confirmation settings, and the keys that seal tokens and request state."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.server.request_state import AESGCMRequestStateCodec
from pydantic import ValidationError

from server.app import create_server
from server.audit import AuditTrail
from server.cli import main
from server.sealing import TokenSealer, TokenUnsealable, key_material
from server.settings import Settings, settings_error_text
from tests.conftest import make_settings

KEY_A = "a" * 32
KEY_B = "b" * 32


def test_the_defaults_ask_the_person_when_possible_and_budget_account_takeover_tools() -> None:
    settings = Settings(sandbox=True)
    assert settings.confirmation == "auto"
    assert (settings.sensitive_limit, settings.sensitive_window_s) == (20, 3600.0)
    assert settings.elicitation_timeout_s == 300.0


def test_the_confirmation_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPELAUTH_MCP_CONFIRMATION", "human")
    monkeypatch.setenv("PROPELAUTH_MCP_SENSITIVE_LIMIT", "0")
    monkeypatch.setenv("PROPELAUTH_MCP_SENSITIVE_WINDOW", "60")
    monkeypatch.setenv("PROPELAUTH_MCP_ELICITATION_TIMEOUT", "30")
    settings = Settings(sandbox=True)
    assert (settings.confirmation, settings.sensitive_limit, settings.sensitive_window_s) == (
        "human",
        0,
        60.0,
    )
    assert settings.elicitation_timeout_s == 30.0


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("PROPELAUTH_MCP_CONFIRMATION", "model"),
        ("PROPELAUTH_MCP_SENSITIVE_LIMIT", "-1"),
        ("PROPELAUTH_MCP_SENSITIVE_WINDOW", "0"),
        ("PROPELAUTH_MCP_ELICITATION_TIMEOUT", "0"),
    ],
)
def test_a_bad_confirmation_setting_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ValidationError) as raised:
        Settings(sandbox=True)
    assert settings_error_text(raised.value).startswith(env)


def test_an_unknown_confirmation_mode_on_the_command_line_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--sandbox", "--confirmation", "model"])
    assert exited.value.code == 2 and "auto" in capsys.readouterr().err


def test_a_token_opens_only_under_the_same_keys_and_any_change_is_seen() -> None:
    sealer = TokenSealer([KEY_A.encode()])
    token = sealer.seal(b'{"v":1}')
    assert sealer.unseal(token) == b'{"v":1}'
    assert TokenSealer([KEY_B.encode(), KEY_A.encode()]).unseal(token) == b'{"v":1}'  # rotation
    edited = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad, sealer_used in ((edited, sealer), (token, TokenSealer([KEY_B.encode()])), ("v1.junk", sealer)):
        with pytest.raises(ValueError) as refused:  # the tool layer's Sealer contract
            sealer_used.unseal(bad)
        assert isinstance(refused.value, TokenUnsealable)


def test_a_request_state_never_opens_as_a_token_nor_a_token_as_a_request_state() -> None:
    keys = [KEY_A.encode()]
    request_state_codec = AESGCMRequestStateCodec(keys)  # what the RequestStateBoundary seals with
    with pytest.raises(TokenUnsealable):
        TokenSealer(keys).unseal(request_state_codec.seal(b"{}"))
    with pytest.raises(Exception, match="unknown key"):
        request_state_codec.unseal(TokenSealer(keys).seal(b"{}"))


def test_without_shared_keys_each_process_seals_under_its_own_random_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "audit.jsonl")
    first, second = key_material(settings), key_material(settings)
    assert len(first) == 1 and len(first[0]) == 32 and first != second
    shared = make_settings(tmp_path / "audit.jsonl", request_state_keys=f"{KEY_A},{KEY_B}")
    assert key_material(shared) == [KEY_A.encode(), KEY_B.encode()]


def test_a_short_request_state_key_stops_the_server_being_built_on_any_transport(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "audit.jsonl", request_state_keys="too-short")
    trail = AuditTrail(settings.audit_path)
    try:
        with pytest.raises(ValueError, match="32 bytes"):
            create_server(settings, trail)
    finally:
        trail.close()
