"""The demo data set, loaded with `seed=True` / `--seed` so a first `query_users` shows something.

Three organizations, 36 users, four invites (one expired), five end-user API keys (one expired,
one deleted), three SCIM groups and two employees. Ids are fixed (derived
from the email), user timestamps run from a fixed start; invite times are relative to the seeding
moment so that pending invites are pending whenever the sandbox starts. Documentation and tests
can name them all. Roles and role mappings are described in sandbox/roles.py.

Organizations (org id, name, url-safe name):
  2f1c6c0e-8a4b-4d2e-9b7a-0c5d3e1f2a01  Lumen Labs         lumen-labs
      domain example.com, members must have it (domain_restrict), max_users 50,
      legacy_org_id "lumen-0001", default roles
  7b3d9e2a-1c5f-4a8b-8e6d-2f4a6c8e0b02  Northwind Traders  northwind-traders
      domain northwind.example (+ northwind-traders.example), auto-join by domain, no limit,
      legacy_org_id "nw-legacy-1987", default roles
  c4e8a1b6-5d2f-4e9a-a3c7-9b1d5f7e3c03  Harbor Health      harbor-health
      domain harborhealth.example, AT ITS max_users (11 of 11), legacy_org_id "sf:0015g00000HHx01",
      subscribed to the "Clinical Roles" role mapping

Users worth knowing (all emails are @example.com):
  ada@example.com          Ada Lovelace, Owner of Lumen Labs and Member of Northwind Traders,
                           username "ada", password set, 2FA on (TOTP)
  grace.hopper@example.com Admin of Lumen Labs, additional role Billing Admin
  margaret.hamilton@...    Admin of Lumen Labs, additional role Support Agent
  marcus.reed@example.com  Owner of Northwind Traders, 2FA by SMS (phone ending 4821)
  chloe.martin@example.com Admin of Northwind Traders, additional role Billing Admin
  nora.kelly@example.com   Owner of Harbor Health
  ibrahim.yusuf@...        Admin of Harbor Health, additional role Compliance Auditor
  yuki.tanaka, zoe.dubois  Clinicians of Harbor Health
  tomas.novak@example.com  disabled
  kenji.watanabe@example.com   migrated (legacy_user_id "auth0|kenji-5521"), unconfirmed email
  sofia.rossi@example.com  member of no organization; invited to Northwind Traders
  liam.murphy@example.com  member of no organization; signed up with query parameters
                           utm_source=newsletter, utm_campaign=spring-launch
Every other user's email is `first.last@example.com` (e.g. alan.turing@example.com).

Pending invites (invitee, org, role, inviter):
  jordan.blake@example.com  Lumen Labs         Member + Billing Admin  ada@example.com
  noor.hassan@example.com   Lumen Labs         Admin                   grace.hopper@example.com
  sofia.rossi@example.com   Northwind Traders  Member                  chloe.martin@example.com
  sam.taylor@example.com    Northwind Traders  Member  (EXPIRED two days ago: not listed)

Demo users that have a password share DEMO_PASSWORD (hashed once per process, salted).

End-user API keys (display name, owner, state; ids and tokens in DEMO_API_KEYS, by display name):
  "Ada's CLI"            personal key of ada@example.com, never expires
  "Northwind ERP sync"   org key of Northwind Traders (no user), metadata {"system": "erp"}
  "Grace's Lumen key"    grace.hopper@example.com's key in Lumen Labs (user + org: validates with
                         user, org and user_in_org)
  "Old Northwind import" org key of Northwind Traders, EXPIRED a day before seeding (archived)
  "Leaked Lumen key"     org key of Lumen Labs, DELETED (archived)
The demo tokens are fixed (documented for trying validate_api_key); stored, like any, as hashes.

SCIM groups of Harbor Health (display name, external id from the IdP, members; ids in
DEMO_SCIM_GROUPS, by display name):
  "All Staff"   okta-00g-all-staff   every member of Harbor Health (11)
  "Clinicians"  okta-00g-clinicians  yuki.tanaka, zoe.dubois
  "Compliance"  okta-00g-compliance  ibrahim.yusuf, nora.kelly
No org has a SAML or OIDC connection; Harbor Health may set up SAML (can_setup_saml).

Employees (employee id -> email):
  3f8a2c1e-6b4d-4e7a-9c2b-5d1e8f0a7b31  morgan.lee@example.com
  9d4b7e2f-1a3c-4f8e-b6d5-0e2c9a7f1b42  priya.natarajan@example.com
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

from sandbox import passwords
from sandbox.api_key_store import NewApiKey
from sandbox.invite_store import INVITE_LIFETIME_SECONDS, NewInvite
from sandbox.org_store import NewOrg
from sandbox.store import NewUser, Store

DEMO_PASSWORD = "sandbox-demo-password"
KNOWN_USER_EMAIL = "ada@example.com"

LUMEN_LABS = "2f1c6c0e-8a4b-4d2e-9b7a-0c5d3e1f2a01"
NORTHWIND = "7b3d9e2a-1c5f-4a8b-8e6d-2f4a6c8e0b02"
HARBOR_HEALTH = "c4e8a1b6-5d2f-4e9a-a3c7-9b1d5f7e3c03"

CLINICAL_ROLES = "Clinical Roles"


class DemoOrg(NamedTuple):
    org_id: str
    name: str
    url_safe_org_name: str
    metadata: dict[str, Any]
    domain: str
    extra_domains: tuple[str, ...] = ()
    domain_autojoin: bool = False
    domain_restrict: bool = False
    max_users: int | None = None
    custom_role_mapping_name: str | None = None
    legacy_org_id: str | None = None


ORGS: tuple[DemoOrg, ...] = (
    DemoOrg(
        LUMEN_LABS,
        "Lumen Labs",
        "lumen-labs",
        {"plan": "enterprise", "region": "eu-west"},
        domain="example.com",
        domain_restrict=True,
        max_users=50,
        legacy_org_id="lumen-0001",
    ),
    DemoOrg(
        NORTHWIND,
        "Northwind Traders",
        "northwind-traders",
        {"plan": "growth", "region": "us-east"},
        domain="northwind.example",
        extra_domains=("northwind-traders.example",),
        domain_autojoin=True,
        legacy_org_id="nw-legacy-1987",
    ),
    DemoOrg(
        HARBOR_HEALTH,
        "Harbor Health",
        "harbor-health",
        {"plan": "starter", "region": "us-west"},
        domain="harborhealth.example",
        max_users=11,  # exactly its number of members: the org at its limit
        custom_role_mapping_name=CLINICAL_ROLES,
        legacy_org_id="sf:0015g00000HHx01",
    ),
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
    # (org id, additional roles) for memberships that hold more than their role.
    additional_roles: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sms_mfa_suffix: str | None = None
    signup_query_parameters: dict[str, str] | None = None

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
    DemoUser(
        "Grace",
        "Hopper",
        ((LUMEN_LABS, "Admin"),),
        username="ghopper",
        additional_roles=((LUMEN_LABS, ("Billing Admin",)),),
    ),
    DemoUser("Alan", "Turing", ((LUMEN_LABS, "Member"),)),
    DemoUser("Katherine", "Johnson", ((LUMEN_LABS, "Member"),), mfa=True),
    DemoUser("Linus", "Berg", ((LUMEN_LABS, "Member"),), with_password=False),
    DemoUser(
        "Margaret",
        "Hamilton",
        ((LUMEN_LABS, "Admin"),),
        username="mhamilton",
        additional_roles=((LUMEN_LABS, ("Support Agent",)),),
    ),
    DemoUser("Tomas", "Novak", ((LUMEN_LABS, "Member"),), enabled=False),
    DemoUser("Amara", "Okafor", ((LUMEN_LABS, "Member"),)),
    DemoUser("Lucia", "Fernandez", ((LUMEN_LABS, "Member"),), with_password=False),
    DemoUser("Hannah", "Schmidt", ((LUMEN_LABS, "Member"),)),
    DemoUser("Ravi", "Patel", ((LUMEN_LABS, "Member"),), username="ravi.p"),
    DemoUser("Elena", "Petrova", ((LUMEN_LABS, "Member"),)),
    DemoUser("Marcus", "Reed", ((NORTHWIND, "Owner"),), username="mreed", sms_mfa_suffix="4821"),
    DemoUser("Chloe", "Martin", ((NORTHWIND, "Admin"),), additional_roles=((NORTHWIND, ("Billing Admin",)),)),
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
    DemoUser(
        "Ibrahim",
        "Yusuf",
        ((HARBOR_HEALTH, "Admin"),),
        additional_roles=((HARBOR_HEALTH, ("Compliance Auditor",)),),
    ),
    DemoUser("Yuki", "Tanaka", ((HARBOR_HEALTH, "Clinician"),), username="ytanaka"),
    DemoUser("Zoe", "Dubois", ((HARBOR_HEALTH, "Clinician"),), with_password=False),
    DemoUser("Ethan", "Brooks", ((HARBOR_HEALTH, "Member"),)),
    DemoUser("Aisha", "Khan", ((HARBOR_HEALTH, "Member"),)),
    DemoUser("Mateo", "Silva", ((HARBOR_HEALTH, "Member"),), enabled=False),
    DemoUser("Freya", "Nielsen", ((HARBOR_HEALTH, "Member"),)),
    DemoUser("Daniel", "Cohen", ((HARBOR_HEALTH, "Member"), (LUMEN_LABS, "Member"))),
    DemoUser("Olivia", "Brown", ((HARBOR_HEALTH, "Member"),), legacy_user_id="cognito-olivia-0192"),
    DemoUser("Kwame", "Mensah", ((HARBOR_HEALTH, "Admin"),)),
    DemoUser("Sofia", "Rossi", ()),
    DemoUser(
        "Liam",
        "Murphy",
        (),
        with_password=False,
        email_confirmed=False,
        signup_query_parameters={"utm_source": "newsletter", "utm_campaign": "spring-launch"},
    ),
)


def demo_user_id(email: str) -> str:
    """A fixed, valid (lowercase, version 4) UUID for a demo email."""
    digest = hashlib.sha256(f"propelauth-mcp-demo:{email}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


@functools.cache
def _demo_password_hash() -> str:
    # scrypt is deliberately slow: hash the shared demo password once per process.
    return passwords.hash_password(DEMO_PASSWORD)


# (invitee, org, role, additional roles, inviter, hours before seeding the invite was made)
INVITES: tuple[tuple[str, str, str, tuple[str, ...], str, int], ...] = (
    ("jordan.blake@example.com", LUMEN_LABS, "Member", ("Billing Admin",), KNOWN_USER_EMAIL, 48),
    ("noor.hassan@example.com", LUMEN_LABS, "Admin", (), "grace.hopper@example.com", 24),
    ("sofia.rossi@example.com", NORTHWIND, "Member", (), "chloe.martin@example.com", 3),
    # made nine days ago, so it expired two days ago: not pending any more
    ("sam.taylor@example.com", NORTHWIND, "Member", (), "marcus.reed@example.com", 9 * 24),
)
EXPIRED_INVITE_EMAIL = "sam.taylor@example.com"


def _seed_orgs(store: Store) -> None:
    for index, org in enumerate(ORGS):
        store.orgs.insert(
            NewOrg(
                org_id=org.org_id,
                name=org.name,
                created_at=_FIRST_CREATED_AT - (len(ORGS) - index) * _DAY,
                url_safe_org_name=org.url_safe_org_name,
                metadata=org.metadata,
                max_users=org.max_users,
                domain=org.domain,
                extra_domains=list(org.extra_domains),
                domain_autojoin=org.domain_autojoin,
                domain_restrict=org.domain_restrict,
                custom_role_mapping_name=org.custom_role_mapping_name,
                legacy_org_id=org.legacy_org_id,
            )
        )


def _sms_factor(demo: DemoUser) -> list[dict[str, str]] | None:
    if demo.sms_mfa_suffix is None:
        return None
    phone_id = str(uuid.UUID(bytes=hashlib.sha256(demo.address.encode()).digest()[:16], version=4))
    return [{"mfa_phone_number_suffix": demo.sms_mfa_suffix, "mfa_phone_id": phone_id}]


def _seed_invites(store: Store, now: int) -> None:
    for email, org_id, role, additional, inviter, hours_ago in INVITES:
        created_at = now - hours_ago * 3600
        store.invites.put(
            NewInvite(
                org_id=org_id,
                invitee_email=email,
                role=role,
                additional_roles=additional,
                created_at=created_at,
                expires_at=created_at + INVITE_LIFETIME_SECONDS,
                inviter_email=inviter,
                inviter_user_id=demo_user_id(inviter),
            )
        )


class DemoApiKey(NamedTuple):
    display_name: str
    user_email: str | None
    org_id: str | None
    metadata: dict[str, Any] | None = None
    expired: bool = False
    deleted: bool = False

    @property
    def api_key_id(self) -> str:
        return hashlib.sha256(f"propelauth-mcp-demo-key-id:{self.display_name}".encode()).hexdigest()[:32]

    @property
    def token(self) -> str:
        return hashlib.sha256(f"propelauth-mcp-demo-key-token:{self.display_name}".encode()).hexdigest()


DEMO_API_KEYS: dict[str, DemoApiKey] = {
    key.display_name: key
    for key in (
        DemoApiKey("Ada's CLI", KNOWN_USER_EMAIL, None, {"scope": "read"}),
        DemoApiKey("Northwind ERP sync", None, NORTHWIND, {"system": "erp"}),
        DemoApiKey("Grace's Lumen key", "grace.hopper@example.com", LUMEN_LABS),
        DemoApiKey("Old Northwind import", None, NORTHWIND, expired=True),
        DemoApiKey("Leaked Lumen key", None, LUMEN_LABS, deleted=True),
    )
}


def _seed_api_keys(store: Store, now: int) -> None:
    for index, key in enumerate(DEMO_API_KEYS.values()):
        created_at = now - (30 - index) * _DAY
        store.api_keys.insert(
            NewApiKey(
                api_key_id=key.api_key_id,
                token=key.token,
                created_at=created_at,
                expires_at_seconds=now - _DAY if key.expired else None,
                metadata=key.metadata,
                user_id=None if key.user_email is None else demo_user_id(key.user_email),
                org_id=key.org_id,
                display_name=key.display_name,
            )
        )
        if key.deleted:
            store.api_keys.archive(key.api_key_id, now - _DAY)


def _scim_group_id(display_name: str) -> str:
    digest = hashlib.sha256(f"propelauth-mcp-demo-scim:{display_name}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


# display name -> (group id, external id from the IdP, member emails; None: every org member)
DEMO_SCIM_GROUPS: dict[str, tuple[str, str, tuple[str, ...] | None]] = {
    "All Staff": (_scim_group_id("All Staff"), "okta-00g-all-staff", None),
    "Clinicians": (
        _scim_group_id("Clinicians"),
        "okta-00g-clinicians",
        ("yuki.tanaka@example.com", "zoe.dubois@example.com"),
    ),
    "Compliance": (
        _scim_group_id("Compliance"),
        "okta-00g-compliance",
        ("ibrahim.yusuf@example.com", "nora.kelly@example.com"),
    ),
}


def _seed_sso(store: Store) -> None:
    store.sso.set_can_setup_saml(HARBOR_HEALTH, True)
    staff = [
        demo_user_id(user.address) for user in USERS if any(o == HARBOR_HEALTH for o, _ in user.memberships)
    ]
    for name, (group_id, external_id, emails) in DEMO_SCIM_GROUPS.items():
        members = staff if emails is None else [demo_user_id(email) for email in emails]
        store.sso.add_group(HARBOR_HEALTH, group_id, name, external_id, members)


def seed_demo(store: Store, now: int | None = None) -> None:
    """Load the demo organizations, users, memberships, invites and employees into `store`.

    `now` (seconds since the epoch, default the current time) anchors the invites' and API keys' times.
    """
    _seed_orgs(store)
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
                mfa_phones=_sms_factor(demo),
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
                signup_query_parameters=demo.signup_query_parameters,
            )
        )
        extras = dict(demo.additional_roles)
        for org_id, role in demo.memberships:
            store.orgs.add_member(user_id, org_id, role, extras.get(org_id, ()))
    moment = int(time.time()) if now is None else now
    _seed_invites(store, moment)
    _seed_api_keys(store, moment)
    _seed_sso(store)
    for employee_id, email in EMPLOYEES.items():
        store.add_employee(employee_id, email)
