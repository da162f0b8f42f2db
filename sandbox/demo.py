"""The demo data set, loaded with `seed=True` / `--seed` so a first `query_users` shows something.

Three organizations and 36 users, plus two employees. Everything is fixed (ids derived from the
email, timestamps from a fixed start), so documentation and tests can name them.

Organizations (org id, name, url-safe name):
  2f1c6c0e-8a4b-4d2e-9b7a-0c5d3e1f2a01  Lumen Labs         lumen-labs
  7b3d9e2a-1c5f-4a8b-8e6d-2f4a6c8e0b02  Northwind Traders  northwind-traders
  c4e8a1b6-5d2f-4e9a-a3c7-9b1d5f7e3c03  Harbor Health      harbor-health

Users worth knowing (all emails are @example.com):
  ada@example.com          Ada Lovelace, Owner of Lumen Labs and Member of Northwind Traders,
                           username "ada", password set, 2FA on
  grace.hopper@example.com Admin of Lumen Labs
  tomas.novak@example.com  disabled
  kenji.watanabe@example.com   migrated (legacy_user_id "auth0|kenji-5521"), unconfirmed email
  sofia.rossi@example.com  member of no organization
Every other user's email is `first.last@example.com` (e.g. alan.turing@example.com).

Demo users that have a password share DEMO_PASSWORD (hashed once per process, salted).

Employees (employee id -> email):
  3f8a2c1e-6b4d-4e7a-9c2b-5d1e8f0a7b31  morgan.lee@example.com
  9d4b7e2f-1a3c-4f8e-b6d5-0e2c9a7f1b42  priya.natarajan@example.com
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sandbox import passwords
from sandbox.store import NewUser, Store

DEMO_PASSWORD = "sandbox-demo-password"
KNOWN_USER_EMAIL = "ada@example.com"

LUMEN_LABS = "2f1c6c0e-8a4b-4d2e-9b7a-0c5d3e1f2a01"
NORTHWIND = "7b3d9e2a-1c5f-4a8b-8e6d-2f4a6c8e0b02"
HARBOR_HEALTH = "c4e8a1b6-5d2f-4e9a-a3c7-9b1d5f7e3c03"

ORGS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    (LUMEN_LABS, "Lumen Labs", "lumen-labs", {"plan": "enterprise", "region": "eu-west"}),
    (NORTHWIND, "Northwind Traders", "northwind-traders", {"plan": "growth", "region": "us-east"}),
    (HARBOR_HEALTH, "Harbor Health", "harbor-health", {"plan": "starter", "region": "us-west"}),
)

EMPLOYEES: dict[str, str] = {
    "3f8a2c1e-6b4d-4e7a-9c2b-5d1e8f0a7b31": "morgan.lee@example.com",
    "9d4b7e2f-1a3c-4f8e-b6d5-0e2c9a7f1b42": "priya.natarajan@example.com",
}

# 2024-01-15T09:00:00Z: demo accounts are created a day apart from here.
_FIRST_CREATED_AT = 1705309200
_DAY = 86400


@dataclass(frozen=True)
class DemoUser:
    first_name: str
    last_name: str
    memberships: tuple[tuple[str, str], ...] = ()  # (org id, role)
    email: str | None = None
    username: str | None = None
    with_password: bool = True
    mfa: bool = False
    enabled: bool = True
    email_confirmed: bool = True
    legacy_user_id: str | None = None

    @property
    def address(self) -> str:
        return self.email or f"{self.first_name.lower()}.{self.last_name.lower()}@example.com"


USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "Ada",
        "Lovelace",
        ((LUMEN_LABS, "Owner"), (NORTHWIND, "Member")),
        email=KNOWN_USER_EMAIL,
        username="ada",
        mfa=True,
    ),
    DemoUser("Grace", "Hopper", ((LUMEN_LABS, "Admin"),), username="ghopper"),
    DemoUser("Alan", "Turing", ((LUMEN_LABS, "Member"),)),
    DemoUser("Katherine", "Johnson", ((LUMEN_LABS, "Member"),), mfa=True),
    DemoUser("Linus", "Berg", ((LUMEN_LABS, "Member"),), with_password=False),
    DemoUser("Margaret", "Hamilton", ((LUMEN_LABS, "Admin"),), username="mhamilton"),
    DemoUser("Tomas", "Novak", ((LUMEN_LABS, "Member"),), enabled=False),
    DemoUser("Amara", "Okafor", ((LUMEN_LABS, "Member"),)),
    DemoUser("Lucia", "Fernandez", ((LUMEN_LABS, "Member"),), with_password=False),
    DemoUser("Hannah", "Schmidt", ((LUMEN_LABS, "Member"),)),
    DemoUser("Ravi", "Patel", ((LUMEN_LABS, "Member"),), username="ravi.p"),
    DemoUser("Elena", "Petrova", ((LUMEN_LABS, "Member"),)),
    DemoUser("Marcus", "Reed", ((NORTHWIND, "Owner"),), username="mreed", mfa=True),
    DemoUser("Chloe", "Martin", ((NORTHWIND, "Admin"),)),
    DemoUser(
        "Kenji",
        "Watanabe",
        ((NORTHWIND, "Member"),),
        email_confirmed=False,
        legacy_user_id="auth0|kenji-5521",
    ),
    DemoUser("Fatima", "Haddad", ((NORTHWIND, "Member"),)),
    DemoUser("Oliver", "Wright", ((NORTHWIND, "Member"),), with_password=False),
    DemoUser("Isabella", "Costa", ((NORTHWIND, "Member"),), legacy_user_id="auth0|isabella-7730"),
    DemoUser("Samuel", "Osei", ((NORTHWIND, "Member"),)),
    DemoUser("Mei", "Chen", ((NORTHWIND, "Admin"),), username="meichen"),
    DemoUser("Jonas", "Lindqvist", ((NORTHWIND, "Member"),)),
    DemoUser("Priyanka", "Rao", ((NORTHWIND, "Member"),), email_confirmed=False),
    DemoUser("Diego", "Alvarez", ((NORTHWIND, "Member"),)),
    DemoUser("Nora", "Kelly", ((HARBOR_HEALTH, "Owner"),), mfa=True),
    DemoUser("Ibrahim", "Yusuf", ((HARBOR_HEALTH, "Admin"),)),
    DemoUser("Yuki", "Tanaka", ((HARBOR_HEALTH, "Member"),), username="ytanaka"),
    DemoUser("Zoe", "Dubois", ((HARBOR_HEALTH, "Member"),), with_password=False),
    DemoUser("Ethan", "Brooks", ((HARBOR_HEALTH, "Member"),)),
    DemoUser("Aisha", "Khan", ((HARBOR_HEALTH, "Member"),)),
    DemoUser("Mateo", "Silva", ((HARBOR_HEALTH, "Member"),), enabled=False),
    DemoUser("Freya", "Nielsen", ((HARBOR_HEALTH, "Member"),)),
    DemoUser("Daniel", "Cohen", ((HARBOR_HEALTH, "Member"), (LUMEN_LABS, "Member"))),
    DemoUser("Olivia", "Brown", ((HARBOR_HEALTH, "Member"),), legacy_user_id="cognito-olivia-0192"),
    DemoUser("Kwame", "Mensah", ((HARBOR_HEALTH, "Admin"),)),
    DemoUser("Sofia", "Rossi", ()),
    DemoUser("Liam", "Murphy", (), with_password=False, email_confirmed=False),
)


def demo_user_id(email: str) -> str:
    """A fixed, valid (lowercase, version 4) UUID for a demo email."""
    digest = hashlib.sha256(f"propelauth-mcp-demo:{email}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


@functools.cache
def _demo_password_hash() -> str:
    # scrypt is deliberately slow: hash the shared demo password once per process.
    return passwords.hash_password(DEMO_PASSWORD)


def seed_demo(store: Store) -> None:
    """Load the demo organizations, users and employees into `store`."""
    for org_id, name, url_safe, metadata in ORGS:
        store.add_org(org_id, name, url_safe, metadata)
    for index, demo in enumerate(USERS):
        created_at = _FIRST_CREATED_AT + index * _DAY
        user_id = demo_user_id(demo.address)
        store.insert_user(
            NewUser(
                user_id=user_id,
                email=demo.address,
                created_at=created_at,
                # Activity is spread out (and not in creation order) so LAST_ACTIVE_AT ordering shows.
                last_active_at=created_at + ((index * 7919) % 97) * _DAY // 2,
                email_confirmed=demo.email_confirmed,
                password_hash=_demo_password_hash() if demo.with_password else None,
                mfa_secret="JBSWY3DPEHPK3PXP" if demo.mfa else None,
                username=demo.username,
                first_name=demo.first_name,
                last_name=demo.last_name,
                enabled=demo.enabled,
                can_create_orgs=any(role == "Owner" for _, role in demo.memberships),
                legacy_user_id=demo.legacy_user_id,
                metadata={"source": "demo"},
                properties={"favorite_color": ("teal", "amber", "violet")[index % 3]}
                if index % 2 == 0
                else {},
            )
        )
        for org_id, role in demo.memberships:
            store.add_membership(user_id, org_id, role)
    for employee_id, email in EMPLOYEES.items():
        store.add_employee(employee_id, email)
