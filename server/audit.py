"""The audit trail: one JSON line per record, hash-chained, in a durable file and on stderr.

Each file record carries `seq` and `prev_hash` (the SHA-256 of the previous line; the first record's is
`GENESIS_HASH`), so that an edited, removed or reordered record breaks the chain, at the head of the file
too (`propelauth-mcp audit verify`). State-changing calls write an `intent` record, flushed and fsync'ed,
before the request leaves, and an `outcome` after.

Several servers may share one file (two stdio clients each start one with the default path): every
append takes an exclusive lock on the file and first catches up with the chain's head, so the file
holds one chain whoever wrote each record.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple

import structlog

from tools.secrets import SecretScrubber

if sys.platform != "win32":
    import fcntl

__all__ = [
    "GENESIS_HASH",
    "AuditTrail",
    "AuditUnavailable",
    "SecretScrubber",
    "clip_long_values",
    "line_hash",
    "verify",
]

GENESIS_HASH = "0" * 64
_HASH = re.compile(r"[0-9a-f]{64}")
_audit_log = structlog.get_logger("propelauth_mcp.audit")


class AuditUnavailable(Exception):
    """The audit file cannot be written; state-changing tools must not run."""


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


class ChainLink(NamedTuple):
    seq: int
    prev_hash: str


def parse_link(line: bytes) -> ChainLink | None:
    """A line's place in the chain, or None for anything that is not one of our records."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, not UTF-8 (a ValueError too), or absurdly nested
        return None
    if not isinstance(record, dict):
        return None
    seq, prev_hash = record.get("seq"), record.get("prev_hash")
    if type(seq) is not int or seq < 1:  # not a bool, a float (1e400 is inf), a string
        return None
    if not isinstance(prev_hash, str) or not _HASH.fullmatch(prev_hash):
        return None
    return ChainLink(seq, prev_hash)


# What a record keeps of a hostile caller's arguments: enough to read what was asked, never a flood.
MAX_AUDITED_CHARS = 256  # per string value
MAX_AUDITED_KEY_CHARS = 64  # per object key (argument and metadata names)
MAX_AUDITED_ITEMS = 50  # per object or array
MAX_AUDITED_DEPTH = 8  # levels of nesting
MAX_AUDITED_NODES = 500  # values in one record's clipped value, all levels together


def clip_long_values(value: Any, limit: int = MAX_AUDITED_CHARS) -> Any:
    """A bounded copy of an audited value: long strings and keys cut (with their length), objects and arrays
    cut to their first items (with how many were dropped), nesting cut at a depth, NaN and Infinity
    written as strings. Strict JSON."""
    return _Clipper(limit).clip(value, depth=0)


class _Clipper:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._nodes_left = MAX_AUDITED_NODES

    def clip(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return _clip_text(value, self._limit)
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)  # NaN and Infinity are not JSON: a record must stay readable by any parser
        if not isinstance(value, dict | list):
            return value
        if depth >= MAX_AUDITED_DEPTH:
            return f"...[nested deeper than {MAX_AUDITED_DEPTH} levels]"
        keep = max(0, min(len(value), MAX_AUDITED_ITEMS, self._nodes_left))
        self._nodes_left -= keep
        dropped = len(value) - keep
        if isinstance(value, list):
            items = [self.clip(item, depth + 1) for item in value[:keep]]
            return [*items, f"...[{dropped} more items]"] if dropped else items
        clipped = {_clip_key(key): self.clip(item, depth + 1) for key, item in list(value.items())[:keep]}
        if dropped:
            clipped["..."] = f"[{dropped} more entries]"
        return clipped


def _clip_key(key: Any) -> Any:
    return _clip_text(key, MAX_AUDITED_KEY_CHARS) if isinstance(key, str) else key


def _clip_text(text: str, limit: int) -> str:
    return f"{text[:limit]}...[{len(text)} chars]" if len(text) > limit else text


