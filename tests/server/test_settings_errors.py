"""A settings error names the variable and the problem, and never prints a value that may be a secret."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.cli import main
from server.settings_errors import describe

KEY = "sk-live-0123456789abcdefSECRET"
AUTH_URL = "https://auth.acme.com"


def test_swapped_propelauth_variables_exit_2_naming_the_variable_without_printing_the_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROPELAUTH_AUTH_URL", KEY)
    monkeypatch.setenv("PROPELAUTH_API_KEY", AUTH_URL)
    code = main([])
    err = capsys.readouterr().err
    assert code == 2
    assert "PROPELAUTH_AUTH_URL (--auth-url)" in err
    assert KEY not in err and "SECRET" not in err


def test_swapped_propelauth_flags_exit_2_without_printing_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--auth-url", KEY, "--api-key", AUTH_URL])
    err = capsys.readouterr().err
    assert code == 2 and "--auth-url" in err and KEY not in err


class Echoing(BaseSettings):
    """Validators that echo their input, as a careless future one might: the formatting still hides it."""

    model_config = SettingsConfigDict(populate_by_name=True, validate_default=False)

    auth_url: str | None = Field(default=None, validation_alias="PROPELAUTH_AUTH_URL")
    api_key: SecretStr | None = Field(default=None, validation_alias="PROPELAUTH_API_KEY")
    http_tokens: SecretStr | None = Field(default=None, validation_alias="PROPELAUTH_MCP_TOKENS")
    request_state_keys: SecretStr | None = Field(
        default=None, validation_alias="PROPELAUTH_MCP_REQUEST_STATE_KEYS"
    )
    host: str = Field(default="127.0.0.1", validation_alias="PROPELAUTH_MCP_HOST")

    @field_validator("auth_url", "host")
    @classmethod
    def _echo(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("bad"):
            raise ValueError(f"got {value!r}")
        return value

    @field_validator("http_tokens", "request_state_keys", "api_key", mode="before")
    @classmethod
    def _echo_secret(cls, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("bad"):
            raise ValueError(f"got {value!r}, and again: {value}")
        return value

    @model_validator(mode="after")
    def _echo_everything(self) -> Echoing:
        if self.host == "model-error":
            key = self.api_key.get_secret_value() if self.api_key else ""
            raise ValueError(f"api key {key} with url {self.auth_url}")
        return self


def described(**values: str) -> str:
    with pytest.raises(ValidationError) as raised:
        Echoing(**values)
    return describe(raised.value, Echoing.model_fields, lambda name: "--" + name.replace("_", "-"))


@pytest.mark.parametrize("field", ["api_key", "http_tokens", "request_state_keys"])
def test_a_secret_settings_value_is_never_shown_even_when_a_validator_echoes_it(field: str) -> None:
    secret = "bad-alice=tok-0123456789abcdef,bob=tok-fedcba9876543210"
    text = described(**{field: secret})
    assert f"({'--' + field.replace('_', '-')})" in text
    assert "0123456789abcdef" not in text and "fedcba9876543210" not in text


def test_an_auth_url_value_is_shown_only_when_it_looks_like_a_url() -> None:
    assert "bad" + KEY not in described(auth_url="bad" + KEY)
    assert "badhttps://auth.acme.com/x" not in described(auth_url="badhttps://auth.acme.com/x")
    assert "bad-host.example" in described(host="bad-host.example")  # not a secret: shown


def test_a_model_level_error_never_shows_the_key_or_a_key_given_as_the_url() -> None:
    text = described(api_key=KEY, auth_url=KEY + "2", host="model-error")
    assert KEY not in text and "SECRET" not in text
