"""Insights: user reports, org reports and chart metrics, computed at request time from the
sandbox's own data, so they agree with what the user and org endpoints show.

The data: each user's `created_at` and `last_active_at` (the LATEST activity only: the sandbox
keeps no activity history), memberships and their roles, orgs' `created_at`, pending invites.
A report of interval N days (Weekly = 7, Monthly = 30) looks at "the window", the last N days
before the request, and "the window before", the N days before that.

User reports (`report_interval` default first in the list):
  reengagement (Weekly|Monthly)  active in the window, signed up before it (returning users)
  churn (7|14|30)                last active in the window before, not since
  top_inviter (30|60|90)         sent invites in the window (pending or expired; an accepted
                                 invite is used up, so not counted); most invites first
  champion (30|60|90)            active in the window and Owner or Admin of at least one org
Org reports, by what their members did:
  attrition (30|60|90)           has members who churned (last active in the window before)
  reengagement (Weekly|Monthly)  has returning members (as in the user reengagement report)
  growth (30|60|90)              has members who signed up in the window
  churn (7|14|30)                no member active in the window, some in the window before
The counts behind each report are in `extra_properties`. Records are in signup (org: creation)
order unless said otherwise; pages as elsewhere but with `total_count`; `report_time` is now.

Chart metrics, cadence Daily (default) | Weekly (weeks from Monday) | Monthly (calendar months),
from `start_date` to `end_date` inclusive (YYYY-MM-DD, UTC; default: the last 30 days, 12 weeks or
12 months up to today). One point per period, dated its first day; `cadence_completed` is whether
the period has ended. signups: users created in the period; orgs_created: orgs created in it;
active_users: users whose last activity is in it; active_orgs: orgs with such a member.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.store import Store
from sandbox.validation import Invalid
from sandbox.web import handles_invalid, ok, paging, sandbox_of

_DAY = 86_400
_NAMED_INTERVALS = {"Weekly": 7, "Monthly": 30}
_REENGAGEMENT = ("Weekly", "Monthly")
_CHURN = ("7", "14", "30")
_LONG = ("30", "60", "90")
USER_REPORT_INTERVALS: dict[str, tuple[str, ...]] = {
    "reengagement": _REENGAGEMENT,
    "churn": _CHURN,
    "top_inviter": _LONG,
    "champion": _LONG,
}
ORG_REPORT_INTERVALS: dict[str, tuple[str, ...]] = {
    "attrition": _LONG,
    "reengagement": _REENGAGEMENT,
    "growth": _LONG,
    "churn": _CHURN,
}
CADENCES = ("Daily", "Weekly", "Monthly")
CHART_METRICS = ("signups", "orgs_created", "active_users", "active_orgs")
_MAX_POINTS = 1000
_ADMIN_ROLES = ("Owner", "Admin")


@dataclass(frozen=True)
class Window:
    """The last N days before `now` and the N days before them."""

    now: int
    days: int

    @property
    def start(self) -> int:
        return self.now - self.days * _DAY

    @property
    def before(self) -> int:
        return self.now - 2 * self.days * _DAY

    def active_in(self, at: int | None) -> bool:
        return at is not None and self.start <= at <= self.now

    def active_before(self, at: int | None) -> bool:
        return at is not None and self.before <= at < self.start

    def returning(self, user: Any) -> bool:
        return self.active_in(user["last_active_at"]) and user["created_at"] < self.start


def _interval(request: Request, allowed: tuple[str, ...]) -> int:
    value = request.query_params.get("report_interval", allowed[0])
    if value not in allowed:
        raise Invalid({"report_interval": [f"Must be one of {', '.join(allowed)}"]})
    return _NAMED_INTERVALS.get(value) or int(value)


def _record_id(*parts: str) -> str:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _report_page(request: Request, things: str, records: list[dict[str, Any]], now: int) -> Response:
    errors: dict[str, list[str]] = {}
    page_size, page_number = paging(request.query_params, errors)
    if errors:
        raise Invalid(errors)
    start = page_size * page_number
    return ok(
        {
            things: records[start : start + page_size],
            "current_page": page_number,
            "total_count": len(records),
            "page_size": page_size,
            "has_more_results": start + page_size < len(records),
            "report_time": now,
        }
    )


# --- user reports --------------------------------------------------------------------------


def _users(store: Store) -> list[Any]:
    return store.all("SELECT * FROM users ORDER BY created_at ASC, seq ASC")


def _org_data(store: Store) -> dict[str, list[dict[str, Any]]]:
    """user id -> [{display_name, org_id, user_role}]"""
    rows = store.all(
        "SELECT m.user_id, m.org_id, m.role, o.org_name FROM memberships m"
        " JOIN orgs o ON o.org_id = m.org_id ORDER BY o.org_name"
    )
    data: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        data.setdefault(row["user_id"], []).append(
            {"display_name": row["org_name"], "org_id": row["org_id"], "user_role": row["role"]}
        )
    return data


def _user_record(
    report_id: str, user: Any, orgs: list[dict[str, Any]], extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": _record_id(report_id, user["user_id"]),
        "report_id": report_id,
        "user_id": user["user_id"],
        "email": user["email"],
        "username": user["username"],
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "last_active_at": user["last_active_at"],
        "user_created_at": user["created_at"],
        "org_data": orgs,
        "extra_properties": extra,
    }


def _user_rows(report: str, store: Store, window: Window) -> list[tuple[Any, dict[str, Any]]]:
    """The users in the report, with their extra properties."""
    users = _users(store)
    if report == "reengagement":
        return [
            (u, {"days_since_signup": (window.now - u["created_at"]) // _DAY})
            for u in users
            if window.returning(u)
        ]
    if report == "churn":
        return [
            (u, {"days_inactive": (window.now - u["last_active_at"]) // _DAY})
            for u in users
            if window.active_before(u["last_active_at"])
        ]
    if report == "champion":
        orgs = _org_data(store)
        rows = []
        for user in users:
            led = [org for org in orgs.get(user["user_id"], []) if org["user_role"] in _ADMIN_ROLES]
            if led and window.active_in(user["last_active_at"]):
                rows.append((user, {"orgs_administered": len(led)}))
        return rows
    # top_inviter
    counts = {
        row["inviter_user_id"]: int(row["n"])
        for row in store.all(
            "SELECT inviter_user_id, COUNT(*) AS n FROM invites WHERE inviter_user_id IS NOT NULL"
            " AND created_at >= ? AND created_at <= ? GROUP BY inviter_user_id",
            (window.start, window.now),
        )
    }
    inviters = [(u, {"invites_sent": counts[u["user_id"]]}) for u in users if u["user_id"] in counts]
    return sorted(inviters, key=lambda pair: -pair[1]["invites_sent"])  # stable: signup order within a count


def user_report(report: str) -> Callable[[Request], Any]:
    @handles_invalid
    async def fetch(request: Request) -> Response:
        sandbox = sandbox_of(request)
        window = Window(sandbox.now(), _interval(request, USER_REPORT_INTERVALS[report]))
        report_id = _record_id("user_report", report, str(window.days), str(window.now))
        orgs = _org_data(sandbox.store)
        records = [
            _user_record(report_id, user, orgs.get(user["user_id"], []), extra)
            for user, extra in _user_rows(report, sandbox.store, window)
        ]
        return _report_page(request, "user_reports", records, window.now)

    fetch.__name__ = f"fetch_user_{report}_report"
    return fetch


# --- org reports ---------------------------------------------------------------------------


def _members(store: Store) -> dict[str, list[Any]]:
    """org id -> its members' user rows"""
    members: dict[str, list[Any]] = {}
    for row in store.all(
        "SELECT m.org_id, u.created_at, u.last_active_at"
        " FROM memberships m JOIN users u ON u.user_id = m.user_id"
    ):
        members.setdefault(row["org_id"], []).append(row)
    return members


