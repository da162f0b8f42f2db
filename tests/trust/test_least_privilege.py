"""The operator can give an agent less than everything: exposure flags and env vars (with their documented
precedence), and the blast-radius limit on confirmed destructive calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from sandbox.demo import demo_user_id
from server.app import create_server
from server.audit import AuditTrail
from server.cli import _parser, load_settings
from server.limits import SlidingWindowLimit
from server.propelauth_client import PropelAuthClient
from server.settings import Settings
from server.tool_service import ToolService
from tests.conftest import API_KEY, AUTH_URL, make_settings
from tests.demo_arguments import demo_arguments
from tests.jsonrpc import HANDSHAKE, as_lines
from tests.trust.conftest import RecordingSandbox, read_records
from tools import tool_definitions
from tools.catalog import DEFAULT_TOOLSETS

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("quiet_logs")]

ADA = demo_user_id("ada@example.com")
GRACE = demo_user_id("grace.hopper@example.com")
ALL = {d.name for d in tool_definitions()}
READ_ONLY = {d.name for d in tool_definitions() if d.read_only}
DESTRUCTIVE = {d.name for d in tool_definitions() if d.destructive}
# What a server offers without --toolsets or --tools (the other filters then narrow it).
DEFAULT = {d.name for d in tool_definitions() if d.toolset in DEFAULT_TOOLSETS}
DEFINITIONS = {d.name: d for d in tool_definitions()}


ENV_NAMES = (
    "PROPELAUTH_MCP_READ_ONLY",
    "PROPELAUTH_MCP_TOOLSETS",
    "PROPELAUTH_MCP_TOOLS",
    "PROPELAUTH_MCP_EXCLUDE_TOOLS",
    "PROPELAUTH_MCP_DESTRUCTIVE_LIMIT",
    "PROPELAUTH_MCP_DESTRUCTIVE_WINDOW",
    "PROPELAUTH_AUTH_URL",
    "PROPELAUTH_API_KEY",
    "PROPELAUTH_MCP_SANDBOX",
    "PROPELAUTH_MCP_AUDIT_LOG",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def settings_from(argv: list[str], audit_path: Path) -> Settings:
    """Settings as the CLI builds them: flags parsed by the real parser, the rest from the environment."""
    base = ["--auth-url", AUTH_URL, "--api-key", API_KEY, "--audit-log", str(audit_path)]
    return load_settings(_parser().parse_args([*base, *argv]))  # type: ignore[no-any-return]


@asynccontextmanager
async def connected(settings: Settings, front: RecordingSandbox) -> AsyncIterator[Client]:
    trail = AuditTrail(settings.audit_path)
    server = create_server(settings, trail, transport=httpx2.ASGITransport(app=front))
    try:
        with anyio.fail_after(20):
            async with Client(server, mode="legacy") as client:
                yield client
    finally:
        trail.close()


# (flags, environment, the tools offered)
SELECTIONS: list[tuple[list[str], dict[str, str], set[str]]] = [
    ([], {}, DEFAULT),
    (["--toolsets", "all"], {}, ALL),
    (["--read-only"], {}, READ_ONLY & DEFAULT),
    ([], {"PROPELAUTH_MCP_READ_ONLY": "true"}, READ_ONLY & DEFAULT),
    (["--read-only", "--toolsets", "all"], {}, READ_ONLY),
    (["--toolsets", "sessions,employees"], {}, {"logout_all_user_sessions", "fetch_employee_by_id"}),
    (
        [],
        {"PROPELAUTH_MCP_TOOLSETS": "sessions, employees"},
        {"logout_all_user_sessions", "fetch_employee_by_id"},
    ),
    (["--tools", "fetch_user_by_id,enable_user"], {}, {"fetch_user_by_id", "enable_user"}),
    ([], {"PROPELAUTH_MCP_TOOLS": "fetch_user_by_id,enable_user"}, {"fetch_user_by_id", "enable_user"}),
    (
        ["--exclude-tools", "delete_user,create_access_token", "--toolsets", "all"],
        {},
        ALL - {"delete_user", "create_access_token"},
    ),
    (
        [],
        {"PROPELAUTH_MCP_EXCLUDE_TOOLS": "delete_user,create_access_token"},
        DEFAULT - {"delete_user"},
    ),
    # --tools replaces --toolsets
    (["--toolsets", "employees", "--tools", "query_users,delete_user"], {}, {"query_users", "delete_user"}),
    # --exclude-tools then removes from what --tools / --toolsets chose
    (["--tools", "query_users,delete_user", "--exclude-tools", "delete_user"], {}, {"query_users"}),
    (["--toolsets", "migration", "--exclude-tools", "migrate_user"], {}, {"migrate_user_password"}),
    # --read-only removes every tool that is not read-only, whatever else says
    (["--read-only", "--tools", "fetch_user_by_id,delete_user"], {}, {"fetch_user_by_id"}),
    (["--read-only", "--toolsets", "magic_links,access_tokens"], {}, set()),
    # flags win over environment variables
    (["--toolsets", "employees"], {"PROPELAUTH_MCP_TOOLSETS": "users"}, {"fetch_employee_by_id"}),
    (["--tools", "query_users"], {"PROPELAUTH_MCP_TOOLS": "delete_user"}, {"query_users"}),
    # variables of different settings combine with the same precedence as flags
    (
        ["--exclude-tools", "fetch_user_by_email"],
        {"PROPELAUTH_MCP_READ_ONLY": "1"},
        (READ_ONLY & DEFAULT) - {"fetch_user_by_email"},
    ),
]


def _selection_id(flags: list[str], env: dict[str, str]) -> str:
    return " ".join([*flags, *(f"{k}={v}" for k, v in env.items())])


@pytest.mark.parametrize(
    ("flags", "env", "expected"), SELECTIONS, ids=[_selection_id(f, e) for f, e, _ in SELECTIONS]
)
async def test_only_the_selected_tools_are_listed_and_a_hidden_one_is_refused_before_propelauth(
    flags: list[str],
    env: dict[str, str],
    expected: set[str],
    monkeypatch: pytest.MonkeyPatch,
    audit_path: Path,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = settings_from(flags, audit_path)
    front = RecordingSandbox()
    hidden = sorted(ALL - expected)
    async with connected(settings, front) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        assert listed == expected
        for name in hidden[:3]:
            with pytest.raises(MCPError) as refused:
                await client.call_tool(name, {"user_id": ADA, "confirm": True})
            assert refused.value.code == INVALID_PARAMS
    assert front.seen == [] and front.sandbox.requests_received == 0
    records = read_records(audit_path)
    assert [(r["tool"], r["outcome"], r["details"]["reason"]) for r in records] == [
        (name, "rejected", "unknown_tool") for name in hidden[:3]
    ]


async def test_an_unknown_name_in_a_selection_is_refused_at_start_up(audit_path: Path) -> None:
    settings = settings_from(["--tools", "fetch_user_by_id,drop_database"], audit_path)
    with pytest.raises(ValueError, match="drop_database"):
        ToolService(settings, AuditTrail(None))


def test_the_real_entry_point_honours_read_only_over_stdio(tmp_path: Path) -> None:
    """One check through the console script itself: flags reach tools/list and tools/call."""
    entry_point = str(Path(sys.executable).parent / "propelauth-mcp")
    messages = [
        *HANDSHAKE,
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "delete_user", "arguments": {"user_id": ADA, "confirm": True}},
        },
    ]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROPELAUTH")},
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PROPELAUTH_MCP_TOOLS": "fetch_user_by_id,delete_user",
    }
    proc = subprocess.Popen(
        [
            entry_point,
            "--sandbox",
            "--sandbox-db",
            ":memory:",
            "--read-only",
            "--audit-log",
            str(tmp_path / "a.jsonl"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write(as_lines(messages))
    proc.stdin.flush()
    lines = [proc.stdout.readline() for _ in range(3)]  # one reply per request; stdin stays open meanwhile
    proc.stdin.close()
    proc.wait(timeout=60)
    proc.stdout.close()
    replies = {reply["id"]: reply for reply in map(json.loads, lines)}
    assert [tool["name"] for tool in replies[2]["result"]["tools"]] == ["fetch_user_by_id"]
    assert replies[3]["error"]["code"] == INVALID_PARAMS
    [record] = read_records(tmp_path / "a.jsonl")
    assert (record["tool"], record["outcome"]) == ("delete_user", "rejected")


# --- the blast-radius limit -------------------------------------------------------------------------------


class LimitRig:
    def __init__(self, service: ToolService, backend: PropelAuthClient, front: RecordingSandbox) -> None:
        self.service, self.backend, self.front = service, backend, front

    async def call(self, name: str, arguments: dict[str, Any]) -> Any:
        with anyio.fail_after(20):
            return await self.service.call(self.backend, name, arguments, client=None, caller=None)

    def sent(self, method: str) -> int:
        return sum(1 for seen in self.front.seen if seen.method == method)


@asynccontextmanager
async def limit_rig(audit_path: Path, **overrides: Any) -> AsyncIterator[LimitRig]:
    settings = make_settings(audit_path, **overrides)
    trail = AuditTrail(audit_path)
    front = RecordingSandbox()
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=front),
        base_url=AUTH_URL,
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as http:
        try:
            yield LimitRig(ToolService(settings, trail), PropelAuthClient(http), front)
        finally:
            trail.close()


def text_of(result: Any) -> str:
    return str(result.content[0].text)


async def test_the_call_past_the_destructive_limit_is_refused_recorded_and_never_sent(
    audit_path: Path,
) -> None:
    async with limit_rig(audit_path, destructive_limit=2) as r:
        first = await r.call("disable_user", {"user_id": ADA, "confirm": True})
        second = await r.call("logout_all_user_sessions", {"user_id": GRACE, "confirm": True})
        posts_before = r.sent("POST")
        third = await r.call("delete_user", {"user_id": GRACE, "confirm": True})
        assert r.sent("DELETE") == 0 and r.sent("POST") == posts_before
        assert r.front.sandbox.store.get_user(GRACE) is not None
    assert not first.is_error and not second.is_error
    assert third.is_error and "limit of 2" in text_of(third) and "Nothing was sent" in text_of(third)
    records = [rec for rec in read_records(audit_path) if rec["tool"] == "delete_user"]
    assert [(rec["kind"], rec["outcome"], rec["confirmed"]) for rec in records] == [
        ("outcome", "rejected", True)
    ]
    assert records[0]["details"]["reason"] == "refused" and records[0]["target"] == {"user_id": GRACE}


async def test_a_destructive_limit_of_zero_forbids_every_confirmed_destructive_call(audit_path: Path) -> None:
    async with limit_rig(audit_path, destructive_limit=0) as r:
        results = {
            name: await r.call(name, demo_arguments(DEFINITIONS[name])) for name in sorted(DESTRUCTIVE)
        }
        preview = await r.call("delete_user", {"user_id": ADA})
        enable = await r.call("enable_user", {"user_id": ADA})
    for result in results.values():
        assert result.is_error and "disabled" in text_of(result) and "Nothing was sent" in text_of(result)
    assert r.sent("DELETE") == 0 and r.sent("PUT") == 0
    assert r.sent("POST") == 1  # only enable_user, which is not destructive
    assert not preview.is_error and "confirm" in text_of(preview) and not enable.is_error


async def test_previews_and_other_writes_do_not_use_up_the_destructive_budget(audit_path: Path) -> None:
    async with limit_rig(audit_path, destructive_limit=1) as r:
        for _ in range(5):
            preview = await r.call("delete_user", {"user_id": GRACE})
            assert not preview.is_error and preview.structured_content is not None
            assert preview.structured_content["confirmation_required"] is True
            await r.call("enable_user", {"user_id": ADA})
        confirmed = await r.call("delete_user", {"user_id": GRACE, "confirm": True})
        next_one = await r.call("disable_user", {"user_id": ADA, "confirm": True})
    assert not confirmed.is_error and r.front.sandbox.store.get_user(GRACE) is None
    assert next_one.is_error and "limit of 1" in text_of(next_one)


async def test_a_refused_call_does_not_use_up_a_slot_either(audit_path: Path) -> None:
    """Invalid arguments and hidden tools are refused before the limit is consulted."""
    async with limit_rig(audit_path, destructive_limit=1) as r:
        await r.call("delete_user", {"user_id": "../employee/x", "confirm": True})
        await r.call("delete_user", {"user_id": GRACE, "confirm": "yes"})
        ok = await r.call("delete_user", {"user_id": GRACE, "confirm": True})
    assert not ok.is_error


async def test_the_sliding_window_frees_slots_as_time_passes(audit_path: Path) -> None:
    now = [0.0]
    async with limit_rig(audit_path) as r:
        r.service.limit = SlidingWindowLimit(2, 3600.0, clock=lambda: now[0])
        assert not (await r.call("logout_all_user_sessions", {"user_id": ADA, "confirm": True})).is_error
        now[0] = 1000.0
        assert not (await r.call("logout_all_user_sessions", {"user_id": ADA, "confirm": True})).is_error
        now[0] = 3000.0
        refused = await r.call("logout_all_user_sessions", {"user_id": ADA, "confirm": True})
        assert refused.is_error and "frees in 600 s" in text_of(refused)
        now[0] = 3600.0  # the first slot (taken at 0) has left the window
        assert not (await r.call("logout_all_user_sessions", {"user_id": ADA, "confirm": True})).is_error
        assert (await r.call("logout_all_user_sessions", {"user_id": ADA, "confirm": True})).is_error
    assert r.sent("POST") == 3


@pytest.mark.parametrize(
    ("flags", "env"),
    [
        (["--destructive-limit", "3", "--destructive-window", "60"], {}),
        ([], {"PROPELAUTH_MCP_DESTRUCTIVE_LIMIT": "3", "PROPELAUTH_MCP_DESTRUCTIVE_WINDOW": "60"}),
        (
            ["--destructive-limit", "3"],
            {"PROPELAUTH_MCP_DESTRUCTIVE_LIMIT": "50", "PROPELAUTH_MCP_DESTRUCTIVE_WINDOW": "60"},
        ),
    ],
)
def test_the_limit_is_set_by_flag_or_environment(
    flags: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch, audit_path: Path
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    service = ToolService(settings_from(flags, audit_path), AuditTrail(None))
    assert (service.limit.limit, service.limit.window_s) == (3, 60.0)


def test_the_default_limit_is_ten_an_hour(audit_path: Path) -> None:
    service = ToolService(settings_from([], audit_path), AuditTrail(None))
    assert (service.limit.limit, service.limit.window_s) == (10, 3600.0)
