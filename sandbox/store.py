"""SQLite storage for the sandbox: the connection, users, employees, magic links, key material.

Organizations and memberships have their queries in sandbox/org_store.py, invites in
sandbox/invite_store.py, end-user API keys in sandbox/api_key_store.py, SSO in sandbox/sso_store.py
(`store.orgs`, `store.invites`, `store.api_keys`, `store.sso`); this class owns the connection they share.
The schema only grows: tables are created if missing and new columns added to an older database
file (additive ALTER TABLE), so a persisted --db keeps its data across versions.

Every method is synchronous and serialised by one lock, because the connection is shared by
the event loop thread and test threads (schemathesis drives ASGI apps from its own thread).
Password hashes (ours or migrated ones) and MFA secrets live here and never leave it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sandbox import api_key_store, invite_store, org_store, sso_store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    email_confirmed INTEGER NOT NULL,
    password_hash TEXT,
    migrated_password_hash TEXT,
    mfa_secret TEXT,
    username TEXT,
    username_key TEXT UNIQUE,
    first_name TEXT,
    last_name TEXT,
    picture_url TEXT,
    locked INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1,
    can_create_orgs INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_active_at INTEGER,
    legacy_user_id TEXT,
    impersonator_user_id TEXT,
    metadata TEXT,
    properties TEXT,
    update_password_required INTEGER NOT NULL DEFAULT 0,
    session_generation INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS employees (employee_id TEXT PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS magic_links (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    single_use INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    create_user INTEGER NOT NULL,
    redirect_to_url TEXT
);
"""

# Columns added after the first release (see org_store.COLUMNS for the org tables').
_COLUMNS: dict[str, dict[str, str]] = {
    "users": {"signup_query_parameters": "TEXT", "mfa_phones": "TEXT"},
    "magic_links": {"signup_query_parameters": "TEXT"},
    **org_store.COLUMNS,
}

# SQLite integers are signed 64-bit; an OFFSET beyond this cannot match a row anyway.
_MAX_SQL_INT = 2**63 - 1

ORDER_BY_SQL: dict[str, str] = {
    "CREATED_AT_ASC": "created_at ASC, seq ASC",
    "CREATED_AT_DESC": "created_at DESC, seq DESC",
    "LAST_ACTIVE_AT_ASC": "last_active_at IS NULL, last_active_at ASC, seq ASC",
    "LAST_ACTIVE_AT_DESC": "last_active_at IS NULL, last_active_at DESC, seq DESC",
    "EMAIL": "email_key ASC, seq ASC",
    "USERNAME": "username_key IS NULL, username_key ASC, seq ASC",
}


class Conflict(Exception):
    """A unique field (email or username) is already taken."""

    def __init__(self, field_name: str) -> None:
        super().__init__(field_name)
        self.field_name = field_name


def fold(text: str) -> str:
    """The case-insensitive key under which emails and usernames are unique and searched."""
    return text.casefold()


@dataclass
class NewUser:
    user_id: str
    email: str
    created_at: int
    email_confirmed: bool = False
    password_hash: str | None = None
    migrated_password_hash: str | None = None
    mfa_secret: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    picture_url: str | None = None
    enabled: bool = True
    can_create_orgs: bool = False
    last_active_at: int | None = None
    legacy_user_id: str | None = None
    metadata: dict[str, Any] | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    update_password_required: bool = False
    # SMS second factors: [{"mfa_phone_number_suffix", "mfa_phone_id"}]; None: no phone enrolled.
    mfa_phones: list[dict[str, str]] | None = None
    # The query parameters of the sign-up page (from a magic link that created the user).
    signup_query_parameters: dict[str, str] | None = None


@dataclass(frozen=True)
class MagicLinkRecord:
    email: str
    expires_at: int
    single_use: bool
    used: bool
    create_user: bool
    redirect_to_url: str | None
    signup_query_parameters: dict[str, str] | None = None


