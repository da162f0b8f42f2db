"""Helpers of the end-to-end tests of the org, membership, invite and batch user tools.

A module of its own (not a conftest.py) so that it cannot clash with fixtures added elsewhere; the
tests build their clients from the shared fixtures of tests/conftest.py.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.types import CallToolResult, TextContent

from sandbox import Sandbox
from sandbox.demo import HARBOR_HEALTH, LUMEN_LABS, NORTHWIND, demo_user_id
from server.app import create_server
from server.audit import AuditTrail
from server.settings import Settings
from tests.conftest import CLIENT_INFO
from tests.trust.conftest import RecordingSandbox

ADA = demo_user_id("ada@example.com")  # Owner of Lumen Labs, Member of Northwind Traders
GRACE = demo_user_id("grace.hopper@example.com")  # Admin of Lumen Labs (+ Billing Admin)
MARCUS = demo_user_id("marcus.reed@example.com")  # Owner of Northwind, 2FA by SMS
SOFIA = demo_user_id("sofia.rossi@example.com")  # in no org, invited to Northwind
LIAM = demo_user_id("liam.murphy@example.com")  # in no org, signed up with UTM parameters
UNKNOWN = "0f0e0d0c-0b0a-4909-8807-060504030201"
UNKNOWN_ORG = "5b0e8a7c-3f2d-4c1b-9a8e-7d6c5b4a3f21"
ORGS = (LUMEN_LABS, NORTHWIND, HARBOR_HEALTH)


async def call_ok(client: Client, name: str, arguments: dict[str, Any]) -> CallToolResult:
    """Call a tool, require success, and check the structured content against the advertised schema."""
    with anyio.fail_after(20):
        result = await client.call_tool(name, arguments)
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert not result.is_error, result.content
    assert tools[name].output_schema is not None
    Draft202012Validator(tools[name].output_schema).validate(result.structured_content)
    assert text_of(result)
    return result


async def call_error(client: Client, name: str, arguments: dict[str, Any]) -> str:
    """Call a tool, require a tool error (not a protocol error), and return its text."""
    with anyio.fail_after(20):
        result = await client.call_tool(name, arguments)
    assert result.is_error, result.content
    return text_of(result)


async def call_preview(client: Client, name: str, arguments: dict[str, Any]) -> str:
    """Call a gated tool without confirm: true; require a preview (an answer, not an error: the
    structured content checked against the advertised schema) and return its text."""
    result = await call_ok(client, name, arguments)
    assert structured(result)["confirmation_required"] is True
    return text_of(result)


async def call_unconfirmed(client: Client, name: str, arguments: dict[str, Any]) -> CallToolResult:
    """A gated call without a literal confirm: true: a preview when confirm is left out or false, an
    invalid-arguments error when it is given as anything but a boolean."""
    with anyio.fail_after(20):
        result = await client.call_tool(name, arguments)
    assert result.is_error == (arguments.get("confirm", False) not in (None, False)), result.content
    return result


def text_of(result: CallToolResult) -> str:
    """The text a tool answered (every tool answers one text block first)."""
    assert result.content and isinstance(result.content[0], TextContent)
    return result.content[0].text


def structured(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None
    return result.structured_content


def org_state(sandbox: Sandbox) -> tuple[Any, ...]:
    """Everything an org, membership or invite tool could change: orgs, memberships, invites, users."""
    store = sandbox.store
    orgs = {org_id: store.orgs.get(org_id) for org_id in ORGS}
    members = {
        org_id: store.orgs.members_page(org_id, role=None, page_size=100, page_number=0) for org_id in ORGS
    }
    member_rows = {
        org_id: [(r["user_id"], r["member_role"], r["member_additional_roles"]) for r in rows]
        for org_id, (rows, _) in members.items()
    }
    invites = store.invites.pending_page(now=int(time.time()), org_id=None, page_size=100, page_number=0)
    users = [store.get_user(user_id, include_orgs=True) for user_id in (ADA, GRACE, MARCUS, SOFIA, LIAM)]
    return orgs, member_rows, invites, users, store.count_users(), store.orgs.subscriptions()


def writes(front: RecordingSandbox) -> list[str]:
    """The requests that could change something (anything but a GET), as "METHOD path"."""
    return [f"{seen.method} {seen.path}" for seen in front.seen if seen.method != "GET"]


@asynccontextmanager
async def recorded_client(
    settings: Settings, audit: AuditTrail, front: RecordingSandbox
) -> AsyncIterator[Client]:
    """A client whose server's requests pass through `front`, which records them."""
    server = create_server(settings, audit, transport=httpx2.ASGITransport(app=front))
    with anyio.fail_after(30):
        async with Client(server, mode="legacy", client_info=CLIENT_INFO) as connected:
            yield connected
