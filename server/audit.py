"""The audit trail: one JSON line per record, hash-chained, in a durable file and on stderr.

Each file record carries `seq` and `prev_hash` (the SHA-256 of the previous line), so that an edited,
removed or reordered record breaks the chain (`propelauth-mcp audit verify`). State-changing calls
write an `intent` record, flushed and fsync'ed, before the request leaves, and an `outcome` after.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

GENESIS_HASH = "0" * 64
_audit_log = structlog.get_logger("propelauth_mcp.audit")


class AuditUnavailable(Exception):
    """The audit file cannot be written; state-changing tools must not run."""


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


MAX_AUDITED_CHARS = 256


def clip_long_values(value: Any, limit: int = MAX_AUDITED_CHARS) -> Any:
    """Shorten long strings in an audited value: a hostile caller's 100 kB argument stays readable."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}...[{len(value)} chars]"
    if isinstance(value, dict):
        return {key: clip_long_values(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [clip_long_values(item, limit) for item in value]
    return value


class SecretScrubber:
    """Replaces known secret values (the API key, HTTP tokens) wherever they appear in a rendered line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        if len(secret) >= 6 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "[REDACTED]")
        return text


class AuditTrail:
    def __init__(
        self, path: Path | None, *, scrubber: SecretScrubber | None = None, echo: bool = True
    ) -> None:
        self.path = path
        self._scrub = scrubber or SecretScrubber()
        self._echo = echo  # each record also as a log event (stderr); off, the event is not even built
        self._file: Any = None
        self._seq = 0
        self._prev_hash = GENESIS_HASH
        self.unavailable_reason: str | None = None
        if path is not None:
            self._open(path)

    def _open(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._resume_chain(path)
            # Unbuffered: a write that fails (disk full) leaves nothing behind to be flushed out later,
            # out of chain order. Held open for the life of the server.
            self._file = open(path, "ab", buffering=0)  # noqa: SIM115
        except OSError as exc:
            self.unavailable_reason = f"cannot use audit log {path}: {exc.strerror or exc}"

    def _resume_chain(self, path: Path) -> None:
        """Continue the chain of an existing file from its last record, however long that record is."""
        last = _last_line(path)
        if last is None:
            return
        try:
            self._seq = int(json.loads(last)["seq"])
        except (ValueError, KeyError, TypeError):
            # A torn record (a crash mid-write) or a file that is not ours: appending would bury it.
            raise OSError(
                "its last line is not a complete audit record; check it with `propelauth-mcp audit verify` "
                "and move the file aside"
            ) from None
        self._prev_hash = line_hash(last)

    @property
    def writable(self) -> bool:
        return self.path is None or (self._file is not None and self.unavailable_reason is None)

    def write(self, record: dict[str, Any], *, durable: bool = False) -> None:
        """Append one record; with `durable`, it is on disk before this returns. Raises AuditUnavailable."""
        entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **record}
        if self._file is not None:
            self._append(entry, durable=durable)
        elif self.path is not None:
            raise AuditUnavailable(self.unavailable_reason or "audit log not open")
        if self._echo:
            _audit_log.info("audit", **entry)

    def _append(self, entry: dict[str, Any], *, durable: bool) -> None:
        chained = {"seq": self._seq + 1, "prev_hash": self._prev_hash, **entry}
        line = (self._scrub(json.dumps(chained, separators=(",", ":"), default=str)) + "\n").encode()
        start: int | None = None
        try:
            start = os.fstat(self._file.fileno()).st_size
            written = 0
            while written < len(line):  # an unbuffered write may be short (disk nearly full)
                count = self._file.write(line[written:])
                if not count:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                written += count
            if durable:
                os.fsync(self._file.fileno())
        except OSError as exc:
            self._discard_partial(start)
            self.unavailable_reason = f"cannot write audit log {self.path}: {exc.strerror or exc}"
            raise AuditUnavailable(self.unavailable_reason) from exc
        self._seq += 1
        self._prev_hash = line_hash(line)

    def _discard_partial(self, size: int | None) -> None:
        """Cut off whatever part of a failed record reached the file, so the chain stays verifiable."""
        if size is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._file.fileno(), size)

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):  # the reason was already reported when the write failed
                self._file.close()
            self._file = None


def _last_line(path: Path, chunk: int = 65536) -> bytes | None:
    """The file's last line without its newline, read backwards from the end; None if there is none."""
    if not path.exists():
        return None
    with open(path, "rb") as file:
        end = file.seek(0, os.SEEK_END)
        tail = b""
        position = end
        while position > 0:
            start = max(0, position - chunk)
            file.seek(start)
            tail = file.read(position - start) + tail
            position = start
            body = tail.rstrip(b"\n")
            if b"\n" in body or position == 0:
                return body.rsplit(b"\n", 1)[-1] if body else None
    return None


def verify(path: Path) -> tuple[int, str | None]:
    """Check a chain: (count of good records, None) or (good records before the break, what broke)."""
    prev_hash: str | None = None
    expected_seq = 0
    good = 0
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                seq, claimed_prev = int(record["seq"]), record["prev_hash"]
            except (ValueError, KeyError, TypeError):
                return good, f"line {number}: not an audit record"
            if prev_hash is None:
                prev_hash, expected_seq = claimed_prev, seq  # a chain may continue an older file
            if seq != expected_seq:
                kind = "removed" if seq > expected_seq else "reordered or duplicated"
                problem = f"record seq {seq} where {expected_seq} was expected (a record was {kind})"
                return good, f"line {number}: {problem}"
            if claimed_prev != prev_hash:
                return good, f"line {number}: the record before it (line {number - 1}) was edited"
            prev_hash, expected_seq = line_hash(line), seq + 1
            good += 1
    return good, None
