"""Storage of organizations and memberships (the Store owns the connection; this owns the queries).

A membership holds one role and a list of additional roles; the role structure that gives them
their inherited roles and permissions is the org's (sandbox/roles.py), found from the org's
`custom_role_mapping_name`. Deleting an org deletes its memberships and invites (foreign keys).
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox import roles

if TYPE_CHECKING:
    from sandbox.store import Store

SCHEMA = """
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
"""

# Columns added after the first release: added to a persisted database that lacks them, so an older
# --db file keeps its data (its orgs get the defaults: created at 0, no limits, no domain).
COLUMNS: dict[str, dict[str, str]] = {
    "orgs": {
        "created_at": "INTEGER NOT NULL DEFAULT 0",
        "can_setup_saml": "INTEGER NOT NULL DEFAULT 0",
        "is_saml_configured": "INTEGER NOT NULL DEFAULT 0",
        "is_saml_in_test_mode": "INTEGER NOT NULL DEFAULT 0",
        "max_users": "INTEGER",
        "domain": "TEXT",
        "extra_domains": "TEXT NOT NULL DEFAULT '[]'",
        "domain_autojoin": "INTEGER NOT NULL DEFAULT 0",
        "domain_restrict": "INTEGER NOT NULL DEFAULT 0",
        "custom_role_mapping_name": "TEXT",
        "legacy_org_id": "TEXT",
        "require_2fa_by": "TEXT",
        "password_rotation_enabled": "INTEGER NOT NULL DEFAULT 0",
        "password_rotation_history_size": "INTEGER",
        "password_rotation_period": "INTEGER",
    },
    "memberships": {"additional_roles": "TEXT NOT NULL DEFAULT '[]'"},
}

# SQLite integers are signed 64-bit; an OFFSET beyond this cannot match a row anyway.
_MAX_SQL_INT = 2**63 - 1

ORG_ORDER_BY_SQL: dict[str, str] = {
    "CREATED_AT_ASC": "created_at ASC, rowid ASC",
    "CREATED_AT_DESC": "created_at DESC, rowid DESC",
    "NAME": "fold(org_name) ASC, rowid ASC",
}

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """The url-safe form of an org name: lowercase ASCII words joined by hyphens."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _SLUG_JUNK.sub("-", ascii_name.lower()).strip("-") or "org"


@dataclass
class NewOrg:
    org_id: str
    name: str
    created_at: int
    url_safe_org_name: str
    metadata: dict[str, Any] = field(default_factory=dict)
    max_users: int | None = None
    domain: str | None = None
    extra_domains: list[str] = field(default_factory=list)
    domain_autojoin: bool = False
    domain_restrict: bool = False
    custom_role_mapping_name: str | None = None
    legacy_org_id: str | None = None


@dataclass(frozen=True)
class OrgRecord:
    """What the rules need to know about an org."""

    org_id: str
    name: str
    max_users: int | None
    domain: str | None
    domains: tuple[str, ...]  # the domain first, then the extra domains, lowercase
    domain_restrict: bool
    custom_role_mapping_name: str | None

    @property
    def structure(self) -> roles.RoleStructure:
        return roles.structure_for(self.custom_role_mapping_name)

    def allows_email(self, email: str) -> bool:
        """Whether an address may join: any, unless members must have one of the org's domains."""
        return not self.domain_restrict or email.rpartition("@")[2].lower() in self.domains


@dataclass(frozen=True)
class Membership:
    role: str
    additional_roles: tuple[str, ...]


# Columns `update` may set, as named on the wire by update org (JSON-typed ones are encoded).
_UPDATABLE = frozenset(
    {
        "org_name",
        "url_safe_org_name",
        "org_metadata",
        "can_setup_saml",
        "max_users",
        "domain",
        "extra_domains",
        "domain_autojoin",
        "domain_restrict",
        "custom_role_mapping_name",
        "legacy_org_id",
        "require_2fa_by",
        "password_rotation_enabled",
        "password_rotation_history_size",
        "password_rotation_period",
    }
)
_JSON_COLUMNS = frozenset({"org_metadata", "extra_domains"})


class OrgStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    # --- orgs -----------------------------------------------------------------------------

    def insert(self, org: NewOrg) -> None:
        with self._store.transaction() as conn:
            conn.execute(
                """INSERT INTO orgs (org_id, org_name, url_safe_org_name, org_metadata, created_at,
                    max_users, domain, extra_domains, domain_autojoin, domain_restrict,
                    custom_role_mapping_name, legacy_org_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    org.org_id,
                    org.name,
                    org.url_safe_org_name,
                    json.dumps(org.metadata),
                    org.created_at,
                    org.max_users,
                    org.domain,
                    json.dumps(org.extra_domains),
                    org.domain_autojoin,
                    org.domain_restrict,
                    org.custom_role_mapping_name,
                    org.legacy_org_id,
                ),
            )

    def unique_slug(self, name: str, org_id: str) -> str:
        """The slug of `name`, made unique among other orgs with a piece of the org's id."""
        slug = slugify(name)
        taken = self._store.one(
            "SELECT 1 FROM orgs WHERE url_safe_org_name = ? AND org_id != ?", (slug, org_id)
        )
        return slug if taken is None else f"{slug}-{org_id[:8]}"

    def record(self, org_id: str) -> OrgRecord | None:
        row = self._store.one("SELECT * FROM orgs WHERE org_id = ?", (org_id,))
        if row is None:
            return None
        domains = [row["domain"], *json.loads(row["extra_domains"])]
        return OrgRecord(
            org_id=row["org_id"],
            name=row["org_name"],
            max_users=row["max_users"],
            domain=row["domain"],
            domains=tuple(domain.lower() for domain in domains if domain),
            domain_restrict=bool(row["domain_restrict"]),
            custom_role_mapping_name=row["custom_role_mapping_name"],
        )

    def get(self, org_id: str) -> dict[str, Any] | None:
        """The org as fetch org returns it (wire format), or None."""
        row = self._store.one("SELECT * FROM orgs WHERE org_id = ?", (org_id,))
        return None if row is None else _org_to_wire(row)

    def query(
        self,
        *,
        page_size: int,
        page_number: int,
        order_by: str,
        name: str | None = None,
        legacy_org_id: str | None = None,
        domain: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of orgs (in the query answer's short form) and the number matching."""
        where: list[str] = []
        params: list[Any] = []
        if name:
            where.append("instr(fold(org_name), ?) > 0")
            params.append(name.casefold())  # the same fold as the store's fold()
        if legacy_org_id is not None:
            where.append("legacy_org_id = ?")
            params.append(legacy_org_id)
        if domain:
            where.append(
                "(lower(domain) = ? OR EXISTS (SELECT 1 FROM json_each(orgs.extra_domains)"
                " WHERE lower(json_each.value) = ?))"
            )
            params += [domain.lower()] * 2
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        offset = page_size * page_number
        rows = self._store.all(f"SELECT COUNT(*) AS n FROM orgs {clause}", params)
        total = int(rows[0]["n"])
        if offset > _MAX_SQL_INT:
            return [], total
        rows = self._store.all(
            f"SELECT * FROM orgs {clause} ORDER BY {ORG_ORDER_BY_SQL[order_by]} LIMIT ? OFFSET ?",
            [*params, page_size, offset],
        )
        return [_org_to_query_wire(row) for row in rows], total

    def update(self, org_id: str, changes: dict[str, Any]) -> bool:
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        columns = {
            name: json.dumps(value) if name in _JSON_COLUMNS else value for name, value in changes.items()
        }
        with self._store.transaction() as conn:
            if conn.execute("SELECT 1 FROM orgs WHERE org_id = ?", (org_id,)).fetchone() is None:
                return False
            if columns:
                assignments = ", ".join(f"{name} = ?" for name in columns)
                conn.execute(f"UPDATE orgs SET {assignments} WHERE org_id = ?", [*columns.values(), org_id])
            return True

    def delete(self, org_id: str) -> bool:
        with self._store.transaction() as conn:
            return conn.execute("DELETE FROM orgs WHERE org_id = ?", (org_id,)).rowcount == 1

    def subscriptions(self) -> dict[str, int]:
        """Role mapping name -> the number of orgs subscribed to it."""
        rows = self._store.all(
            "SELECT custom_role_mapping_name AS name, COUNT(*) AS n FROM orgs"
            " WHERE custom_role_mapping_name IS NOT NULL GROUP BY custom_role_mapping_name"
        )
        return {row["name"]: int(row["n"]) for row in rows}

    def roles_in_use(self, org_id: str) -> set[str]:
        """Every role held by a member of the org or offered by one of its invites."""
        held: set[str] = set()
        for row in self._store.all(
            "SELECT role, additional_roles FROM memberships WHERE org_id = ?"
            " UNION ALL SELECT role, additional_roles FROM invites WHERE org_id = ?",
            (org_id, org_id),
        ):
            held.add(row["role"])
            held.update(json.loads(row["additional_roles"]))
        return held

    # --- memberships ----------------------------------------------------------------------

    def member_count(self, org_id: str) -> int:
        row = self._store.one("SELECT COUNT(*) AS n FROM memberships WHERE org_id = ?", (org_id,))
        return 0 if row is None else int(row["n"])

    def membership(self, user_id: str, org_id: str) -> Membership | None:
        row = self._store.one(
            "SELECT role, additional_roles FROM memberships WHERE user_id = ? AND org_id = ?",
            (user_id, org_id),
        )
        if row is None:
            return None
        return Membership(row["role"], tuple(json.loads(row["additional_roles"])))

    def add_member(
        self, user_id: str, org_id: str, role: str, additional_roles: tuple[str, ...] | list[str] = ()
    ) -> None:
        """Make the user a member (replacing any membership); an invite it answers is used up."""
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO memberships (user_id, org_id, role, additional_roles)"
                " VALUES (?, ?, ?, ?)",
                (user_id, org_id, role, json.dumps(list(additional_roles))),
            )
            conn.execute(
                "DELETE FROM invites WHERE org_id = ?"
                " AND invitee_key = (SELECT email_key FROM users WHERE user_id = ?)",
                (org_id, user_id),
            )

    def set_roles(self, user_id: str, org_id: str, role: str, additional_roles: list[str]) -> bool:
        with self._store.transaction() as conn:
            cursor = conn.execute(
                "UPDATE memberships SET role = ?, additional_roles = ? WHERE user_id = ? AND org_id = ?",
                (role, json.dumps(additional_roles), user_id, org_id),
            )
            return cursor.rowcount == 1

    def remove_member(self, user_id: str, org_id: str) -> bool:
        with self._store.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM memberships WHERE user_id = ? AND org_id = ?", (user_id, org_id)
            )
            return cursor.rowcount == 1

    def memberships(self, user_id: str) -> dict[str, dict[str, Any]]:
        """Org id -> membership: the seven keys the official SDKs require, and the optional three."""
        rows = self._store.all(
            """SELECT o.org_id, o.org_name, o.url_safe_org_name, o.org_metadata, o.legacy_org_id,
                      o.custom_role_mapping_name, m.role, m.additional_roles
               FROM memberships m JOIN orgs o ON o.org_id = m.org_id
               WHERE m.user_id = ? ORDER BY o.org_name""",
            (user_id,),
        )
        return {row["org_id"]: _membership_to_wire(row) for row in rows}

    def members_page(
        self, org_id: str, *, role: str | None, page_size: int, page_number: int
    ) -> tuple[list[sqlite3.Row], int]:
        """One page of the org's members (user rows plus `member_role`, `member_additional_roles`)."""
        where = "m.org_id = ?" + ("" if role is None else " AND m.role = ?")
        params: list[Any] = [org_id] if role is None else [org_id, role]
        total = int(self._store.all(f"SELECT COUNT(*) AS n FROM memberships m WHERE {where}", params)[0]["n"])
        offset = page_size * page_number
        if offset > _MAX_SQL_INT:
            return [], total
        rows = self._store.all(
            f"""SELECT u.*, m.role AS member_role, m.additional_roles AS member_additional_roles
                FROM memberships m JOIN users u ON u.user_id = m.user_id
                WHERE {where} ORDER BY u.created_at ASC, u.seq ASC LIMIT ? OFFSET ?""",
            [*params, page_size, offset],
        )
        return rows, total


def _membership_to_wire(row: sqlite3.Row) -> dict[str, Any]:
    structure = roles.structure_for(row["custom_role_mapping_name"])
    additional = json.loads(row["additional_roles"])
    return {
        "org_id": row["org_id"],
        "org_name": row["org_name"],
        "org_metadata": json.loads(row["org_metadata"]),
        "user_role": row["role"],
        "url_safe_org_name": row["url_safe_org_name"],
        "inherited_user_roles_plus_current_role": structure.inherited_plus_current(row["role"]),
        "user_permissions": structure.permissions_for(row["role"], additional),
        "org_role_structure": roles.SINGLE_ROLE_IN_HIERARCHY,
        "additional_roles": additional,
        "legacy_org_id": row["legacy_org_id"],
    }


def _org_to_wire(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "org_id": row["org_id"],
        "name": row["org_name"],
        "url_safe_org_slug": row["url_safe_org_name"],
        "can_setup_saml": bool(row["can_setup_saml"]),
        "is_saml_configured": bool(row["is_saml_configured"]),
        "is_saml_in_test_mode": bool(row["is_saml_in_test_mode"]),
        "max_users": row["max_users"],
        "metadata": json.loads(row["org_metadata"]),
        "domain": row["domain"],
        "extra_domains": json.loads(row["extra_domains"]),
        "domain_autojoin": bool(row["domain_autojoin"]),
        "domain_restrict": bool(row["domain_restrict"]),
        "custom_role_mapping_name": row["custom_role_mapping_name"],
        "legacy_org_id": row["legacy_org_id"],
        "password_rotation_enabled": bool(row["password_rotation_enabled"]),
        "password_rotation_history_size": row["password_rotation_history_size"],
        "password_rotation_period": row["password_rotation_period"],
    }


def _org_to_query_wire(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "org_id": row["org_id"],
        "name": row["org_name"],
        "max_users": row["max_users"],
        "is_saml_configured": bool(row["is_saml_configured"]),
        "legacy_org_id": row["legacy_org_id"],
        "metadata": json.loads(row["org_metadata"]),
        "custom_role_mapping_name": row["custom_role_mapping_name"],
        "created_at": row["created_at"],
    }
