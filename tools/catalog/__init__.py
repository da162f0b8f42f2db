"""The static tool table, in our words: one module per domain, gathered into one CATALOG.

Everything an agent reads that is not derived from the spec lives in these modules (names, titles,
descriptions, hints, targets, status texts), so that a review of them shows what agents are told.
Keep descriptions short: the whole surface has a token budget (tests/tools/test_budget.py).
"""

from __future__ import annotations

from tools.catalog.api_keys import API_KEYS
from tools.catalog.entry import OPEN_WORLD, CatalogEntry, StatusText
from tools.catalog.insights import INSIGHTS
from tools.catalog.memberships import MEMBERSHIPS
from tools.catalog.orgs import ORGS
from tools.catalog.sso import SSO
from tools.catalog.users import USERS

CATALOG: tuple[CatalogEntry, ...] = USERS + ORGS + MEMBERSHIPS + SSO + API_KEYS + INSIGHTS

TOOLSETS: tuple[str, ...] = (
    "users",
    "orgs",
    "memberships",
    "magic_links",
    "access_tokens",
    "migration",
    "sessions",
    "employees",
    "sso",
    "api_keys",
    "insights",
)

__all__ = ["CATALOG", "OPEN_WORLD", "TOOLSETS", "CatalogEntry", "StatusText"]
