"""One settings model for the server: environment variables, overridden by CLI flags.

Each setting is declared once, as one `setting(...)` field: its type, default, constraints,
environment variable, help text and (when it differs from the field name) its flag. The CLI parser
(`server.cli`), the error messages and the container health check are all derived from these fields.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from server.addresses import is_loopback, parse_networks
from server.caller_policies import parse_scope_policies, parse_token_policies
from tools.asking import ConfirmationMode
from tools.catalog import ALL_TOOLSETS, DEFAULT_TOOLSETS, TOOLSETS


def state_dir() -> Path:
    """Where durable state lives by default: $XDG_STATE_HOME/propelauth-mcp (or ~/.local/state/...)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "propelauth-mcp"


def _csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# Comma-separated lists, from a flag or an environment variable alike (never parsed as JSON).
CsvList = Annotated[list[str], NoDecode, BeforeValidator(_csv)]
CsvSet = Annotated[set[str], NoDecode, BeforeValidator(_csv)]


SECTION_KEY = "cli_section"
FLAG_KEY = "cli_flag"


def setting(
    default: Any, env: str, help: str, *, flag: str | None = None, section: str | None = None, **rules: Any
) -> Any:
    """One setting: its default, environment variable, help, and validation rules (gt=, le=, ...).

    `flag` is given only when it is not the field name in kebab case; `section` starts a new group
    of flags in --help (the fields after it belong to it, until the next one).
    """
    extra: dict[str, Any] = {key: value for key, value in ((FLAG_KEY, flag), (SECTION_KEY, section)) if value}
    return Field(default, validation_alias=env, description=help, json_schema_extra=extra or None, **rules)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="forbid", populate_by_name=True)

    # Where PropelAuth is and how to authenticate to it.
    auth_url: str | None = setting(
        None,
        "PROPELAUTH_AUTH_URL",
        "your PropelAuth Auth URL, e.g. https://auth.acme.com",
        section="PropelAuth",
    )
    api_key: SecretStr | None = setting(
        None, "PROPELAUTH_API_KEY", "backend integration API key; prefer the env var"
    )
    # The propelauth-api.com form: requests go here, the Auth URL's host travels in X-Propelauth-url.
    api_base_url: str | None = setting(
        None,
        "PROPELAUTH_API_BASE_URL",
        "send requests here (e.g. https://propelauth-api.com) with the Auth URL's host in X-Propelauth-url",
    )
    timeout_s: float = setting(
        10.0, "PROPELAUTH_TIMEOUT", "seconds per request", flag="--timeout", gt=0, le=300
    )
    max_retries: int = setting(
        3, "PROPELAUTH_MAX_RETRIES", "retries of reads on 429/502/503/504", ge=0, le=10
    )
    retry_budget_s: float = setting(
        15.0,
        "PROPELAUTH_RETRY_BUDGET",
        "seconds a read may spend on retries in all",
        flag="--retry-budget",
        gt=0,
        le=600,
    )
    max_in_flight: int = setting(
        8, "PROPELAUTH_MAX_IN_FLIGHT", "PropelAuth requests in flight at once", ge=1, le=256
    )

    # The in-process sandbox instead of a real PropelAuth.
    sandbox: bool = setting(
        False,
        "PROPELAUTH_MCP_SANDBOX",
        "run against the in-process PropelAuth emulator: no account, no network",
        section="sandbox",
    )
    sandbox_db: str | None = setting(
        None,
        "PROPELAUTH_MCP_SANDBOX_DB",
        "sandbox SQLite file (default $XDG_STATE_HOME/propelauth-mcp/sandbox.db, seeded with demo users "
        "when first created; ':memory:' for a throwaway one)",
    )

    # Least privilege: which tools an agent gets.
    read_only: bool = setting(
        False, "PROPELAUTH_MCP_READ_ONLY", "offer only read-only tools", section="least privilege"
    )
    toolsets: CsvSet | None = setting(
        None,
        "PROPELAUTH_MCP_TOOLSETS",
        f"comma-separated toolsets to offer: {', '.join(TOOLSETS)}, or {ALL_TOOLSETS} "
        f"(default: {', '.join(DEFAULT_TOOLSETS)})",
    )
    tools: CsvSet | None = setting(
        None, "PROPELAUTH_MCP_TOOLS", "comma-separated tool names to offer; overrides --toolsets"
    )
    exclude_tools: CsvSet | None = setting(
        None, "PROPELAUTH_MCP_EXCLUDE_TOOLS", "comma-separated tool names to withhold"
    )
    # Blast-radius limit: destructive calls that may be sent per sliding window (0 forbids them).
    destructive_limit: int = setting(
        10,
        "PROPELAUTH_MCP_DESTRUCTIVE_LIMIT",
        "destructive calls that may be sent per window; 0 forbids them",
        ge=0,
    )
    destructive_window_s: float = setting(
        3600.0,
        "PROPELAUTH_MCP_DESTRUCTIVE_WINDOW",
        "the window in seconds",
        flag="--destructive-window",
        gt=0,
    )

    # Account-takeover tools (magic links, access tokens, password and email changes): their own budget.
    sensitive_limit: int = setting(
        20,
        "PROPELAUTH_MCP_SENSITIVE_LIMIT",
        "account-takeover calls (magic links, access tokens, password and email changes) that may be "
        "sent per window; 0 forbids them",
        ge=0,
    )
    sensitive_window_s: float = setting(
        3600.0,
        "PROPELAUTH_MCP_SENSITIVE_WINDOW",
        "the window in seconds",
        flag="--sensitive-window",
        gt=0,
    )

    # Who confirms a destructive call: the person at the client, a preview-bound token, or the model.
    confirmation: ConfirmationMode = setting(
        "auto",
        "PROPELAUTH_MCP_CONFIRMATION",
        "who confirms a destructive call: auto (ask the person when the client can be asked, else a "
        "token from the preview), human (only the person's accept; account-takeover tools too), "
        "preview (the preview's token, never ask), argument (confirm: true alone)",
        section="confirmation",
    )
    elicitation_timeout_s: float = setting(
        300.0,
        "PROPELAUTH_MCP_ELICITATION_TIMEOUT",
        "seconds to wait for the person's answer before the question counts as unanswered (2025-11-25 "
        "clients)",
        flag="--elicitation-timeout",
        gt=0,
        le=3600,
    )

    # Audit trail and diagnostics.
    audit_log: Path | None = setting(
        None,
        "PROPELAUTH_MCP_AUDIT_LOG",
        "audit JSON-lines file (default $XDG_STATE_HOME/propelauth-mcp/audit.jsonl)",
        section="audit and logs",
    )
    audit_stderr: bool = setting(
        True, "PROPELAUTH_MCP_AUDIT_STDERR", "do not echo audit records to stderr", flag="--no-audit-stderr"
    )
    log_level: Literal["debug", "info", "warning", "error"] = setting(
        "info", "PROPELAUTH_MCP_LOG_LEVEL", "diagnostics on stderr"
    )

    # Transport.
    transport: Literal["stdio", "http"] = setting(
        "stdio", "PROPELAUTH_MCP_TRANSPORT", "stdio or Streamable HTTP", section="transport"
    )
    host: str = setting("127.0.0.1", "PROPELAUTH_MCP_HOST", "HTTP bind address")
    port: int = setting(8000, "PROPELAUTH_MCP_PORT", "HTTP port", ge=0, le=65535)

    # HTTP only: named bearer tokens ("alice=<token>,ci-bot=<token>"), inline and/or in a file.
    http_tokens: SecretStr | None = setting(
        None,
        "PROPELAUTH_MCP_TOKENS",
        "callers' named bearer tokens, name=token[,name=token...]; the audit records the name; prefer "
        "the env var",
        flag="--tokens",
        section="HTTP authentication and origin checks (--transport http)",
    )
    http_tokens_file: Path | None = setting(
        None,
        "PROPELAUTH_MCP_TOKENS_FILE",
        "file of name=token pairs, one per line, '#' comments",
        flag="--tokens-file",
    )
    no_auth: bool = setting(
        False, "PROPELAUTH_MCP_NO_AUTH", "serve without tokens; refused unless bound to loopback"
    )
    # HTTP only: who may call. `tokens`: the named static tokens above; `propelauth`: an OAuth 2.1
    # resource server whose callers sign in with PropelAuth (tokens checked by introspection).
    auth: Literal["tokens", "propelauth"] = setting(
        "tokens",
        "PROPELAUTH_MCP_AUTH",
        "tokens (the named bearer tokens) or propelauth (callers sign in with PropelAuth: OAuth 2.1, "
        "tokens verified by introspection)",
    )
    token_policies: str | None = setting(
        None,
        "PROPELAUTH_MCP_TOKEN_POLICIES",
        "what each token name may use, name=policy[;name=policy...] (policy: all, read-only, "
        "toolsets:a,b, tools:a,b, exclude:a,b, joined with '+'); a name not listed gets all",
    )
    scope_policies: str | None = setting(
        None,
        "PROPELAUTH_MCP_SCOPES",
        "--auth propelauth: what each OAuth scope allows, scope=policy[;scope=policy...], e.g. "
        "'read:users=read-only;admin:users=all'; a token's tools are the union of its scopes'",
        flag="--scopes",
    )
    resource_url: str | None = setting(
        None,
        "PROPELAUTH_MCP_RESOURCE_URL",
        "--auth propelauth: this server's public URL of /mcp, the audience tokens must be issued for "
        "(default http://HOST:PORT/mcp)",
    )
    introspection_client_id: str | None = setting(
        None,
        "PROPELAUTH_MCP_INTROSPECTION_CLIENT_ID",
        "--auth propelauth: the introspection client id from PropelAuth's dashboard (MCP page)",
    )
    introspection_client_secret: SecretStr | None = setting(
        None,
        "PROPELAUTH_MCP_INTROSPECTION_CLIENT_SECRET",
        "--auth propelauth: its secret; prefer the env var",
    )
    introspection_cache_s: float = setting(
        60.0,
        "PROPELAUTH_MCP_INTROSPECTION_CACHE",
        "seconds an introspection answer is reused (never past the token's expiry; 0: ask every time)",
        flag="--introspection-cache",
        ge=0,
        le=60,
    )
    # --auth propelauth: who may sign in. PropelAuth lets every user of the project sign in with an
    # allowed MCP client and consent to any scope, so the person must be in the operators' org.
    operators_org: str | None = setting(
        None,
        "PROPELAUTH_MCP_OPERATORS_ORG",
        "--auth propelauth: the id of the PropelAuth organization whose members may sign in (checked "
        "with the Backend API, cached as the introspection is)",
    )
    operators_role: str | None = setting(
        None,
        "PROPELAUTH_MCP_OPERATORS_ROLE",
        "--auth propelauth: the least role in the operators' org a person must hold (or one above it)",
    )
    any_project_user: bool = setting(
        False,
        "PROPELAUTH_MCP_ANY_PROJECT_USER",
        "--auth propelauth without an operators' org: every user of the PropelAuth project may sign in",
    )
    # HTTP only: DNS-rebinding protection (Host / Origin allow-lists; "name:*" allows any port).
    allowed_hosts: CsvList | None = setting(
        None,
        "PROPELAUTH_MCP_ALLOWED_HOSTS",
        "comma-separated Host values accepted ('name:*' for any port; default: loopback names and the "
        "bind address)",
    )
    allowed_origins: CsvList | None = setting(
        None,
        "PROPELAUTH_MCP_ALLOWED_ORIGINS",
        "comma-separated browser Origins accepted (default: http://localhost:*, http://127.0.0.1:*, "
        "http://[::1]:*)",
    )
    # Keys (comma-separated, >= 32 bytes each; the first seals) shared by every replica. They seal the
    # 2026-07-28 requestState and, derived, the preview's confirmation tokens, on every transport.
    request_state_keys: SecretStr | None = setting(
        None,
        "PROPELAUTH_MCP_REQUEST_STATE_KEYS",
        "comma-separated secrets (>= 32 bytes each, the first seals) that every replica shares, so a "
        "requestState or confirmation token sealed by one replica opens on another (default: a "
        "per-process key)",
    )
    # HTTP only: MCP requests handled at once; more wait their turn. Only max_in_flight of them can
    # be at PropelAuth anyway, and each one handled holds a whole SDK request context in memory.
    http_max_concurrent: int = setting(
        32,
        "PROPELAUTH_MCP_HTTP_MAX_CONCURRENT",
        "MCP requests handled at once over HTTP; more wait their turn",
        ge=1,
        le=4096,
    )
    # HTTP only: proxies whose X-Forwarded-For is believed.
    trusted_proxies: CsvList = setting(
        [],
        "PROPELAUTH_MCP_TRUSTED_PROXIES",
        "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed "
        "(otherwise the peer address is used)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return parse_networks(value)

    @field_validator("auth_url", "api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        # The value is never echoed: a swapped variable would put the API key in the message.
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://auth.example.com")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError("must be the bare Auth URL, with no path or query")
        return f"{parts.scheme}://{parts.netloc}"

    # Privileges per caller: the policies parse (errors name the entry and the bad term, never the
    # whole value), and a token policy names only configured tokens (a typo would silently grant all).
    @field_validator("scope_policies")
    @classmethod
    def _scope_policies(cls, value: str | None) -> str | None:
        if value is not None:
            parse_scope_policies(value)
        return value

    @field_validator("token_policies")
    @classmethod
    def _token_policies(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        unknown = sorted(set(parse_token_policies(value)) - set(_configured_token_names(info.data)))
        if unknown:
            raise ValueError(
                f"a policy names {', '.join(unknown)}, not a configured token name (PROPELAUTH_MCP_TOKENS "
                "/ _FILE)"
            )
        return value

    @field_validator("resource_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ValueError("must be an absolute http(s) URL such as https://mcp.example.com/mcp")
        return value

    @model_validator(mode="after")
    def _default_or_all_toolsets(self) -> Settings:
        """No --toolsets: the default set; `all` (alone or among names): every toolset. An allow list of
        tools (--tools) still replaces the toolsets, as tools/policy.py says."""
        if self.toolsets is None:
            self.toolsets = set(DEFAULT_TOOLSETS)
        elif ALL_TOOLSETS in self.toolsets:
            self.toolsets = set(TOOLSETS)
        return self

    @model_validator(mode="after")
    def _credentials_unless_sandbox(self) -> Settings:
        if self.sandbox:
            return self
        missing = [
            f"{option.env} ({option.flag})"
            for option, value in ((OPTIONS["auth_url"], self.auth_url), (OPTIONS["api_key"], self.api_key))
            if not value
        ]
        if missing:
            raise ValueError(
                f"{' and '.join(missing)} not set: give your PropelAuth Auth URL and backend API key, "
                "or run against the local sandbox with --sandbox"
            )
        return self

    @property
    def _has_tokens(self) -> bool:
        return bool(self.http_tokens and self.http_tokens.get_secret_value().strip()) or bool(
            self.http_tokens_file
        )

    @model_validator(mode="after")
    def _http_auth_or_explicit_loopback_opt_out(self) -> Settings:
        if self.transport != "http" or self.auth == "propelauth":  # PropelAuth sign-in: checked below
            return self
        has_tokens = self._has_tokens
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

    @model_validator(mode="after")
    def _propelauth_sign_in_is_complete(self) -> Settings:
        """--auth propelauth: HTTP, a real PropelAuth (or a sandbox on a port), introspection credentials
        and the scope mapping; never together with static tokens or --no-auth. No value is echoed."""
        if self.auth != "propelauth":
            return self
        if self.transport != "http":
            raise ValueError("--auth propelauth needs --transport http (stdio has no sign-in)")
        if self.no_auth or self._has_tokens:
            raise ValueError(
                "--auth propelauth contradicts --no-auth and tokens (PROPELAUTH_MCP_TOKENS / _FILE): "
                "callers sign in with PropelAuth instead; pick one"
            )
        if self.sandbox:
            raise ValueError(
                "--auth propelauth cannot use the in-process --sandbox: a browser cannot sign in to it. "
                "Run `propelauth-mcp sandbox` and point PROPELAUTH_AUTH_URL (and PROPELAUTH_API_KEY) at it"
            )
        missing = [
            f"{OPTIONS[name].env} ({OPTIONS[name].flag})"
            for name in ("introspection_client_id", "introspection_client_secret")
            if not _given(getattr(self, name))
        ]
        if missing:
            raise ValueError(
                f"--auth propelauth needs {' and '.join(missing)}: the introspection client from the MCP "
                "page of PropelAuth's dashboard"
            )
        if not any(entry.partition("=")[0].strip() for entry in (self.scope_policies or "").split(";")):
            raise ValueError(
                "--auth propelauth needs PROPELAUTH_MCP_SCOPES (--scopes), what each OAuth scope allows, "
                "e.g. 'read:users=read-only;admin:users=all': without it every user of your PropelAuth "
                "project who signs in would administer your users"
            )
        self._operators_are_named()
        if self.resource_url is None:
            if self.port == 0:
                raise ValueError(
                    "--auth propelauth with --port 0 needs PROPELAUTH_MCP_RESOURCE_URL (--resource-url): "
                    "the audience tokens are issued for cannot name a port not yet chosen"
                )
            host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
            self.resource_url = f"http://{host}:{self.port}/mcp"
        return self

    def _operators_are_named(self) -> None:
        org, role = _given(self.operators_org), _given(self.operators_role)
        if org and self.any_project_user:
            raise ValueError(
                "PROPELAUTH_MCP_OPERATORS_ORG (--operators-org) and PROPELAUTH_MCP_ANY_PROJECT_USER "
                "(--any-project-user) contradict each other; pick one"
            )
        if role and not org:
            raise ValueError(
                "PROPELAUTH_MCP_OPERATORS_ROLE (--operators-role) needs PROPELAUTH_MCP_OPERATORS_ORG "
                "(--operators-org), the org the role is held in"
            )
        if not org and not self.any_project_user:
            raise ValueError(
                "--auth propelauth needs PROPELAUTH_MCP_OPERATORS_ORG (--operators-org), the id of the "
                "PropelAuth organization of the people who may sign in: PropelAuth lets every user of "
                "your project sign in and consent to any scope. To let them all in anyway, set "
                "PROPELAUTH_MCP_ANY_PROJECT_USER=true (--any-project-user)"
            )

    @model_validator(mode="after")
    def _operators_only_with_sign_in(self) -> Settings:
        if self.auth != "propelauth" and (
            _given(self.operators_org) or _given(self.operators_role) or self.any_project_user
        ):
            raise ValueError(
                "PROPELAUTH_MCP_OPERATORS_ORG / _ROLE and PROPELAUTH_MCP_ANY_PROJECT_USER apply to "
                "--auth propelauth only"
            )
        return self

    @property
    def audit_path(self) -> Path:
        return self.audit_log or state_dir() / "audit.jsonl"

    @property
    def sandbox_db_path(self) -> str:
        return self.sandbox_db or str(state_dir() / "sandbox.db")


def _configured_token_names(data: dict[str, Any]) -> list[str]:
    """The static token names, from the fields validated before token_policies (declared above it)."""
    from server.http_auth import load_tokens

    inline: SecretStr | None = data.get("http_tokens")
    try:
        tokens = load_tokens(inline.get_secret_value() if inline else None, data.get("http_tokens_file"))
    except ValueError:
        return []  # a bad token list is reported where the tokens are loaded, in its own words
    return tokens.names


def _given(value: str | SecretStr | None) -> bool:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    return bool(text and text.strip())


@dataclass(frozen=True)
class Option:
    """A setting as the command line and the environment see it, derived from its field."""

    name: str  # the field name (the argparse dest)
    env: str
    flag: str
    help: str
    default: Any
    section: str | None
    choices: tuple[str, ...] | None
    secret: bool  # its value is never printed: not in errors, not in the client config we suggest

    @property
    def is_switch(self) -> bool:
        """A flag without a value: --sandbox sets True; --no-audit-stderr sets False."""
        return isinstance(self.default, bool)


def _option(name: str, field: FieldInfo) -> Option:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    annotation = field.annotation
    literal_args = getattr(annotation, "__args__", ()) if get_origin(annotation) is Literal else ()
    return Option(
        name=name,
        env=str(field.validation_alias),
        flag=str(extra.get(FLAG_KEY) or "--" + name.replace("_", "-")),
        help=field.description or "",
        default=field.default,
        section=str(extra[SECTION_KEY]) if SECTION_KEY in extra else None,
        choices=tuple(literal_args) or None,
        secret=SecretStr in (annotation, *getattr(annotation, "__args__", ())),
    )


OPTIONS: dict[str, Option] = {name: _option(name, field) for name, field in Settings.model_fields.items()}


def options() -> Iterator[Option]:
    yield from OPTIONS.values()


def settings_error_text(exc: ValidationError) -> str:
    """One line naming each bad setting (its variable, and its flag when a flag gave it).

    The only place that turns a settings error into text. It never shows an input value: any
    setting may hold a secret (a swapped variable puts the API key in PROPELAUTH_AUTH_URL).
    """
    by_env = {option.env: option for option in options()}
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        message = error["msg"].removeprefix("Value error, ")
        where = str(error["loc"][0]) if error["loc"] else ""
        if where in by_env:  # the value came from the environment
            problems.append(f"{where}: {message}")
        elif where in OPTIONS:  # from a flag (or a caller passing the field by name)
            option = OPTIONS[where]
            problems.append(f"{option.env} ({option.flag}): {message}")
        else:
            problems.append(message)
    return "; ".join(problems)
