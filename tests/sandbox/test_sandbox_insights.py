"""Insights: user and org reports and chart metrics, computed from the sandbox's own users, orgs,
memberships and invites; each over HTTP, status and body."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx2
import pytest

from sandbox.demo import KNOWN_USER_EMAIL, demo_user_id
from sandbox.state import Sandbox
from tests.sandbox.sandbox_testkit import API, add_member, create_org, create_user

pytestmark = pytest.mark.anyio

DAY = 86_400
NOW = 1_780_000_000  # 2026-05-28 UTC
TODAY = datetime.fromtimestamp(NOW, UTC).date()
USER_RECORD_KEYS = {
    "id",
    "report_id",
    "user_id",
    "email",
    "username",
    "first_name",
    "last_name",
    "last_active_at",
    "user_created_at",
    "org_data",
    "extra_properties",
}
ORG_RECORD_KEYS = {"id", "report_id", "org_id", "name", "num_users", "org_created_at", "extra_properties"}
PAGE_KEYS = {"current_page", "total_count", "page_size", "has_more_results", "report_time"}


async def person(client: httpx2.AsyncClient, sandbox: Sandbox, email: str, created: int, active: int) -> str:
    """A user created `created` days ago and last active `active` days ago."""
    sandbox.clock = lambda: NOW - created * DAY
    user_id = await create_user(client, email=email)
    sandbox.store.update_user(user_id, {"last_active_at": NOW - active * DAY})
    sandbox.clock = lambda: NOW
    return user_id


@pytest.fixture
async def world(client: httpx2.AsyncClient, sandbox: Sandbox) -> dict[str, str]:
    """returning (old, active 2 days ago, Owner of Active Co), lapsed (active 10 days ago, member of
    Quiet Co, alone there), dormant (active 60 days ago), newbie (signed up 3 days ago, Active Co)."""
    ids = {
        "returning": await person(client, sandbox, "returning@example.com", 100, 2),
        "lapsed": await person(client, sandbox, "lapsed@example.com", 100, 10),
        "dormant": await person(client, sandbox, "dormant@example.com", 100, 60),
        "newbie": await person(client, sandbox, "newbie@example.com", 3, 3),
    }
    sandbox.clock = lambda: NOW - 50 * DAY
    ids["active_co"] = await create_org(client, name="Active Co")
    ids["quiet_co"] = await create_org(client, name="Quiet Co")
    sandbox.clock = lambda: NOW
    await add_member(client, ids["returning"], ids["active_co"], "Owner")
    await add_member(client, ids["newbie"], ids["active_co"], "Member")
    await add_member(client, ids["lapsed"], ids["quiet_co"], "Member")
    return ids


async def report(client: httpx2.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{API}/{path}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def user_ids(body: dict[str, Any]) -> list[str]:
    return [record["user_id"] for record in body["user_reports"]]


def org_names(body: dict[str, Any]) -> list[str]:
    return [record["name"] for record in body["org_reports"]]


async def test_user_reengagement_lists_returning_users_not_new_ones(
    client: httpx2.AsyncClient, world: dict[str, str]
) -> None:
    body = await report(client, "user_report/reengagement", report_interval="Weekly")
    assert set(body) == {"user_reports", *PAGE_KEYS}
    assert user_ids(body) == [world["returning"]]
    record = body["user_reports"][0]
    assert set(record) == USER_RECORD_KEYS
    assert (record["email"], record["user_created_at"]) == ("returning@example.com", NOW - 100 * DAY)
    assert record["org_data"] == [
        {"display_name": "Active Co", "org_id": world["active_co"], "user_role": "Owner"}
    ]
    assert body["report_time"] == NOW
    monthly = await report(client, "user_report/reengagement", report_interval="Monthly")
    assert user_ids(monthly) == [world["returning"], world["lapsed"]]


async def test_user_churn_lists_users_last_active_in_the_window_before(
    client: httpx2.AsyncClient, world: dict[str, str]
) -> None:
    assert user_ids(await report(client, "user_report/churn", report_interval="7")) == [world["lapsed"]]
    assert user_ids(await report(client, "user_report/churn", report_interval="30")) == [world["dormant"]]


async def test_user_champions_are_active_owners_and_admins(
    client: httpx2.AsyncClient, world: dict[str, str]
) -> None:
    body = await report(client, "user_report/champion", report_interval="30")
    assert user_ids(body) == [world["returning"]]
    assert body["user_reports"][0]["extra_properties"] == {"orgs_administered": 1}


async def test_top_inviters_come_from_the_invites_sent(seeded: httpx2.AsyncClient) -> None:
    body = await report(seeded, "user_report/top_inviter")
    emails = {record["email"] for record in body["user_reports"]}
    assert emails == {
        KNOWN_USER_EMAIL,
        "grace.hopper@example.com",
        "chloe.martin@example.com",
        "marcus.reed@example.com",
    }
    assert all(record["extra_properties"] == {"invites_sent": 1} for record in body["user_reports"])


async def test_org_reports_follow_their_members(client: httpx2.AsyncClient, world: dict[str, str]) -> None:
    growth = await report(client, "org_report/growth", report_interval="30")
    assert set(growth) == {"org_reports", *PAGE_KEYS}
    assert org_names(growth) == ["Active Co"]
    record = growth["org_reports"][0]
    assert set(record) == ORG_RECORD_KEYS
    assert (record["num_users"], record["org_created_at"], record["extra_properties"]) == (
        2,
        NOW - 50 * DAY,
        {"new_users": 1},
    )
    assert org_names(await report(client, "org_report/churn", report_interval="7")) == ["Quiet Co"]
    assert org_names(await report(client, "org_report/reengagement", report_interval="Weekly")) == [
        "Active Co"
    ]
    attrition = await report(client, "org_report/attrition", report_interval="30")
    assert org_names(attrition) == []  # lapsed was active 10 days ago: inside the 30-day window


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ("user_report/reengagement", "7"),
        ("user_report/churn", "Weekly"),
        ("user_report/top_inviter", "14"),
        ("user_report/champion", "7"),
        ("org_report/attrition", "Monthly"),
        ("org_report/reengagement", "30"),
        ("org_report/growth", "7"),
        ("org_report/churn", "90"),
    ],
)
async def test_a_wrong_report_interval_is_a_400_naming_it(
    client: httpx2.AsyncClient, path: str, bad: str
) -> None:
    response = await client.get(f"{API}/{path}", params={"report_interval": bad})
    assert response.status_code == 400
    assert list(response.json()) == ["report_interval"]


async def test_reports_page(client: httpx2.AsyncClient, world: dict[str, str]) -> None:
    body = await report(
        client, "user_report/reengagement", report_interval="Monthly", page_size=1, page_number=1
    )
    assert user_ids(body) == [world["lapsed"]]
    assert (body["current_page"], body["page_size"], body["total_count"], body["has_more_results"]) == (
        1,
        1,
        2,
        False,
    )
    response = await client.get(f"{API}/org_report/growth", params={"page_size": 0})
    assert response.status_code == 400 and list(response.json()) == ["page_size"]


async def test_daily_signups_count_the_users_created_each_day(
    client: httpx2.AsyncClient, world: dict[str, str]
) -> None:
    start = (TODAY - timedelta(days=4)).isoformat()
    body = await report(
        client, "chart_metrics/signups", cadence="Daily", start_date=start, end_date=TODAY.isoformat()
    )
    assert (body["chart_type"], body["cadence"]) == ("signups", "Daily")
    assert [point["result"] for point in body["metrics"]] == [0, 1, 0, 0, 0]  # the newbie, 3 days ago
    assert body["metrics"][1]["date"] == (TODAY - timedelta(days=3)).isoformat()
    assert [point["cadence_completed"] for point in body["metrics"]] == [True, True, True, True, False]


async def test_monthly_active_users_and_orgs_agree_with_last_activity(
    client: httpx2.AsyncClient, world: dict[str, str]
) -> None:
    start = date(2026, 3, 1).isoformat()
    users = await report(client, "chart_metrics/active_users", cadence="Monthly", start_date=start)
    by_month = {point["date"]: point["result"] for point in users["metrics"]}
    # dormant: 60 days before May 28 (Mar 29); lapsed, returning, newbie: in May
    assert by_month == {"2026-03-01": 1, "2026-04-01": 0, "2026-05-01": 3}
    orgs = await report(client, "chart_metrics/active_orgs", cadence="Monthly", start_date=start)
    assert [point["result"] for point in orgs["metrics"]] == [0, 0, 2]
    created = await report(client, "chart_metrics/orgs_created", cadence="Weekly", start_date=start)
    assert sum(point["result"] for point in created["metrics"]) == 2
    assert all(date.fromisoformat(point["date"]).weekday() == 0 for point in created["metrics"])


async def test_chart_metrics_validate_cadence_and_dates(client: httpx2.AsyncClient) -> None:
    response = await client.get(
        f"{API}/chart_metrics/signups", params={"cadence": "Hourly", "end_date": "2026-13-01"}
    )
    assert response.status_code == 400 and set(response.json()) == {"cadence", "end_date"}
    later_start = {"start_date": "2026-05-02", "end_date": "2026-05-01"}
    response = await client.get(f"{API}/chart_metrics/signups", params=later_start)
    assert response.status_code == 400 and list(response.json()) == ["start_date"]


async def test_seeded_signups_match_the_users_created_at(seeded: httpx2.AsyncClient) -> None:
    ada = (await seeded.get(f"{API}/user/{demo_user_id(KNOWN_USER_EMAIL)}")).json()
    first_day = datetime.fromtimestamp(ada["created_at"], UTC).date().isoformat()
    body = await report(seeded, "chart_metrics/signups", start_date=first_day, end_date=first_day)
    assert body["metrics"] == [{"date": first_day, "result": 1, "cadence_completed": True}]
