"""Persistence across restarts, seeding only new stores, and the demo data set."""

from __future__ import annotations

import gc
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx2
import pytest

from sandbox import create_app
from sandbox.demo import EMPLOYEES, KNOWN_USER_EMAIL, ORGS, USERS, demo_user_id
from tests.sandbox.sandbox_testkit import API, API_KEY, client_for, create_user

pytestmark = pytest.mark.anyio


async def test_data_survives_a_restart_with_a_file(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    first = create_app(api_key=API_KEY, db_path=db)
    async with client_for(first) as client:
        user_id = await create_user(client, email="ada@example.com", first_name="Ada")
    first.state.sandbox.store.close()
    second = create_app(api_key=API_KEY, db_path=db)
    async with client_for(second) as client:
        response = await client.get(f"{API}/user/{user_id}")
    assert response.json()["first_name"] == "Ada"


async def test_memory_stores_are_independent() -> None:
    first = create_app(api_key=API_KEY)
    async with client_for(first) as client:
        await create_user(client)
    assert create_app(api_key=API_KEY).state.sandbox.store.count_users() == 0


async def test_seed_loads_the_demo_only_into_a_new_store(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    first = create_app(api_key=API_KEY, db_path=db, seed=True)
    async with client_for(first) as client:
        await client.delete(f"{API}/user/{demo_user_id(KNOWN_USER_EMAIL)}")
    first.state.sandbox.store.close()
    again = create_app(api_key=API_KEY, db_path=db, seed=True)
    assert again.state.sandbox.store.count_users() == len(USERS) - 1
    assert again.state.sandbox.store.get_user(demo_user_id(KNOWN_USER_EMAIL)) is None


async def test_demo_has_users_across_three_orgs_and_two_employees(seeded: httpx2.AsyncClient) -> None:
    page = (await seeded.get(f"{API}/user/query", params={"page_size": 100, "include_orgs": "true"})).json()
    assert 30 <= page["total_users"] == len(USERS)
    org_ids = {org_id for user in page["users"] for org_id in user["org_id_to_org_info"]}
    assert org_ids == {org[0] for org in ORGS}
    assert len({u["email"] for u in page["users"]}) == len(USERS)
    for employee_id, email in EMPLOYEES.items():
        assert (await seeded.get(f"{API}/employee/{employee_id}")).json() == {"email": email}
    assert len(EMPLOYEES) == 2


async def test_demo_known_user_is_ada(seeded: httpx2.AsyncClient) -> None:
    response = await seeded.get(f"{API}/user/email", params={"email": KNOWN_USER_EMAIL})
    user = response.json()
    assert (user["first_name"], user["last_name"], user["user_id"]) == (
        "Ada",
        "Lovelace",
        demo_user_id(KNOWN_USER_EMAIL),
    )
    assert (user["has_password"], user["mfa_enabled"]) == (True, True)


def test_create_app_refuses_an_empty_api_key() -> None:
    with pytest.raises(ValueError, match="API key"):
        create_app(api_key="")


def test_whoever_builds_the_sandbox_closes_its_database_with_contextlib_closing(tmp_path: Path) -> None:
    app = create_app(api_key=API_KEY, db_path=str(tmp_path / "sandbox.db"), seed=True)
    with closing(app.state.sandbox):
        assert app.state.sandbox.store.count_users() == len(USERS)
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        app.state.sandbox.store.count_users()


def test_a_file_that_is_not_a_database_is_refused_and_left_closed(tmp_path: Path) -> None:
    """On 3.13 a connection left open here is a ResourceWarning, which this suite makes an error."""
    path = tmp_path / "not-a.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        create_app(api_key=API_KEY, db_path=str(path))
    gc.collect()
