"""What reaches PropelAuth is what the advertised schema means, through the MCP layer against the sandbox."""

from __future__ import annotations

import pytest
from mcp import Client

from sandbox import Sandbox
from sandbox.demo import demo_user_id

pytestmark = pytest.mark.anyio

ADA = demo_user_id("ada@example.com")


@pytest.mark.parametrize(
    "user_id",
    [  # forms Python's uuid.UUID parses; the first two are Ada's own id, spelled with other digits
        "\u0666" + ADA[1:],
        "\uff16" + ADA[1:],
        ADA[:4] + "_" + ADA[5:],
        "0x" + ADA[2:],
        "+" + ADA[1:],
        " " + ADA[1:],
        ADA[:-1] + "\n",
    ],
    ids=ascii,
)
async def test_a_confirmed_delete_with_a_lax_uuid_form_sends_nothing(
    client: Client, sandbox: Sandbox, user_id: str
) -> None:
    before = sandbox.requests_received
    result = await client.call_tool("delete_user", {"user_id": user_id, "confirm": True})
    assert result.is_error and result.content[0].text.startswith("Invalid arguments for delete_user")
    assert sandbox.requests_received == before
    assert sandbox.store.get_user(ADA) is not None