class AuditTrail:
    def __init__(
        self, path: Path | None, *, scrubber: SecretScrubber | None = None, echo: bool = True
    ) -> None:
        self.path = path
        self._scrub = scrubber or SecretScrubber()
        self._echo = echo  # each record also as a log event (stderr); off, the event is not even built
        self._file: IO[bytes] | None = None
        self._seq = 0
        self._prev_hash = GENESIS_HASH
        self._known_size: int | None = None  # the file's size when we last saw its head (or wrote it)
        self._unterminated = False  # the file's last record lacks its newline
        self._mutex = threading.Lock()  # the file lock excludes other processes; this, other threads
        self._blocked: str | None = None  # a file we must not append to (cannot open, foreign last line)
        self._write_failure: str | None = None  # the last append failed (disk full); the next one retries
        if path is not None:
            self._open(path)

    def _open(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Unbuffered: a write that fails (disk full) leaves nothing behind to be flushed out later,
            # out of chain order. Readable, to catch up with the head others wrote. Created 0600 (an
            # existing file keeps its mode). Held open for the life of the server.
            self._file = open(path, "a+b", buffering=0, opener=_private_opener)  # noqa: SIM115
            with self._exclusive():
                self._follow_head()
        except OSError as exc:
            self._blocked = f"cannot use audit log {path}: {exc.strerror or exc}"
        if self._blocked is not None:
            self.close()  # a file we must not append to is not held open either

    @property
    def unavailable_reason(self) -> str | None:
        """Why the last attempt to append failed or why appending is not possible; None when it is fine."""
        return self._blocked or self._write_failure

    @property
    def writable(self) -> bool:
        """Worth trying a state-changing call: False only for a file we must not append to.

        After a mere write failure (a full disk) it stays True: the next intent write tries again, and
        state-changing tools come back by themselves once a write succeeds.
        """
        return self.path is None or (self._file is not None and self._blocked is None)

    def write(self, record: dict[str, Any], *, durable: bool = False) -> None:
        """Append one record; with `durable`, it is on disk before this returns. Raises AuditUnavailable."""
        entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **record}
        if self.path is not None:
            self._append(entry, durable=durable)
        if self._echo:
            _audit_log.info("audit", **entry)

    def _append(self, entry: dict[str, Any], *, durable: bool) -> None:
        if self._file is None or self._blocked is not None:
            raise AuditUnavailable(self._blocked or "audit log not open")
        try:
            with self._exclusive():
                self._follow_head()  # another server may have appended since our last record
                if self._blocked is None:
                    chained = {"seq": self._seq + 1, "prev_hash": self._prev_hash, **entry}
                    line = self._scrub(json.dumps(chained, separators=(",", ":"), default=str)) + "\n"
                    self._write_line(line.encode(), durable=durable)
        except OSError as exc:
            self._write_failure = f"cannot write audit log {self.path}: {exc.strerror or exc}"
            raise AuditUnavailable(self._write_failure) from exc
        self._stop_if_blocked()
        self._write_failure = None

    def _stop_if_blocked(self) -> None:
        if self._blocked is not None:
            self.close()
            raise AuditUnavailable(self._blocked)

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        assert self._file is not None
        with self._mutex:
            if sys.platform == "win32":
                # No lock on Windows (msvcrt.locking locks byte ranges, not a growing file): the head is
                # still re-read whenever another writer changed the file's size, but two servers that
                # append at the same instant may interleave. Give each server its own file there.
                yield
                return
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)

    def _follow_head(self) -> None:
        """Take the chain's head (last seq and hash) from the file; read only if its size changed."""
        assert self._file is not None
        size = os.fstat(self._file.fileno()).st_size
        if size == self._known_size:
            return
        last = _last_line(self._file, size)
        link = parse_link(last) if last is not None else ChainLink(0, GENESIS_HASH)
        if link is None:
            # A torn record (a crash mid-write) or a file that is not ours: appending would bury it.
            self._blocked = (
                f"the last line of audit log {self.path} is not a complete audit record; check it with "
                "`propelauth-mcp audit verify` and move the file aside"
            )
            return
        self._seq = link.seq
        self._prev_hash = line_hash(last) if last is not None else GENESIS_HASH
        self._known_size = size
        # A complete last record without its newline (an editor's doing): end the line before appending,
        # or two records would share it. The newline is not part of any record's hash.
        self._unterminated = last is not None and _byte_at(self._file, size - 1) != b"\n"

    def _write_line(self, line: bytes, *, durable: bool) -> None:
        assert self._file is not None and self._known_size is not None
        start = self._known_size
        data = b"\n" + line if self._unterminated else line
        try:
            written = 0
            while written < len(data):  # an unbuffered write may be short (disk nearly full)
                count = self._file.write(data[written:])
                if not count:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                written += count
            if durable:
                os.fsync(self._file.fileno())
        except OSError:
            # Cut off whatever part of the failed record reached the file, so the chain stays verifiable.
            with contextlib.suppress(OSError):
                os.ftruncate(self._file.fileno(), start)
            raise
        self._seq += 1
        self._prev_hash = line_hash(line)
        self._known_size = start + len(data)
        self._unterminated = False

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):  # the reason was already reported when the write failed
                self._file.close()
            self._file = None


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _byte_at(file: IO[bytes], offset: int) -> bytes:
    file.seek(offset)
    return file.read(1)


def _last_line(file: IO[bytes], end: int, chunk: int = 65536) -> bytes | None:
    """The file's last line without its newline, read backwards from `end`; None if there is none."""
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
    """Check a chain: (count of good records, None) or (good records before the break, what broke).

    The chain must start at the file's first record, seq 1 from the genesis hash: a file whose first
    records were removed is broken, as is any line that is not an audit record.
    """
    expected_seq, prev_hash, good = 1, GENESIS_HASH, 0
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            link = parse_link(line)
            if link is None:
                return good, f"line {number}: not an audit record"
            if link.seq != expected_seq:
                return good, f"line {number}: {_seq_problem(link.seq, expected_seq)}"
            if link.prev_hash != prev_hash:
                if good == 0:
                    problem = "the first record does not start from the genesis hash (the head was removed)"
                else:
                    problem = f"the record before it (line {number - 1}) was edited"
                return good, f"line {number}: {problem}"
            prev_hash, expected_seq = line_hash(line), link.seq + 1
            good += 1
    return good, None


def _seq_problem(seq: int, expected: int) -> str:
    if expected == 1:
        return f"the file starts at record seq {seq}, not 1 (its first records were removed)"
    kind = "removed" if seq > expected else "reordered or duplicated"
    return f"record seq {seq} where {expected} was expected (a record was {kind})"
