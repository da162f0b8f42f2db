"""Privileges per caller: the policy grammar, its start-up errors, and which tools each caller resolves to."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from server.audit import AuditTrail
from server.caller_policies import parse_scope_policies, parse_token_policies
from server.callers import Caller
from server.settings import Settings, settings_error_text
from server.tool_service import ToolService
from tests.conftest import make_settings
from tools import ExposurePolicy, tool_definitions

DEFINITIONS = {d.name: d for d in tool_definitions()}
EVERY_TOOL = frozenset(DEFINITIONS)
READ_ONLY = frozenset(name for name, d in DEFINITIONS.items() if d.read_only)
USERS = frozenset(name for name, d in DEFINITIONS.items() if d.toolset == "users")
ORGS = frozenset(name for name, d in DEFINITIONS.items() if d.toolset == "orgs")
TOKENS = "alice=alice-0123456789abcdefghijklmn,ci-bot=ci-bot-zyxwvutsrqponmlkjihgfe"
# Shaped like a bearer token: pasted into a policy variable by mistake, it must never be shown.
SECRET = "tok-8a3f0c1e9b7d4f2a6c5e0b1d3f7a9c2e"


def oauth(*scopes: str) -> Caller:
    return Caller(
        "user-1", user_id="user-1", email="ada@example.com", client_id="c-1", scopes=frozenset(scopes)
    )


# --- the grammar -------------------------------------------------------------------------------------


def test_the_issue_example_parses_into_the_servers_own_filters() -> None:
    policies = parse_scope_policies("read:users=read-only;admin:users=all;support=toolsets:users+read-only")
    assert policies == {
        "read:users": ExposurePolicy(read_only=True),
        "admin:users": ExposurePolicy(),
        "support": ExposurePolicy(read_only=True, toolsets=frozenset({"users"})),
    }


def test_a_key_is_split_at_the_first_equals_and_blanks_and_a_trailing_semicolon_are_ignored() -> None:
    policies = parse_scope_policies(
        " urn:x:scope = tools:query_users , fetch_user_by_id + exclude:query_users ;"
    )
    assert policies == {
        "urn:x:scope": ExposurePolicy(
            tools=frozenset({"query_users", "fetch_user_by_id"}), exclude_tools=frozenset({"query_users"})
        )
    }


def test_toolsets_all_means_every_toolset() -> None:
    [policy] = parse_token_policies("alice=toolsets:all").values()
    assert set(policy.toolsets or ()) == {d.toolset for d in DEFINITIONS.values()}


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("read:users", "entry 1", "expected scope=policy"),
        ("a=all;b=", "entry 2", "expected scope=policy"),
        ("a=all;;b=everything", "entry 3", "unknown term 'everything'"),
        ("a=all;a=read-only", "entry 2", "appears twice"),
        ("a=read-only+read-only", "entry 1", "appears twice"),
        ("a=toolsets:users,nope", "entry 1", "unknown toolset(s) nope; valid: users"),
        ("a=tools:no_such_tool", "entry 1", "unknown tool(s) no_such_tool; valid: "),
        ("a=exclude:no_such_tool", "entry 1", "unknown tool(s) no_such_tool"),
        ("a=toolsets:", "entry 1", "names no toolset"),
        ("a=all+toolsets:users", "entry 1", "contradict"),
        ("a=toolsets:users+tools:query_users", "entry 1", "replaces toolsets"),
        ('a"b=all', "entry 1", "not a valid scope"),
        ("  ;  ", "no entry", "expected scope=policy"),
    ],
)
def test_a_bad_scope_policy_names_the_entry_and_the_bad_term(text: str, where: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="^" + where) as caught:
        parse_scope_policies(text)
    assert fragment in str(caught.value)


def test_an_unknown_tool_error_lists_the_valid_tools() -> None:
    with pytest.raises(ValueError) as caught:
        parse_token_policies("alice=tools:querry_users")
    assert all(name in str(caught.value) for name in EVERY_TOOL)


def test_a_token_pasted_as_a_policy_is_never_shown_in_the_error() -> None:
    for text in (f"alice={SECRET}", f"{SECRET} x=all", f"alice=all+{SECRET}"):
        with pytest.raises(ValueError) as caught:
            parse_token_policies(text)
        assert SECRET not in str(caught.value) and SECRET[:16] not in str(caught.value)


# --- settings: validated at start-up ---------------------------------------------------------------------


def settings_error(audit_path: Path, **values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        make_settings(audit_path, **values)
    return settings_error_text(caught.value)


def test_a_bad_scope_policy_is_a_start_up_error_naming_the_variable(audit_path: Path) -> None:
    text = settings_error(audit_path, scope_policies="read:users=read-only;admin:users=al")
    assert text.startswith("PROPELAUTH_MCP_SCOPES (--scopes): entry 2: unknown term 'al'")


def test_a_token_policy_for_a_name_not_configured_is_a_start_up_error(audit_path: Path) -> None:
    text = settings_error(audit_path, http_tokens=TOKENS, token_policies="alice=read-only;bob=all")
    assert text.startswith("PROPELAUTH_MCP_TOKEN_POLICIES (--token-policies): ") and "bob" in text
    assert "alice-0123456789" not in text


def test_a_token_policy_may_name_a_token_from_the_tokens_file(audit_path: Path, tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text("# operators\nbob=bob-0123456789abcdefghijklmnop\n")
    settings = make_settings(
        audit_path, http_tokens=TOKENS, http_tokens_file=file, token_policies="bob=read-only;ci-bot=all"
    )
    assert settings.token_policies == "bob=read-only;ci-bot=all"


def test_policies_come_from_the_environment_too(audit_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPELAUTH_MCP_TOKENS", TOKENS)
    monkeypatch.setenv("PROPELAUTH_MCP_TOKEN_POLICIES", "ci-bot=toolsets:users")
    monkeypatch.setenv("PROPELAUTH_MCP_SCOPES", "read:users=read-only")
    settings = Settings(auth_url="http://x.test", api_key="k", audit_log=audit_path)  # type: ignore[call-arg]
    assert (settings.token_policies, settings.scope_policies) == (
        "ci-bot=toolsets:users",
        "read:users=read-only",
    )


# --- resolution: within the server's own exposure ------------------------------------------------------


def service(audit_path: Path, **values: object) -> ToolService:
    trail = AuditTrail(audit_path)
    trail.close()  # resolution writes nothing
    return ToolService(make_settings(audit_path, http_tokens=TOKENS, **values), trail)


def listed(svc: ToolService, caller: Caller | None) -> set[str]:
    return {tool.name for tool in svc.listing_for(caller).tools}


def test_with_no_caller_stdio_and_in_memory_get_the_whole_exposure(audit_path: Path) -> None:
    svc = service(audit_path, token_policies="alice=read-only", scope_policies="read:users=read-only")
    assert listed(svc, None) == EVERY_TOOL
    assert svc.listing_for(None) is svc.listing


def test_a_token_name_gets_its_policy_and_an_unlisted_name_gets_everything(audit_path: Path) -> None:
    svc = service(audit_path, token_policies="alice=read-only")
    assert listed(svc, Caller("alice")) == READ_ONLY
    assert listed(svc, Caller("ci-bot")) == EVERY_TOOL


def test_an_oauth_caller_gets_the_union_of_its_scopes_policies(audit_path: Path) -> None:
    svc = service(audit_path, scope_policies="users=toolsets:users;orgs=toolsets:orgs+read-only;x=all")
    assert listed(svc, oauth("users")) == USERS
    assert listed(svc, oauth("users", "orgs", "unmapped")) == USERS | (ORGS & READ_ONLY)


def test_an_oauth_caller_with_no_mapped_scope_gets_no_tools(audit_path: Path) -> None:
    svc = service(audit_path, scope_policies="admin=all")
    assert listed(svc, oauth("profile", "email")) == set()
    assert listed(svc, Caller("user-2", user_id="user-2")) == set()  # signed in, no scopes at all


def test_an_oauth_caller_is_never_given_a_token_names_policy(audit_path: Path) -> None:
    # A PropelAuth user id equal to a token name must not inherit that token's (unlisted: all) privileges.
    svc = service(audit_path, scope_policies="admin=all")
    assert listed(svc, Caller("alice", user_id="alice", scopes=frozenset({"profile"}))) == set()


def test_the_server_wide_read_only_still_wins_over_a_callers_all(audit_path: Path) -> None:
    svc = service(audit_path, read_only=True, token_policies="alice=all", scope_policies="admin=all")
    assert listed(svc, Caller("alice")) == READ_ONLY
    assert listed(svc, oauth("admin")) == READ_ONLY


def test_the_server_wide_toolsets_bound_a_callers_tools_allow_list(audit_path: Path) -> None:
    svc = service(audit_path, toolsets={"orgs"}, token_policies="alice=tools:query_users,fetch_org")
    assert listed(svc, Caller("alice")) == {"fetch_org"}


def test_callers_with_the_same_tools_share_one_listing(audit_path: Path) -> None:
    svc = service(
        audit_path, token_policies="alice=read-only;ci-bot=read-only", scope_policies="r=read-only;a=all"
    )
    shared = svc.listing_for(Caller("alice"))
    assert svc.listing_for(Caller("ci-bot")) is shared
    assert svc.listing_for(oauth("r")) is shared and svc.listing_for(oauth("r", "other")) is shared
    assert svc.listing_for(oauth("a")) is svc.listing  # all of it: the server's own answer