def _org_extra(report: str, members: Sequence[Any], window: Window) -> dict[str, Any] | None:
    """The org's extra properties if it belongs in the report, else None."""
    if report == "attrition":
        churned = sum(window.active_before(m["last_active_at"]) for m in members)
        return {"churned_users": churned} if churned else None
    if report == "reengagement":
        returning = sum(window.returning(m) for m in members)
        return {"reengaged_users": returning} if returning else None
    if report == "growth":
        new = sum(m["created_at"] >= window.start for m in members)
        return {"new_users": new} if new else None
    # churn: the whole org went quiet
    recent = any(window.active_in(m["last_active_at"]) for m in members)
    before = [m["last_active_at"] for m in members if window.active_before(m["last_active_at"])]
    return {"last_active_at": max(before)} if before and not recent else None


def org_report(report: str) -> Callable[[Request], Any]:
    @handles_invalid
    async def fetch(request: Request) -> Response:
        sandbox = sandbox_of(request)
        store = sandbox.store
        window = Window(sandbox.now(), _interval(request, ORG_REPORT_INTERVALS[report]))
        report_id = _record_id("org_report", report, str(window.days), str(window.now))
        members = _members(store)
        records = []
        for org in store.all(
            "SELECT org_id, org_name, created_at FROM orgs ORDER BY created_at ASC, rowid ASC"
        ):
            extra = _org_extra(report, members.get(org["org_id"], []), window)
            if extra is not None:
                records.append(
                    {
                        "id": _record_id(report_id, org["org_id"]),
                        "report_id": report_id,
                        "org_id": org["org_id"],
                        "name": org["org_name"],
                        "num_users": len(members.get(org["org_id"], [])),
                        "org_created_at": org["created_at"],
                        "extra_properties": extra,
                    }
                )
        return _report_page(request, "org_reports", records, window.now)

    fetch.__name__ = f"fetch_org_{report}_report"
    return fetch


