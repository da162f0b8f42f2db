"""Configuration: one clear line and exit code 2 for bad settings; flags over env; --help documents all."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from pydantic import ValidationError

from server import __version__
from server.cli import EXIT_CONFIG, _parser, load_settings, main
from server.settings import OPTIONS, Settings, settings_error_text

README = Path(__file__).parents[2] / "README.md"
# A value shaped like a PropelAuth key: it must never be printed, wherever it was put.
SECRET = "8a3f0c1e9b7d4f2a6c5e0b1d3f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d1f3a"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for option in OPTIONS.values():
        monkeypatch.delenv(option.env, raising=False)
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


# The command line as it was before the flags were generated from the model: it must not change.
TODAYS_FLAGS = [
    *("--auth-url", "--api-key", "--api-base-url", "--timeout", "--max-retries", "--retry-budget"),
    *("--max-in-flight", "--sandbox", "--sandbox-db", "--read-only", "--toolsets", "--tools"),
    *("--exclude-tools", "--destructive-limit", "--destructive-window", "--sensitive-limit"),
    *("--sensitive-window", "--confirmation", "--elicitation-timeout", "--audit-log"),
    *("--no-audit-stderr", "--log-level", "--transport", "--host", "--port", "--tokens", "--tokens-file"),
    *("--no-auth", "--auth", "--token-policies", "--scopes", "--resource-url"),
    *("--introspection-client-id", "--introspection-client-secret", "--introspection-cache"),
    *("--operators-org", "--operators-role", "--any-project-user"),
    *("--allowed-hosts", "--allowed-origins", "--request-state-keys"),
    *("--http-max-concurrent", "--trusted-proxies"),
]


def test_the_generated_parser_has_exactly_todays_flags() -> None:
    flags = [flag for action in _parser()._actions for flag in action.option_strings]
    assert flags == ["-h", "--help", "--version", *TODAYS_FLAGS]


def test_help_shows_each_default_from_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(OPTIONS, "port", dataclasses.replace(OPTIONS["port"], default=8123))
    text = " ".join(_parser().format_help().split())
    assert "HTTP port (default 8123) [PROPELAUTH_MCP_PORT]" in text
    assert "seconds per request (default 10) [PROPELAUTH_TIMEOUT]" in text  # 10.0 reads as 10
    assert "[PROPELAUTH_MCP_SANDBOX]" in text and "(default False)" not in text  # switches show none


def parse(*argv: str) -> Settings:
    settings: Settings = load_settings(_parser().parse_args(["--sandbox", *argv]))
    return settings


def test_a_flag_wins_over_its_environment_variable_and_an_absent_flag_leaves_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROPELAUTH_TIMEOUT", "3")
    monkeypatch.setenv("PROPELAUTH_MCP_READ_ONLY", "true")
    monkeypatch.setenv("PROPELAUTH_MCP_AUDIT_STDERR", "true")
    settings = parse("--timeout", "7", "--no-audit-stderr")
    assert (settings.timeout_s, settings.audit_stderr, settings.read_only) == (7.0, False, True)
    assert parse().timeout_s == 3.0 and parse().audit_stderr is True


def test_comma_separated_lists_read_the_same_from_a_flag_and_a_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROPELAUTH_MCP_ALLOWED_HOSTS", "a.example, b.example:*")
    monkeypatch.setenv("PROPELAUTH_MCP_TRUSTED_PROXIES", "10.0.0.1,10.0.0.2")
    settings = parse("--toolsets", "users, sessions", "--exclude-tools", "delete_user")
    assert settings.toolsets == {"users", "sessions"} and settings.exclude_tools == {"delete_user"}
    assert settings.allowed_hosts == ["a.example", "b.example:*"]
    assert settings.trusted_proxies == ["10.0.0.1/32", "10.0.0.2/32"]  # normalised to networks
    assert parse("--trusted-proxies", "").trusted_proxies == []
    monkeypatch.delenv("PROPELAUTH_MCP_TRUSTED_PROXIES")
    assert Settings(sandbox=True).trusted_proxies == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PROPELAUTH_TIMEOUT", "abc"),
        ("PROPELAUTH_MCP_PORT", "http"),
        ("PROPELAUTH_MCP_SANDBOX", "maybe"),
        ("PROPELAUTH_MCP_TRANSPORT", "carrier-pigeon"),
        ("PROPELAUTH_MCP_DESTRUCTIVE_LIMIT", "-1"),
    ],
)
def test_a_malformed_environment_variable_is_named_on_stderr_with_exit_2(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    assert main([]) == EXIT_CONFIG
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"propelauth-mcp: {variable}: ") and err.count("\n") == 1


def error_text(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)  # type: ignore[arg-type]
    return settings_error_text(caught.value)


@pytest.mark.parametrize("name", [name for name in OPTIONS if name != "host"])  # the host is shown
@pytest.mark.parametrize("given_by", ["flag", "environment"])
def test_no_settings_error_prints_a_value_put_in_any_setting(
    name: str, given_by: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key pasted into the wrong variable (or a bad token) is named, never shown."""
    for transport in ("stdio", "http"):
        if given_by == "flag":
            text = error_text(**{"transport": transport, name: SECRET})
        else:
            monkeypatch.setenv(OPTIONS[name].env, SECRET)
            text = error_text(transport=transport)
        assert text and SECRET not in text


