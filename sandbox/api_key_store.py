"""Storage of end-user API keys and their daily validation counts.

A key's token is shown once, in the create answer; only its SHA-256 lives here (tokens are 32
random bytes, so a fast hash is enough: nothing to brute-force). Imported keys are hashed the same
way and kept apart (`imported`), because they validate through their own endpoint. A deleted key
is archived, not removed: it stays fetchable and lists under archived, as does an expired one.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS end_user_api_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    api_key_id TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    imported INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at_seconds INTEGER,
    metadata TEXT,
    user_id TEXT,
    org_id TEXT,
    display_name TEXT,
    archived_at INTEGER
);
CREATE TABLE IF NOT EXISTS end_user_api_key_usage (
    api_key_id TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (api_key_id, day)
);
"""

_MAX_SQL_INT = 2**63 - 1


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class NewApiKey:
    api_key_id: str
    token: str  # hashed on insert, never stored
    created_at: int
    imported: bool = False
    expires_at_seconds: int | None = None
    metadata: dict[str, Any] | None = None
    user_id: str | None = None
    org_id: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class KeyFilter:
    """What the list endpoints and usage narrow by (None: any)."""

    org_id: str | None = None
    user_id: str | None = None
    user_email_key: str | None = None
    api_key_id: str | None = None


class ApiKeyStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def insert(self, key: NewApiKey) -> bool:
        """False if a key with the same token already exists (an import of a known key)."""
        with self._store.transaction() as conn:
            taken = conn.execute(
                "SELECT 1 FROM end_user_api_keys WHERE token_hash = ?", (token_hash(key.token),)
            ).fetchone()
            if taken is not None:
                return False
            conn.execute(
                """INSERT INTO end_user_api_keys (api_key_id, token_hash, imported, created_at,
                    expires_at_seconds, metadata, user_id, org_id, display_name)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    key.api_key_id,
                    token_hash(key.token),
                    key.imported,
                    key.created_at,
                    key.expires_at_seconds,
                    None if key.metadata is None else json.dumps(key.metadata),
                    key.user_id,
                    key.org_id,
                    key.display_name,
                ),
            )
            return True

    def get(self, api_key_id: str) -> dict[str, Any] | None:
        row = self._store.one("SELECT * FROM end_user_api_keys WHERE api_key_id = ?", (api_key_id,))
        return None if row is None else key_to_wire(row)

    def by_token(self, token: str, *, imported: bool, now: int) -> sqlite3.Row | None:
        """The live key (not archived, not expired) with this token, of the given kind."""
        return self._store.one(
            "SELECT * FROM end_user_api_keys WHERE token_hash = ? AND imported = ?"
            " AND archived_at IS NULL AND (expires_at_seconds IS NULL OR expires_at_seconds > ?)",
            (token_hash(token), imported, now),
        )

    def page(
        self,
        *,
        archived: bool,
        now: int,
        where: KeyFilter,
        type_sql: str | None,
        page_size: int,
        page_number: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """Current keys (live) or archived ones (deleted or expired), oldest first."""
        live = "(archived_at IS NULL AND (expires_at_seconds IS NULL OR expires_at_seconds > ?))"
        clauses = [f"NOT {live}" if archived else live]
        params: list[Any] = [now]
        clause, extra = _filter_sql(where)
        clauses += clause
        params += extra
        if type_sql is not None:  # one of the fixed clauses of the api_key_type filter
            clauses.append(type_sql)
        sql_where = " AND ".join(clauses)
        total = int(
            self._store.all(f"SELECT COUNT(*) AS n FROM end_user_api_keys k WHERE {sql_where}", params)[0][
                "n"
            ]
        )
        offset = page_size * page_number
        if offset > _MAX_SQL_INT:
            return [], total
        rows = self._store.all(
            f"SELECT * FROM end_user_api_keys k WHERE {sql_where}"
            " ORDER BY created_at ASC, seq ASC LIMIT ? OFFSET ?",
            [*params, page_size, offset],
        )
        return [key_to_wire(row) for row in rows], total

    def update(self, api_key_id: str, changes: dict[str, Any]) -> bool:
        """Change expiry / metadata / display name of a key that is not archived."""
        allowed = {"expires_at_seconds", "metadata", "display_name"}
        if set(changes) - allowed:
            raise ValueError(f"not updatable: {sorted(set(changes) - allowed)}")
        columns = {k: json.dumps(v) if k == "metadata" else v for k, v in changes.items()}
        with self._store.transaction() as conn:
            row = conn.execute(
                "SELECT 1 FROM end_user_api_keys WHERE api_key_id = ? AND archived_at IS NULL", (api_key_id,)
            ).fetchone()
            if row is None:
                return False
            if columns:
                assignments = ", ".join(f"{name} = ?" for name in columns)
                conn.execute(
                    f"UPDATE end_user_api_keys SET {assignments} WHERE api_key_id = ?",
                    [*columns.values(), api_key_id],
                )
            return True

    def archive(self, api_key_id: str, now: int) -> bool:
        with self._store.transaction() as conn:
            cursor = conn.execute(
                "UPDATE end_user_api_keys SET archived_at = ? WHERE api_key_id = ? AND archived_at IS NULL",
                (now, api_key_id),
            )
            return cursor.rowcount == 1

    def count_use(self, api_key_id: str, day: str) -> None:
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO end_user_api_key_usage (api_key_id, day, count) VALUES (?, ?, 1)"
                " ON CONFLICT (api_key_id, day) DO UPDATE SET count = count + 1",
                (api_key_id, day),
            )

    def usage(self, day: str, where: KeyFilter) -> int:
        clause, params = _filter_sql(where)
        sql_where = " AND ".join(["u.day = ?", *clause])
        row = self._store.one(
            "SELECT COALESCE(SUM(u.count), 0) AS n FROM end_user_api_key_usage u"
            f" JOIN end_user_api_keys k ON k.api_key_id = u.api_key_id WHERE {sql_where}",
            (day, *params),
        )
        return 0 if row is None else int(row["n"])


def _filter_sql(where: KeyFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("org_id", where.org_id),
        ("user_id", where.user_id),
        ("api_key_id", where.api_key_id),
    ):
        if value is not None:
            clauses.append(f"k.{column} = ?")
            params.append(value)
    if where.user_email_key is not None:
        clauses.append("k.user_id = (SELECT user_id FROM users WHERE email_key = ?)")
        params.append(where.user_email_key)
    return clauses, params


def key_to_wire(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "api_key_id": row["api_key_id"],
        "created_at": row["created_at"],
        "expires_at_seconds": row["expires_at_seconds"],
        "metadata": None if row["metadata"] is None else json.loads(row["metadata"]),
        "user_id": row["user_id"],
        "org_id": row["org_id"],
        "display_name": row["display_name"],
    }
