"""The default surface: without --toolsets a server offers the common administrator's day; `all` or names
offer the rest, and an allow list of tools still replaces the toolsets."""

from __future__ import annotations

import pytest

from server.settings import Settings
from tools import ExposurePolicy, tool_definitions
from tools.catalog import DEFAULT_TOOLSETS, TOOLSETS

ALL = tool_definitions()


@pytest.fixture(autouse=True)
def no_toolset_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PROPELAUTH_MCP_TOOLSETS", "PROPELAUTH_MCP_TOOLS", "PROPELAUTH_MCP_EXCLUDE_TOOLS"):
        monkeypatch.delenv(name, raising=False)


def exposed(settings: Settings) -> set[str]:
    policy = ExposurePolicy(
        toolsets=settings.toolsets, tools=settings.tools, exclude_tools=settings.exclude_tools
    )
    return {d.name for d in policy.exposed(ALL)}


def test_without_toolsets_a_server_offers_the_default_set_and_not_the_rest() -> None:
    settings = Settings(sandbox=True)
    assert settings.toolsets == set(DEFAULT_TOOLSETS)
    names = exposed(settings)
    assert {"fetch_user_by_id", "delete_org", "remove_user_from_org", "logout_all_user_sessions"} <= names
    assert "create_magic_link" in names
    assert not names & {"delete_api_key", "saml_go_live", "fetch_chart_metrics", "create_access_token"}


@pytest.mark.parametrize("value", ["all", "users,all"])
def test_toolsets_all_offers_every_tool(value: str) -> None:
    settings = Settings(sandbox=True, toolsets=value)
    assert settings.toolsets == set(TOOLSETS)
    assert exposed(settings) == {d.name for d in ALL}


def test_toolsets_by_name_offer_exactly_those() -> None:
    names = exposed(Settings(sandbox=True, toolsets="sso,api_keys"))
    assert names == {d.name for d in ALL if d.toolset in {"sso", "api_keys"}}


def test_an_allow_list_of_tools_replaces_the_default_toolsets() -> None:
    assert exposed(Settings(sandbox=True, tools="fetch_api_key,fetch_org")) == {"fetch_api_key", "fetch_org"}


def test_every_default_toolset_is_a_real_one() -> None:
    assert set(DEFAULT_TOOLSETS) < set(TOOLSETS)