def test_swapped_propelauth_variables_name_the_auth_url_without_printing_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROPELAUTH_AUTH_URL", SECRET)
    monkeypatch.setenv("PROPELAUTH_API_KEY", "https://auth.acme.com")
    assert main([]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "PROPELAUTH_AUTH_URL: must be an http(s) URL" in err and SECRET not in err


def test_the_healthcheck_probes_the_models_default_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.healthcheck import probe_target

    monkeypatch.setitem(OPTIONS, "port", dataclasses.replace(OPTIONS["port"], default=8123))
    url = probe_target(["propelauth-mcp", "--transport", "http"], {})
    assert url == "http://127.0.0.1:8123/healthz"


def readme_settings_rows() -> list[tuple[list[str], list[str], list[str]]]:
    rows = []
    for line in README.read_text().splitlines():
        if line.startswith("| `PROPELAUTH"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows.append(tuple([part.strip("` ") for part in cell.split(" / ")] for cell in cells[:3]))
    return rows  # type: ignore[return-value]


def test_the_readme_table_gives_each_variable_the_models_flag_and_default() -> None:
    by_env = {option.env: option for option in OPTIONS.values()}
    seen = []
    for envs, flags, defaults in readme_settings_rows():
        for index, env in enumerate(envs):
            option = by_env[env]
            seen.append(env)
            assert flags[index] == option.flag, env
            default = defaults[index] if len(defaults) == len(envs) else defaults[0]
            if isinstance(option.default, bool):
                assert default == ("on" if option.default else "off"), env
            elif option.default not in (None, []):
                assert re.sub(r"\.0$", "", str(option.default)) == default, env
    assert sorted(seen) == sorted(by_env)


# --- --auth propelauth ------------------------------------------------------------------------------

PROPELAUTH_SIGN_IN: dict[str, object] = {
    "transport": "http",
    "auth": "propelauth",
    "auth_url": "https://auth.acme.com",
    "api_key": "backend-api-key-0123456789",
    "introspection_client_id": "introspection-id",
    "introspection_client_secret": SECRET,
    "scope_policies": "read:users=read-only;admin:users=all",
    "operators_org": "org-operators",
}


def test_propelauth_sign_in_defaults_the_resource_url_to_this_servers_mcp_endpoint() -> None:
    assert Settings(**PROPELAUTH_SIGN_IN).resource_url == "http://127.0.0.1:8000/mcp"  # type: ignore[arg-type]
    bound = Settings(**{**PROPELAUTH_SIGN_IN, "host": "::1", "port": 9000})  # type: ignore[arg-type]
    assert bound.resource_url == "http://[::1]:9000/mcp"
    given = Settings(**{**PROPELAUTH_SIGN_IN, "resource_url": "https://mcp.acme.com/mcp"})  # type: ignore[arg-type]
    assert given.resource_url == "https://mcp.acme.com/mcp"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"transport": "stdio"}, "--transport http"),
        ({"introspection_client_id": None}, "PROPELAUTH_MCP_INTROSPECTION_CLIENT_ID"),
        ({"introspection_client_secret": None}, "PROPELAUTH_MCP_INTROSPECTION_CLIENT_SECRET"),
        ({"introspection_client_secret": "  "}, "PROPELAUTH_MCP_INTROSPECTION_CLIENT_SECRET"),
        ({"scope_policies": None}, "would administer"),
        ({"scope_policies": " ; "}, "PROPELAUTH_MCP_SCOPES"),
        ({"http_tokens": f"alice={SECRET}"}, "contradicts"),
        ({"http_tokens_file": "/tmp/tokens"}, "contradicts"),
        ({"no_auth": True}, "contradicts"),
        ({"sandbox": True}, "propelauth-mcp sandbox"),
        ({"port": 0}, "PROPELAUTH_MCP_RESOURCE_URL"),
        ({"resource_url": "mcp.acme.com/mcp"}, "PROPELAUTH_MCP_RESOURCE_URL"),
        ({"resource_url": "ftp://mcp.acme.com/mcp"}, "PROPELAUTH_MCP_RESOURCE_URL"),
        ({"resource_url": "https:///mcp"}, "PROPELAUTH_MCP_RESOURCE_URL"),
        ({"resource_url": "https://mcp.acme.com/mcp#x"}, "PROPELAUTH_MCP_RESOURCE_URL"),
        ({"operators_org": None}, "every user of your project"),
        ({"operators_org": " "}, "PROPELAUTH_MCP_ANY_PROJECT_USER"),
        ({"any_project_user": True}, "contradict"),
        ({"operators_org": None, "operators_role": "Admin", "any_project_user": True}, "needs"),
    ],
    ids=[
        "not-http",
        "no-client-id",
        "no-client-secret",
        "blank-client-secret",
        "no-scopes",
        "empty-scopes",
        "with-tokens",
        "with-tokens-file",
        "with-no-auth",
        "in-process-sandbox",
        "port-0-without-resource-url",
        "relative-resource-url",
        "non-http-resource-url",
        "no-host-resource-url",
        "fragment-resource-url",
        "no-operators-org",
        "blank-operators-org",
        "operators-org-and-any-project-user",
        "operators-role-without-org",
    ],
)
def test_an_incomplete_or_contradictory_propelauth_sign_in_is_refused_without_echoing_values(
    change: dict[str, object], named: str
) -> None:
    text = error_text(**{**PROPELAUTH_SIGN_IN, **change})
    assert named in text and SECRET not in text and "backend-api-key" not in text


