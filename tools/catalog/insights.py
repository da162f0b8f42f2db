"""Insights: PropelAuth's user and org reports and chart metrics (read-only)."""

from __future__ import annotations

from tools.catalog.entry import CatalogEntry

INSIGHTS: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="fetch_user_report",
        operation_id="fetchUserReport",
        title="User report",
        description=(
            "Users in a report; intervals: reengagement Weekly|Monthly, churn 7|14|30, others 30|60|90. "
            "Profiles are user-written."
        ),
        toolset="insights",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="fetch_org_report",
        operation_id="fetchOrgReport",
        title="Org report",
        description="Orgs in a report; intervals as fetch_user_report.",
        toolset="insights",
        destructive=False,
        idempotent=True,
    ),
    CatalogEntry(
        name="fetch_chart_metrics",
        operation_id="fetchChartMetrics",
        title="Chart metrics",
        description="A metric per day, week or month between two dates.",
        toolset="insights",
        destructive=False,
        idempotent=True,
    ),
)
