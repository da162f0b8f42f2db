"""Test helpers for the tool layer: a recording fake Backend and realistic PropelAuth bodies."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tools import get_definition
from tools.backend import ApiRequest, ApiResponse, BackendError
from tools.model import ToolDefinition

USER_ID = "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
OTHER_ID = "0b6c2a7e-31f4-4d8a-9e55-2f7c1d3b4a60"

Reply = ApiResponse | BackendError | Callable[[ApiRequest], ApiResponse]


class RecordingBackend:
    """Records every request; answers each from a script (one reply per request, the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies: list[Reply] = list(replies) or [ApiResponse(200, {})]
        self.requests: list[ApiRequest] = []

    async def send(self, request: ApiRequest) -> ApiResponse:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BackendError):
            raise reply
        if isinstance(reply, ApiResponse):
            return reply
        return reply(request)

    @property
    def state_changing(self) -> list[ApiRequest]:
        return [request for request in self.requests if request.changes_state or request.method != "GET"]


def user_body(user_id: str = USER_ID, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "user_id": user_id,
        "email": "ada@example.com",
        "email_confirmed": True,
        "has_password": True,
        "username": "ada",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "picture_url": None,
        "properties": {},
        "metadata": None,
        "locked": False,
        "enabled": True,
        "mfa_enabled": True,
        "can_create_orgs": False,
        "created_at": 1_700_000_000,
        "last_active_at": 1_720_000_000,
        "legacy_user_id": None,
        "impersonator_user_id": None,
    }
    body.update(overrides)
    return body


def definition(name: str) -> ToolDefinition:
    found = get_definition(name)
    assert found is not None, name
    return found


ORG_ID = "3d9e8f7a-6b5c-4d3e-9f1a-2b3c4d5e6f70"


def org_body(org_id: str = ORG_ID, **overrides: Any) -> dict[str, Any]:
    """An organization as fetch_org answers it."""
    body: dict[str, Any] = {
        "org_id": org_id,
        "name": "Northwind",
        "url_safe_org_slug": "northwind",
        "can_setup_saml": True,
        "is_saml_configured": False,
        "is_saml_in_test_mode": False,
        "max_users": 25,
        "metadata": {},
        "domain": "northwind.example",
        "extra_domains": [],
        "domain_autojoin": True,
        "domain_restrict": False,
        "custom_role_mapping_name": None,
        "legacy_org_id": None,
    }
    body.update(overrides)
    return body


def member_body(user_id: str = USER_ID, role: str = "Admin", **overrides: Any) -> dict[str, Any]:
    """A user as fetch_users_in_org lists them: a User with their role in that org."""
    return user_body(user_id, **{"role_in_org": role, "additional_roles_in_org": [], **overrides})


def invite_body(email: str = "grace@example.com", org_id: str = ORG_ID, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "invitee_email": email,
        "org_id": org_id,
        "org_name": "Northwind",
        "role_in_org": "Member",
        "additional_roles_in_org": [],
        "created_at": 1_700_000_000,
        "expires_at": 1_700_604_800,
        "inviter_email": "ada@example.com",
        "inviter_user_id": USER_ID,
    }
    body.update(overrides)
    return body


def page_body(key: str, items: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """A PropelAuth page: `key` holds the items, `total_<key>` their count."""
    body: dict[str, Any] = {
        key: items,
        f"total_{key}": len(items),
        "current_page": 0,
        "page_size": 10,
        "has_more_results": False,
    }
    body.update(overrides)
    return body


class FakeSealer:
    """A Sealer as the server's (AES-GCM, any change seen), with a key of its own per instance."""

    def __init__(self, key: bytes | None = None) -> None:
        self._aead = AESGCM(key or AESGCM.generate_key(bit_length=256))

    def seal(self, data: bytes) -> str:
        nonce = os.urandom(12)
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, data, None)).decode()

    def unseal(self, sealed: str) -> bytes:
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            return self._aead.decrypt(raw[:12], raw[12:], None)
        except (InvalidTag, ValueError) as error:
            raise ValueError("not sealed by this key") from error
