"""Storage of pending org invites (the Store owns the connection; this owns the queries).

One invite per (address, org): inviting the same address again replaces it (new role, new expiry).
An invite past its `expires_at` is no longer pending: it is not listed, and answers no rule.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS invites (
    org_id TEXT NOT NULL REFERENCES orgs(org_id) ON DELETE CASCADE,
    invitee_email TEXT NOT NULL,
    invitee_key TEXT NOT NULL,
    role TEXT NOT NULL,
    additional_roles TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    inviter_email TEXT,
    inviter_user_id TEXT,
    PRIMARY KEY (invitee_key, org_id)
);
"""

_MAX_SQL_INT = 2**63 - 1

# How long an invite stays pending (the sandbox's choice: a week).
INVITE_LIFETIME_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class NewInvite:
    org_id: str
    invitee_email: str
    role: str
    additional_roles: tuple[str, ...]
    created_at: int
    expires_at: int
    inviter_email: str | None = None
    inviter_user_id: str | None = None


class InviteStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def put(self, invite: NewInvite) -> None:
        """Store the invite, replacing an earlier one to the same address and org."""
        with self._store.transaction() as conn:
            conn.execute(
                """INSERT OR REPLACE INTO invites (org_id, invitee_email, invitee_key, role,
                    additional_roles, created_at, expires_at, inviter_email, inviter_user_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    invite.org_id,
                    invite.invitee_email,
                    invite.invitee_email.casefold(),  # the same fold as users.email_key
                    invite.role,
                    json.dumps(list(invite.additional_roles)),
                    invite.created_at,
                    invite.expires_at,
                    invite.inviter_email,
                    invite.inviter_user_id,
                ),
            )

    def revoke(self, org_id: str, invitee_email: str) -> bool:
        with self._store.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM invites WHERE org_id = ? AND invitee_key = ?", (org_id, invitee_email.casefold())
            )
            return cursor.rowcount == 1

    def pending_page(
        self, *, now: int, org_id: str | None, page_size: int, page_number: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of unexpired invites (oldest first) and how many there are."""
        where = "i.expires_at > ?" + ("" if org_id is None else " AND i.org_id = ?")
        params: list[Any] = [now] if org_id is None else [now, org_id]
        total = int(self._store.all(f"SELECT COUNT(*) AS n FROM invites i WHERE {where}", params)[0]["n"])
        offset = page_size * page_number
        if offset > _MAX_SQL_INT:
            return [], total
        rows = self._store.all(
            f"""SELECT i.*, o.org_name FROM invites i JOIN orgs o ON o.org_id = i.org_id
                WHERE {where} ORDER BY i.created_at ASC, i.rowid ASC LIMIT ? OFFSET ?""",
            [*params, page_size, offset],
        )
        return [_invite_to_wire(row) for row in rows], total


def _invite_to_wire(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "invitee_email": row["invitee_email"],
        "org_id": row["org_id"],
        "org_name": row["org_name"],
        "role_in_org": row["role"],
        "additional_roles_in_org": json.loads(row["additional_roles"]),
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
        "inviter_email": row["inviter_email"],
        "inviter_user_id": row["inviter_user_id"],
    }
