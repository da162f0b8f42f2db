"""Configuration: one clear line and exit code 2 for bad settings; flags over env; --help documents all."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from server import __version__
from server.cli import EXIT_CONFIG, _parser, main
from server.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in (
        "PROPELAUTH_AUTH_URL",
        "PROPELAUTH_API_KEY",
        "PROPELAUTH_MCP_TOOLSETS",
        "PROPELAUTH_MCP_SANDBOX",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    yield
    # main() configures logging for the process; later tests must not write to a closed capture.
    structlog.reset_defaults()
    logging.basicConfig(force=True)


def test_missing_credentials_are_one_line_on_stderr_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_CONFIG
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        err.count("\n") == 1
        and "PROPELAUTH_AUTH_URL" in err
        and "PROPELAUTH_API_KEY" in err
        and "--sandbox" in err
    )


def test_a_malformed_auth_url_names_the_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--auth-url", "auth.example.com", "--api-key", "k"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PROPELAUTH_AUTH_URL (--auth-url)" in err


def test_an_out_of_range_flag_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sandbox", "--timeout", "-1"]) == EXIT_CONFIG
    assert "PROPELAUTH_TIMEOUT (--timeout)" in capsys.readouterr().err


def test_an_unknown_toolset_is_refused_at_start_up(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        [
            "--sandbox",
            "--sandbox-db",
            ":memory:",
            "--toolsets",
            "users,billing",
            "--audit-log",
            str(tmp_path / "a"),
        ]
    )
    assert code == EXIT_CONFIG and "billing" in capsys.readouterr().err


def test_settings_come_from_the_environment_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPELAUTH_AUTH_URL", "https://auth.acme.com/")
    monkeypatch.setenv("PROPELAUTH_API_KEY", "from-env")
    monkeypatch.setenv("PROPELAUTH_MCP_TOOLSETS", "users, sessions")
    settings = Settings(api_key="from-flag")  # type: ignore[arg-type]
    assert settings.auth_url == "https://auth.acme.com"
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "from-flag"
    assert settings.toolsets == {"users", "sessions"}


def test_the_api_key_never_shows_in_the_settings_repr() -> None:
    settings = Settings(auth_url="https://auth.acme.com", api_key="sk-very-secret")  # type: ignore[arg-type]
    assert "sk-very-secret" not in repr(settings)


def test_help_documents_every_setting() -> None:
    text = _parser().format_help()
    for field in Settings.model_fields.values():
        assert str(field.validation_alias) in text
    for command in ("propelauth-mcp sandbox", "propelauth-mcp audit verify"):
        assert command in text


def test_version_matches_the_distribution() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert __version__ == pyproject["project"]["version"]


def test_audit_verify_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from server.audit import AuditTrail

    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path)
    trail.write({"kind": "outcome", "call_id": "a"})
    trail.write({"kind": "outcome", "call_id": "b"})
    trail.close()
    assert main(["audit", "verify", str(path)]) == 0
    assert "2 records" in capsys.readouterr().err
    path.write_text(path.read_text().replace('"a"', '"z"'))
    assert main(["audit", "verify", str(path)]) == 1
    assert main(["audit", "verify", str(tmp_path / "missing.jsonl")]) == EXIT_CONFIG


def test_the_readme_documents_every_setting() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert [
        str(f.validation_alias)
        for f in Settings.model_fields.values()
        if str(f.validation_alias) not in readme
    ] == []
