"""Organizations off (426 wherever orgs are involved); an older database file gaining the new columns."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx2
import pytest

from sandbox import create_app
from sandbox.demo import KNOWN_USER_EMAIL, LUMEN_LABS, demo_user_id
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, API_KEY, client_for, fetch_user

pytestmark = pytest.mark.anyio

ADA = demo_user_id(KNOWN_USER_EMAIL)
ORG_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", f"/org/{LUMEN_LABS}", None),
    ("GET", "/org/query", None),
    ("POST", "/org/query", {}),
    ("POST", "/org/", {"name": "New"}),
    ("PUT", f"/org/{LUMEN_LABS}", {"name": "Renamed"}),
    ("DELETE", f"/org/{LUMEN_LABS}", None),
    ("GET", "/custom_role_mappings", None),
    ("POST", "/org/add_user", {"user_id": ADA, "org_id": LUMEN_LABS, "role": "Member"}),
    ("POST", "/org/change_role", {"user_id": ADA, "org_id": LUMEN_LABS, "role": "Member"}),
    ("POST", "/org/remove_user", {"user_id": ADA, "org_id": LUMEN_LABS}),
    ("GET", f"/user/org/{LUMEN_LABS}", None),
    ("POST", "/invite_user", {"email": "a@example.com", "org_id": LUMEN_LABS, "role": "Member"}),
    ("POST", "/invite_user_by_id", {"user_id": ADA, "org_id": LUMEN_LABS, "role": "Member"}),
    ("GET", "/pending_org_invites", None),
    ("DELETE", "/pending_org_invites", {"invitee_email": "a@example.com", "org_id": LUMEN_LABS}),
]


@pytest.mark.parametrize(("method", "path", "body"), ORG_ENDPOINTS)
async def test_every_org_endpoint_is_426_with_organizations_off_and_changes_nothing(
    seeded_app: Any, method: str, path: str, body: dict[str, Any] | None
) -> None:
    sandbox: Sandbox = seeded_app.state.sandbox
    sandbox.orgs_enabled = False
    async with client_for(seeded_app) as client:
        response = await client.request(method, f"{API}{path}", json=body)
        assert response.status_code == 426
        assert response.json() == {"message": "Organizations are not enabled for this project"}
        sandbox.orgs_enabled = True
        assert (await client.get(f"{API}/org/{LUMEN_LABS}")).json()["name"] == "Lumen Labs"
        assert LUMEN_LABS in (await fetch_user(client, ADA, include_orgs="true"))["org_id_to_org_info"]


async def test_user_endpoints_keep_working_with_organizations_off(
    seeded: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.orgs_enabled = False
    assert (await seeded.get(f"{API}/user/{ADA}/mfa")).status_code == 200
    assert (await seeded.post(f"{API}/user/user_ids", json={"user_ids": [ADA]})).status_code == 200


_SCHEMA_BEFORE_ORGS = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    email_confirmed INTEGER NOT NULL,
    password_hash TEXT,
    migrated_password_hash TEXT,
    mfa_secret TEXT,
    username TEXT,
    username_key TEXT UNIQUE,
    first_name TEXT,
    last_name TEXT,
    picture_url TEXT,
    locked INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1,
    can_create_orgs INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_active_at INTEGER,
    legacy_user_id TEXT,
    impersonator_user_id TEXT,
    metadata TEXT,
    properties TEXT,
    update_password_required INTEGER NOT NULL DEFAULT 0,
    session_generation INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS orgs (
    org_id TEXT PRIMARY KEY,
    org_name TEXT NOT NULL,
    url_safe_org_name TEXT NOT NULL,
    org_metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS memberships (
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES orgs(org_id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, org_id)
);
CREATE TABLE IF NOT EXISTS employees (employee_id TEXT PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS magic_links (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    single_use INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    create_user INTEGER NOT NULL,
    redirect_to_url TEXT
);
"""


async def test_an_older_database_file_gains_the_new_columns_and_keeps_its_data(tmp_path: Path) -> None:
    db = str(tmp_path / "old.db")
    org_id, user_id = LUMEN_LABS, ADA
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript(_SCHEMA_BEFORE_ORGS)
        conn.execute(
            "INSERT INTO orgs (org_id, org_name, url_safe_org_name, org_metadata) VALUES (?, ?, ?, ?)",
            (org_id, "Old Org", "old-org", "{}"),
        )
        conn.execute(
            "INSERT INTO users (user_id, email, email_key, email_confirmed, created_at)"
            " VALUES (?, ?, ?, 1, 0)",
            (user_id, "old@example.com", "old@example.com"),
        )
        conn.execute(
            "INSERT INTO memberships (user_id, org_id, role) VALUES (?, ?, 'Admin')", (user_id, org_id)
        )
        conn.commit()

    app = create_app(api_key=API_KEY, db_path=db)
    with closing(app.state.sandbox):
        async with client_for(app) as client:
            org = (await client.get(f"{API}/org/{org_id}")).json()
            assert (org["name"], org["max_users"], org["extra_domains"], org["domain_restrict"]) == (
                "Old Org",
                None,
                [],
                False,
            )
            member = (await fetch_user(client, user_id, include_orgs="true"))["org_id_to_org_info"][org_id]
            assert (member["user_role"], member["additional_roles"]) == ("Admin", [])
            assert (await client.get(f"{API}/user/{user_id}/signup_query_parameters")).json() == {
                "user_signup_query_parameters": {}
            }
            invited = await client.post(
                f"{API}/invite_user", json={"email": "new@example.com", "org_id": org_id, "role": "Member"}
            )
            assert invited.status_code == 200