def test_propelauth_sign_in_from_the_environment_is_refused_with_exit_2_when_incomplete(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in PROPELAUTH_SIGN_IN.items():
        if name != "scope_policies":
            monkeypatch.setenv(OPTIONS[name].env, str(value))
    assert main([]) == EXIT_CONFIG
    out, err = capsys.readouterr()
    assert out == "" and "PROPELAUTH_MCP_SCOPES" in err and SECRET not in err and err.count("\n") == 1


def test_who_may_sign_in_is_an_operators_org_or_an_explicit_any_project_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from server.http import auth_summary

    for name, value in PROPELAUTH_SIGN_IN.items():
        if name != "operators_org":
            monkeypatch.setenv(OPTIONS[name].env, str(value))
    monkeypatch.setenv("PROPELAUTH_MCP_OPERATORS_ORG", "org-ops")
    monkeypatch.setenv("PROPELAUTH_MCP_OPERATORS_ROLE", "Admin")
    settings = load_settings(_parser().parse_args([]))
    assert (settings.operators_org, settings.operators_role) == ("org-ops", "Admin")
    assert auth_summary(settings, None).endswith("operators: members of org org-ops with role Admin or above")
    monkeypatch.delenv("PROPELAUTH_MCP_OPERATORS_ORG")
    monkeypatch.delenv("PROPELAUTH_MCP_OPERATORS_ROLE")
    anyone = load_settings(_parser().parse_args(["--any-project-user"]))
    assert anyone.any_project_user and anyone.operators_org is None
    assert "ANY user of the PropelAuth project" in auth_summary(anyone, None)


@pytest.mark.parametrize(
    "change", [{"operators_org": "org-ops"}, {"operators_role": "Admin"}, {"any_project_user": True}]
)
def test_who_may_sign_in_applies_to_propelauth_sign_in_only(change: dict[str, object]) -> None:
    assert "--auth propelauth only" in error_text(sandbox=True, **change)
