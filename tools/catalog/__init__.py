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

# What a server offers unless told otherwise: the common administrator's day (find and fix users, their
# organizations and memberships, end their sessions, hand one a sign-in link) within 4,000 cl100k tokens
# of tool text. The rest (SSO, end-user API keys, insights, access tokens, migration, employees) is a
# flag away: --toolsets all, or by name.
DEFAULT_TOOLSETS: tuple[str, ...] = ("users", "orgs", "memberships", "sessions", "magic_links")
ALL_TOOLSETS = "all"  # the --toolsets value that offers every toolset

__all__ = [
    "ALL_TOOLSETS",
    "CATALOG",
    "DEFAULT_TOOLSETS",
    "OPEN_WORLD",
    "TOOLSETS",
    "CatalogEntry",
    "StatusText",
]