# --- chart metrics -------------------------------------------------------------------------


def _period_start(day: date, cadence: str) -> date:
    if cadence == "Weekly":
        return day - timedelta(days=day.weekday())
    if cadence == "Monthly":
        return day.replace(day=1)
    return day


def _next_period(start: date, cadence: str) -> date:
    if cadence == "Weekly":
        return start + timedelta(days=7)
    if cadence == "Monthly":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


def _default_start(end: date, cadence: str) -> date:
    if cadence == "Daily":
        return end - timedelta(days=29)
    if cadence == "Weekly":
        return _period_start(end, cadence) - timedelta(weeks=11)
    month = end.year * 12 + end.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1)


def _query_date(request: Request, name: str, errors: dict[str, list[str]]) -> date | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = ["Must be a date as YYYY-MM-DD"]
        return None


def _timestamps(store: Store, metric: str) -> list[tuple[int, str]]:
    """(moment, what it counts) for each event the metric counts; distinct per period by the key."""
    if metric == "signups":
        return [
            (row["created_at"], row["user_id"]) for row in store.all("SELECT user_id, created_at FROM users")
        ]
    if metric == "orgs_created":
        return [
            (row["created_at"], row["org_id"]) for row in store.all("SELECT org_id, created_at FROM orgs")
        ]
    if metric == "active_users":
        rows = store.all("SELECT user_id, last_active_at FROM users WHERE last_active_at IS NOT NULL")
        return [(row["last_active_at"], row["user_id"]) for row in rows]
    rows = store.all(
        "SELECT m.org_id, u.last_active_at FROM memberships m JOIN users u ON u.user_id = m.user_id"
        " WHERE u.last_active_at IS NOT NULL"
    )
    return [(row["last_active_at"], row["org_id"]) for row in rows]


def chart_metric(metric: str) -> Callable[[Request], Any]:
    @handles_invalid
    async def fetch(request: Request) -> Response:
        sandbox = sandbox_of(request)
        errors: dict[str, list[str]] = {}
        cadence = request.query_params.get("cadence", "Daily")
        if cadence not in CADENCES:
            errors["cadence"] = [f"Must be one of {', '.join(CADENCES)}"]
            cadence = "Daily"
        start, end = _query_date(request, "start_date", errors), _query_date(request, "end_date", errors)
        if errors:
            raise Invalid(errors)
        today = datetime.fromtimestamp(sandbox.now(), UTC).date()
        end = end or today
        start = start or _default_start(end, cadence)
        if start > end:
            raise Invalid({"start_date": ["Must not be after end_date"]})
        periods: list[date] = []
        period = _period_start(start, cadence)
        while period <= end:
            periods.append(period)
            if len(periods) > _MAX_POINTS:
                raise Invalid({"start_date": [f"At most {_MAX_POINTS} periods per chart"]})
            period = _next_period(period, cadence)
        seen: dict[date, set[str]] = {p: set() for p in periods}
        for moment, key in _timestamps(sandbox.store, metric):
            day = datetime.fromtimestamp(moment, UTC).date()
            if start <= day <= end:
                seen[_period_start(day, cadence)].add(key)
        return ok(
            {
                "chart_type": metric,
                "cadence": cadence,
                "metrics": [
                    {
                        "date": p.isoformat(),
                        "result": len(seen[p]),
                        "cadence_completed": _next_period(p, cadence) <= today,
                    }
                    for p in periods
                ],
            }
        )

    fetch.__name__ = f"fetch_chart_metrics_{metric}"
    return fetch
