"""Storage of enterprise SSO: SAML connections and set-up links, OIDC connections, SCIM groups.

The org's `can_setup_saml`, `is_saml_configured` and `is_saml_in_test_mode` stay columns of the
orgs table (fetch org reads them there); this module changes them together with the connection.
Set-up link tokens are kept as SHA-256 only; the OIDC client secret as a salted scrypt hash.
Everything of an org goes when the org is deleted (foreign keys, ON DELETE CASCADE).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS saml_connections (
    org_id TEXT PRIMARY KEY REFERENCES orgs(org_id) ON DELETE CASCADE,
    idp_entity_id TEXT NOT NULL,
    idp_sso_url TEXT NOT NULL,
    idp_certificate TEXT NOT NULL,
    provider TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS saml_links (
    token_hash TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(org_id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS oidc_connections (
    org_id TEXT PRIMARY KEY REFERENCES orgs(org_id) ON DELETE CASCADE,
    idp_type TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_hash TEXT NOT NULL,
    uses_pkce INTEGER NOT NULL,
    settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scim_groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs(org_id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    external_id_from_idp TEXT
);
CREATE TABLE IF NOT EXISTS scim_group_members (
    group_id TEXT NOT NULL REFERENCES scim_groups(group_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
"""

_MAX_SQL_INT = 2**63 - 1


def link_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SamlIdp:
    idp_entity_id: str
    idp_sso_url: str
    idp_certificate: str
    provider: str


@dataclass(frozen=True)
class OidcIdp:
    idp_type: str
    client_id: str
    client_secret_hash: str
    uses_pkce: bool
    settings: str  # JSON of the type's own fields (auth/token/userinfo URLs, Okta domain, tenant)


class SsoStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    # --- SAML -----------------------------------------------------------------------------

    def set_can_setup_saml(self, org_id: str, allowed: bool) -> bool:
        with self._store.transaction() as conn:
            cursor = conn.execute("UPDATE orgs SET can_setup_saml = ? WHERE org_id = ?", (allowed, org_id))
            return cursor.rowcount == 1

    def add_link(self, token: str, org_id: str, expires_at: int) -> None:
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO saml_links (token_hash, org_id, expires_at) VALUES (?, ?, ?)",
                (link_token_hash(token), org_id, expires_at),
            )

    def use_link(self, token: str, now: int) -> str | None:
        """The org of an unused, unexpired link, which is then used up; None otherwise."""
        with self._store.transaction() as conn:
            row = conn.execute(
                "SELECT org_id FROM saml_links WHERE token_hash = ? AND used = 0 AND expires_at > ?",
                (link_token_hash(token), now),
            ).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE saml_links SET used = 1 WHERE token_hash = ?", (link_token_hash(token),))
            return str(row["org_id"])

    def set_saml_idp(self, org_id: str, idp: SamlIdp) -> None:
        """Store (or replace) the IdP; the connection is in test mode until it goes live."""
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO saml_connections"
                " (org_id, idp_entity_id, idp_sso_url, idp_certificate, provider) VALUES (?, ?, ?, ?, ?)",
                (org_id, idp.idp_entity_id, idp.idp_sso_url, idp.idp_certificate, idp.provider),
            )
            conn.execute(
                "UPDATE orgs SET is_saml_in_test_mode = 1, is_saml_configured = 0 WHERE org_id = ?", (org_id,)
            )

    def saml_idp(self, org_id: str) -> SamlIdp | None:
        row = self._store.one("SELECT * FROM saml_connections WHERE org_id = ?", (org_id,))
        if row is None:
            return None
        return SamlIdp(row["idp_entity_id"], row["idp_sso_url"], row["idp_certificate"], row["provider"])

    def go_live(self, org_id: str) -> bool:
        """False if the org has no IdP to go live with."""
        with self._store.transaction() as conn:
            if conn.execute("SELECT 1 FROM saml_connections WHERE org_id = ?", (org_id,)).fetchone() is None:
                return False
            conn.execute(
                "UPDATE orgs SET is_saml_in_test_mode = 0, is_saml_configured = 1 WHERE org_id = ?", (org_id,)
            )
            return True

    def delete_saml(self, org_id: str) -> bool:
        with self._store.transaction() as conn:
            deleted = conn.execute("DELETE FROM saml_connections WHERE org_id = ?", (org_id,)).rowcount == 1
            conn.execute(
                "UPDATE orgs SET is_saml_in_test_mode = 0, is_saml_configured = 0 WHERE org_id = ?", (org_id,)
            )
            return deleted

    # --- OIDC -----------------------------------------------------------------------------

    def set_oidc_idp(self, org_id: str, idp: OidcIdp) -> None:
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO oidc_connections"
                " (org_id, idp_type, client_id, client_secret_hash, uses_pkce, settings)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (org_id, idp.idp_type, idp.client_id, idp.client_secret_hash, idp.uses_pkce, idp.settings),
            )

    def oidc_idp(self, org_id: str) -> OidcIdp | None:
        row = self._store.one("SELECT * FROM oidc_connections WHERE org_id = ?", (org_id,))
        if row is None:
            return None
        return OidcIdp(
            row["idp_type"],
            row["client_id"],
            row["client_secret_hash"],
            bool(row["uses_pkce"]),
            row["settings"],
        )

    # --- SCIM -----------------------------------------------------------------------------

    def add_group(
        self, org_id: str, group_id: str, display_name: str, external_id: str | None, members: list[str]
    ) -> None:
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO scim_groups (group_id, org_id, display_name, external_id_from_idp)"
                " VALUES (?, ?, ?, ?)",
                (group_id, org_id, display_name, external_id),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO scim_group_members (group_id, user_id) VALUES (?, ?)",
                [(group_id, user_id) for user_id in members],
            )

    def groups_page(
        self, org_id: str, *, user_id: str | None, page_size: int, page_number: int
    ) -> tuple[list[dict[str, Any]], int]:
        where = "g.org_id = ?"
        params: list[Any] = [org_id]
        if user_id is not None:
            where += (
                " AND EXISTS (SELECT 1 FROM scim_group_members m"
                " WHERE m.group_id = g.group_id AND m.user_id = ?)"
            )
            params.append(user_id)
        total = int(self._store.all(f"SELECT COUNT(*) AS n FROM scim_groups g WHERE {where}", params)[0]["n"])
        offset = page_size * page_number
        if offset > _MAX_SQL_INT:
            return [], total
        rows = self._store.all(
            f"SELECT * FROM scim_groups g WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
            [*params, page_size, offset],
        )
        return [_group_to_wire(row) for row in rows], total

    def group(self, org_id: str, group_id: str, *, page_size: int, page_number: int) -> dict[str, Any] | None:
        """The group with one page of its members (by user id), or None."""
        row = self._store.one(
            "SELECT * FROM scim_groups WHERE org_id = ? AND group_id = ?", (org_id, group_id)
        )
        if row is None:
            return None
        offset = page_size * page_number
        members = (
            []
            if offset > _MAX_SQL_INT
            else self._store.all(
                "SELECT m.user_id FROM scim_group_members m JOIN users u ON u.user_id = m.user_id"
                " WHERE m.group_id = ? ORDER BY u.seq LIMIT ? OFFSET ?",
                (group_id, page_size, offset),
            )
        )
        return {**_group_to_wire(row), "members": [{"user_id": member["user_id"]} for member in members]}


def _group_to_wire(row: Any) -> dict[str, Any]:
    return {
        "group_id": row["group_id"],
        "display_name": row["display_name"],
        "external_id_from_idp": row["external_id_from_idp"],
    }
