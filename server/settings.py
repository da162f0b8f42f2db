"""One settings model for the server: environment variables, overridden by CLI flags."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.addresses import is_loopback, parse_networks


def state_dir() -> Path:
    """Where durable state lives by default: $XDG_STATE_HOME/propelauth-mcp (or ~/.local/state/...)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "propelauth-mcp"


def _csv(value: object) -> object:
    if isinstance(value, str):
        return {part.strip() for part in value.split(",") if part.strip()}
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="forbid", populate_by_name=True)

    # Where PropelAuth is and how to authenticate to it.
    auth_url: str | None = Field(default=None, validation_alias="PROPELAUTH_AUTH_URL")
    api_key: SecretStr | None = Field(default=None, validation_alias="PROPELAUTH_API_KEY")
    # The propelauth-api.com form: requests go here, the Auth URL's host travels in X-Propelauth-url.
    api_base_url: str | None = Field(default=None, validation_alias="PROPELAUTH_API_BASE_URL")
    timeout_s: float = Field(default=10.0, gt=0, le=300, validation_alias="PROPELAUTH_TIMEOUT")
    max_retries: int = Field(default=3, ge=0, le=10, validation_alias="PROPELAUTH_MAX_RETRIES")
    retry_budget_s: float = Field(default=15.0, gt=0, le=600, validation_alias="PROPELAUTH_RETRY_BUDGET")
    max_in_flight: int = Field(default=8, ge=1, le=256, validation_alias="PROPELAUTH_MAX_IN_FLIGHT")

    # The in-process sandbox instead of a real PropelAuth.
    sandbox: bool = Field(default=False, validation_alias="PROPELAUTH_MCP_SANDBOX")
    sandbox_db: str | None = Field(default=None, validation_alias="PROPELAUTH_MCP_SANDBOX_DB")

    # Audit trail and diagnostics.
    audit_log: Path | None = Field(default=None, validation_alias="PROPELAUTH_MCP_AUDIT_LOG")
    audit_stderr: bool = Field(default=True, validation_alias="PROPELAUTH_MCP_AUDIT_STDERR")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", validation_alias="PROPELAUTH_MCP_LOG_LEVEL"
    )

    # Least privilege: which tools an agent gets.
    read_only: bool = Field(default=False, validation_alias="PROPELAUTH_MCP_READ_ONLY")
    toolsets: set[str] | None = Field(default=None, validation_alias="PROPELAUTH_MCP_TOOLSETS")
    tools: set[str] | None = Field(default=None, validation_alias="PROPELAUTH_MCP_TOOLS")
    exclude_tools: set[str] | None = Field(default=None, validation_alias="PROPELAUTH_MCP_EXCLUDE_TOOLS")
    # Blast-radius limit: confirmed destructive calls allowed per sliding window (0 forbids them).
    destructive_limit: int = Field(default=10, ge=0, validation_alias="PROPELAUTH_MCP_DESTRUCTIVE_LIMIT")
    destructive_window_s: float = Field(
        default=3600.0, gt=0, validation_alias="PROPELAUTH_MCP_DESTRUCTIVE_WINDOW"
    )

    # Transport.
    transport: Literal["stdio", "http"] = Field(default="stdio", validation_alias="PROPELAUTH_MCP_TRANSPORT")
    host: str = Field(default="127.0.0.1", validation_alias="PROPELAUTH_MCP_HOST")
    port: int = Field(default=8000, ge=0, le=65535, validation_alias="PROPELAUTH_MCP_PORT")
    # HTTP only: named bearer tokens ("alice=<token>,ci-bot=<token>"), inline and/or in a file.
    http_tokens: SecretStr | None = Field(default=None, validation_alias="PROPELAUTH_MCP_TOKENS")
    http_tokens_file: Path | None = Field(default=None, validation_alias="PROPELAUTH_MCP_TOKENS_FILE")
    no_auth: bool = Field(default=False, validation_alias="PROPELAUTH_MCP_NO_AUTH")
    # HTTP only: DNS-rebinding protection (Host / Origin allow-lists; "name:*" allows any port).
    allowed_hosts: list[str] | None = Field(default=None, validation_alias="PROPELAUTH_MCP_ALLOWED_HOSTS")
    allowed_origins: list[str] | None = Field(default=None, validation_alias="PROPELAUTH_MCP_ALLOWED_ORIGINS")
    # HTTP only: peers (IPs or CIDRs) whose X-Forwarded-For / -Proto are believed; empty: none are.
    trusted_proxies: list[str] | None = Field(default=None, validation_alias="PROPELAUTH_MCP_TRUSTED_PROXIES")
    # HTTP only: keys (comma-separated, >= 32 bytes each; the first seals) shared by every replica.
    request_state_keys: SecretStr | None = Field(
        default=None, validation_alias="PROPELAUTH_MCP_REQUEST_STATE_KEYS"
    )
    # HTTP only: MCP requests handled at once; more wait their turn. Only max_in_flight of them can
    # be at PropelAuth anyway, and each one handled holds a whole SDK request context in memory.
    http_max_concurrent: int = Field(
        default=32, ge=1, le=4096, validation_alias="PROPELAUTH_MCP_HTTP_MAX_CONCURRENT"
    )

    @field_validator("toolsets", "tools", "exclude_tools", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        return _csv(value)

    @field_validator("allowed_hosts", "allowed_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_csv_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str] | None) -> list[str] | None:
        return parse_networks(value) if value else None

    @field_validator("auth_url", "api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        # The value is not echoed: with the two PropelAuth variables swapped, it is the API key.
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://auth.example.com")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError("must be the bare Auth URL (scheme and host) with no path or query")
        return f"{parts.scheme}://{parts.netloc}"

    @model_validator(mode="after")
    def _credentials_unless_sandbox(self) -> Settings:
        if self.sandbox:
            return self
        missing = [
            name
            for name, value in (
                ("PROPELAUTH_AUTH_URL (--auth-url)", self.auth_url),
                ("PROPELAUTH_API_KEY (--api-key)", self.api_key),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"{' and '.join(missing)} not set: give your PropelAuth Auth URL and backend API key, "
                "or run against the local sandbox with --sandbox"
            )
        return self

    @model_validator(mode="after")
    def _http_auth_or_explicit_loopback_opt_out(self) -> Settings:
        if self.transport != "http":
            return self
        has_tokens = bool(self.http_tokens and self.http_tokens.get_secret_value().strip()) or bool(
            self.http_tokens_file
        )
        if self.no_auth and has_tokens:
            raise ValueError(
                "--no-auth and tokens (PROPELAUTH_MCP_TOKENS / _FILE) contradict each other; pick one"
            )
        if self.no_auth and not is_loopback(self.host):
            raise ValueError(
                "--no-auth is allowed only on a loopback address (127.0.0.1, ::1, localhost), "
                f"not {self.host!r}: anyone who can reach the port could change or delete users. "
                "Give PROPELAUTH_MCP_TOKENS instead"
            )
        if not self.no_auth and not has_tokens:
            raise ValueError(
                'HTTP needs callers\' tokens: set PROPELAUTH_MCP_TOKENS="name=<token>,..." (or '
                "PROPELAUTH_MCP_TOKENS_FILE), or, on 127.0.0.1 only, start with --no-auth"
            )
        return self

    @property
    def audit_path(self) -> Path:
        return self.audit_log or state_dir() / "audit.jsonl"

    @property
    def sandbox_db_path(self) -> str:
        return self.sandbox_db or str(state_dir() / "sandbox.db")