class Store:
    def __init__(self, db_path: str = ":memory:") -> None:
        self.db_path = db_path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.create_function(
                "fold", 1, lambda s: None if s is None else fold(s), deterministic=True
            )
            with self._lock:
                self._conn.execute("PRAGMA foreign_keys = ON")
                self._conn.executescript(
                    _SCHEMA + org_store.SCHEMA + invite_store.SCHEMA + api_key_store.SCHEMA + sso_store.SCHEMA
                )
                self._add_missing_columns()
        except BaseException:  # e.g. a file that is not a database: do not leave it open
            self._conn.close()
            raise

        self.orgs = org_store.OrgStore(self)
        self.invites = invite_store.InviteStore(self)
        self.api_keys = api_key_store.ApiKeyStore(self)
        self.sso = sso_store.SsoStore(self)

    def _add_missing_columns(self) -> None:
        for table, columns in _COLUMNS.items():
            present = {row["name"] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            for name, declaration in columns.items():
                if name not in present:
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def all(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # --- key/value ------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def set_meta_if_absent(self, key: str, value: str) -> str:
        """Store `value` unless one is already there; return the value that is stored."""
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
            return str(conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()["value"])

    # --- users: reads ---------------------------------------------------------------------

    def count_users(self) -> int:
        row = self.one("SELECT COUNT(*) AS n FROM users")
        return 0 if row is None else int(row["n"])

    def is_empty(self) -> bool:
        row = self.one(
            "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM orgs)"
            " + (SELECT COUNT(*) FROM employees) AS n"
        )
        return row is None or int(row["n"]) == 0

    def get_user(self, user_id: str, *, include_orgs: bool = False) -> dict[str, Any] | None:
        """The user as the service returns it (wire format), or None."""
        row = self.one("SELECT * FROM users WHERE user_id = ?", (user_id,))
        return None if row is None else self.user_to_wire(row, include_orgs)

    def user_id_by_email(self, email: str) -> str | None:
        row = self.one("SELECT user_id FROM users WHERE email_key = ?", (fold(email),))
        return None if row is None else str(row["user_id"])

    def user_id_by_username(self, username: str) -> str | None:
        row = self.one("SELECT user_id FROM users WHERE username_key = ?", (fold(username),))
        return None if row is None else str(row["user_id"])

    def mfa_setup(self, user_id: str) -> tuple[bool, dict[str, Any] | None]:
        """Whether the user exists, and its second factor as `mfa_setup` says it (None: none)."""
        row = self.one("SELECT mfa_secret, mfa_phones FROM users WHERE user_id = ?", (user_id,))
        if row is None:
            return False, None
        if row["mfa_phones"] is not None:
            return True, {"type": "Phone", "phone_numbers": json.loads(row["mfa_phones"])}
        return True, None if row["mfa_secret"] is None else {"type": "Totp"}

    def signup_query_parameters(self, user_id: str) -> dict[str, str] | None:
        """What the sign-up carried ({} if nothing), or None if there is no such user."""
        row = self.one("SELECT signup_query_parameters FROM users WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        stored = row["signup_query_parameters"]
        return {} if stored is None else dict(json.loads(stored))

    def users_by(self, column: str, values: list[str], *, include_orgs: bool) -> list[dict[str, Any]]:
        """The users whose `column` (user_id, email_key, username_key) is among `values`, in their order.

        Unknown values are left out, repeated ones answered once.
        """
        if column not in ("user_id", "email_key", "username_key"):
            raise ValueError(f"not a lookup column: {column}")
        keys = list(dict.fromkeys(values if column == "user_id" else [fold(v) for v in values]))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 500):  # SQLite caps the number of bound parameters
            chunk = keys[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in self.all(f"SELECT * FROM users WHERE {column} IN ({marks})", chunk):
                found[row[column]] = self.user_to_wire(row, include_orgs)
        return [found[key] for key in keys if key in found]

    def session_generation(self, user_id: str) -> int | None:
        row = self.one("SELECT session_generation FROM users WHERE user_id = ?", (user_id,))
        return None if row is None else int(row["session_generation"])

    def query_users(
        self,
        *,
        page_size: int,
        page_number: int,
        order_by: str,
        email_or_username: str | None = None,
        legacy_user_id: str | None = None,
        include_orgs: bool = False,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of users and the number of users matching the filters."""
        where: list[str] = []
        params: list[Any] = []
        if email_or_username:
            where.append("(instr(email_key, ?) > 0 OR instr(COALESCE(username_key, ''), ?) > 0)")
            params += [fold(email_or_username)] * 2
        if legacy_user_id is not None:
            where.append("legacy_user_id = ?")
            params.append(legacy_user_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        offset = page_size * page_number
        with self._lock:
            total = int(self._conn.execute(f"SELECT COUNT(*) FROM users {clause}", params).fetchone()[0])
            if offset > _MAX_SQL_INT:
                return [], total
            rows = self._conn.execute(
                f"SELECT * FROM users {clause} ORDER BY {ORDER_BY_SQL[order_by]} LIMIT ? OFFSET ?",
                [*params, page_size, offset],
            ).fetchall()
            return [self.user_to_wire(row, include_orgs) for row in rows], total

    # --- users: writes --------------------------------------------------------------------

    def _check_unique(
        self, conn: sqlite3.Connection, user_id: str, email: str | None, username: str | None
    ) -> None:
        if (
            email is not None
            and conn.execute(
                "SELECT 1 FROM users WHERE email_key = ? AND user_id != ?", (fold(email), user_id)
            ).fetchone()
        ):
            raise Conflict("email")
        if (
            username is not None
            and conn.execute(
                "SELECT 1 FROM users WHERE username_key = ? AND user_id != ?", (fold(username), user_id)
            ).fetchone()
        ):
            raise Conflict("username")

    def insert_user(self, user: NewUser) -> None:
        """Insert a user; raises Conflict if the email or username is taken."""
        with self.transaction() as conn:
            self._check_unique(conn, user.user_id, user.email, user.username)
            conn.execute(
                """INSERT INTO users (user_id, email, email_key, email_confirmed, password_hash,
                    migrated_password_hash, mfa_secret, username, username_key, first_name, last_name,
                    picture_url, enabled, can_create_orgs, created_at, last_active_at, legacy_user_id,
                    metadata, properties, update_password_required, mfa_phones, signup_query_parameters)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    user.user_id,
                    user.email,
                    fold(user.email),
                    user.email_confirmed,
                    user.password_hash,
                    user.migrated_password_hash,
                    user.mfa_secret,
                    user.username,
                    None if user.username is None else fold(user.username),
                    user.first_name,
                    user.last_name,
                    user.picture_url,
                    user.enabled,
                    user.can_create_orgs,
                    user.created_at,
                    user.last_active_at,
                    user.legacy_user_id,
                    None if user.metadata is None else json.dumps(user.metadata),
                    json.dumps(user.properties),
                    user.update_password_required,
                    None if user.mfa_phones is None else json.dumps(user.mfa_phones),
                    None
                    if user.signup_query_parameters is None
                    else json.dumps(user.signup_query_parameters),
                ),
            )

    _UPDATABLE = frozenset(
        {
            "email",
            "email_confirmed",
            "password_hash",
            "migrated_password_hash",
            "mfa_secret",
            "mfa_phones",
            "can_create_orgs",
            "username",
            "first_name",
            "last_name",
            "picture_url",
            "enabled",
            "legacy_user_id",
            "metadata",
            "properties",
            "update_password_required",
            "last_active_at",
        }
    )

    def update_user(self, user_id: str, changes: dict[str, Any]) -> bool:
        """Apply column changes; False if the user does not exist. Raises Conflict on a taken value.

        `properties` is merged into the stored properties (keys not given are kept), as
        PropelAuth does; `metadata` is replaced.
        """
        unknown = set(changes) - self._UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        with self.transaction() as conn:
            row = conn.execute("SELECT properties FROM users WHERE user_id = ?", (user_id,)).fetchone()
            if row is None:
                return False
            self._check_unique(conn, user_id, changes.get("email"), changes.get("username"))
            columns = dict(changes)
            if "email" in columns:
                columns["email_key"] = fold(columns["email"])
            if "username" in columns:
                columns["username_key"] = fold(columns["username"])
            for name in ("metadata", "mfa_phones"):
                if columns.get(name) is not None:
                    columns[name] = json.dumps(columns[name])
            if "properties" in columns:
                merged = {**json.loads(row["properties"] or "{}"), **columns["properties"]}
                columns["properties"] = json.dumps(merged)
            if columns:
                assignments = ", ".join(f"{name} = ?" for name in columns)
                conn.execute(
                    f"UPDATE users SET {assignments} WHERE user_id = ?", [*columns.values(), user_id]
                )
            return True

    def bump_session_generation(self, user_id: str) -> bool:
        """Invalidate every session of the user (the sandbox keeps no sessions, only their epoch)."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE users SET session_generation = session_generation + 1 WHERE user_id = ?", (user_id,)
            )
            return cursor.rowcount == 1

    def delete_user(self, user_id: str) -> bool:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM users WHERE user_id = ?", (user_id,)).rowcount == 1

    def memberships(self, user_id: str) -> dict[str, dict[str, Any]]:
        """Org id -> membership, as in a User's `org_id_to_org_info` and in access tokens."""
        return self.orgs.memberships(user_id)

    # --- employees --------------------------------------------------------------------------

    def add_employee(self, employee_id: str, email: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO employees (employee_id, email) VALUES (?, ?)", (employee_id, email)
            )

    def employee_email(self, employee_id: str) -> str | None:
        row = self.one("SELECT email FROM employees WHERE employee_id = ?", (employee_id,))
        return None if row is None else str(row["email"])

    # --- magic links ------------------------------------------------------------------------

    def add_magic_link(self, token_hash: str, record: MagicLinkRecord) -> None:
        with self.transaction() as conn:
            conn.execute(
                """INSERT INTO magic_links (token_hash, email, expires_at, single_use, used, create_user,
                   redirect_to_url, signup_query_parameters) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    token_hash,
                    record.email,
                    record.expires_at,
                    record.single_use,
                    record.used,
                    record.create_user,
                    record.redirect_to_url,
                    None
                    if record.signup_query_parameters is None
                    else json.dumps(record.signup_query_parameters),
                ),
            )

    def consume_magic_link(self, token_hash: str, now: int) -> MagicLinkRecord | None:
        """Mark the link used and return it, or None if unknown, expired or already used."""
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM magic_links WHERE token_hash = ?", (token_hash,)).fetchone()
            if row is None or row["expires_at"] <= now or (row["single_use"] and row["used"]):
                return None
            conn.execute("UPDATE magic_links SET used = 1 WHERE token_hash = ?", (token_hash,))
            return MagicLinkRecord(
                email=row["email"],
                expires_at=row["expires_at"],
                single_use=bool(row["single_use"]),
                used=True,
                create_user=bool(row["create_user"]),
                redirect_to_url=row["redirect_to_url"],
                signup_query_parameters=None
                if row["signup_query_parameters"] is None
                else json.loads(row["signup_query_parameters"]),
            )

    # --- wire format ------------------------------------------------------------------------

    def user_to_wire(self, row: sqlite3.Row, include_orgs: bool) -> dict[str, Any]:
        user: dict[str, Any] = {
            "user_id": row["user_id"],
            "email": row["email"],
            "email_confirmed": bool(row["email_confirmed"]),
            "has_password": row["password_hash"] is not None or row["migrated_password_hash"] is not None,
            "username": row["username"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "picture_url": row["picture_url"],
            "locked": bool(row["locked"]),
            "enabled": bool(row["enabled"]),
            "mfa_enabled": row["mfa_secret"] is not None or row["mfa_phones"] is not None,
            "can_create_orgs": bool(row["can_create_orgs"]),
            "created_at": row["created_at"],
            "last_active_at": row["last_active_at"],
            "legacy_user_id": row["legacy_user_id"],
            "impersonator_user_id": row["impersonator_user_id"],
            "metadata": None if row["metadata"] is None else json.loads(row["metadata"]),
            "properties": json.loads(row["properties"] or "{}"),
            "update_password_required": bool(row["update_password_required"]),
        }
        if include_orgs:
            user["org_id_to_org_info"] = self.memberships(row["user_id"])
        return user
