"""A full disk refuses an audit write without leaving half a record, and the trail recovers by itself.

In-process (the limit is lowered around one write only), so these run fast under the mutation runner;
tests/trust/test_audit_tamper_evidence.py checks the same through a whole server in a subprocess.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from server.audit import AuditTrail, AuditUnavailable, verify

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses RLIMIT_FSIZE")


@contextmanager
def disk_full_at(size: int) -> Iterator[None]:
    """Writes past `size` bytes fail with EFBIG (SIGXFSZ ignored), as on a file system that is full."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def call_ids(path: Path) -> list[str]:
    return [json.loads(line)["call_id"] for line in path.read_text().splitlines()]


def test_a_write_cut_short_by_a_full_disk_leaves_no_partial_record(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path, echo=False)
    trail.write({"kind": "outcome", "call_id": "before"})
    size = path.stat().st_size
    with disk_full_at(size + 10), pytest.raises(AuditUnavailable):  # 10 bytes of the record fit
        trail.write({"kind": "intent", "call_id": "refused"}, durable=True)
    assert path.stat().st_size == size
    trail.write({"kind": "outcome", "call_id": "after"})
    trail.close()
    assert verify(path) == (2, None) and call_ids(path) == ["before", "after"]


def test_after_a_failed_write_the_trail_says_why_stays_worth_trying_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path, echo=False)
    trail.write({"kind": "outcome", "call_id": "before"})
    with disk_full_at(path.stat().st_size), pytest.raises(AuditUnavailable) as refused:
        trail.write({"kind": "intent", "call_id": "refused"}, durable=True)
    # The file and the cause, as the operating system names it (no errno noise, no traceback).
    assert str(refused.value) == f"cannot write audit log {path}: {os.strerror(errno.EFBIG)}"
    assert trail.unavailable_reason == str(refused.value)
    assert trail.writable  # the next intent write is the retry
    trail.write({"kind": "intent", "call_id": "after"}, durable=True)
    assert trail.unavailable_reason is None
    trail.close()
    assert verify(path) == (2, None) and call_ids(path) == ["before", "after"]


def test_only_durable_records_are_forced_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An intent is on disk before the request leaves; a read's outcome costs no disk flush."""
    synced: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    trail = AuditTrail(tmp_path / "audit.jsonl", echo=False)
    trail.write({"kind": "outcome", "call_id": "read"})
    assert synced == []
    trail.write({"kind": "intent", "call_id": "change"}, durable=True)
    assert len(synced) == 1
    trail.close()


def test_a_record_is_stamped_with_the_time_in_utc(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path, echo=False)
    trail.write({"kind": "outcome", "call_id": "c"})
    trail.close()
    stamped = datetime.fromisoformat(json.loads(path.read_text())["time"])
    assert stamped.utcoffset() == timedelta(0)


def test_a_trail_that_cannot_open_its_file_says_which_file_and_why(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    path = blocker / "audit.jsonl"  # mkdir of its directory fails: a file is in the way
    trail = AuditTrail(path, echo=False)
    assert not trail.writable
    assert trail.unavailable_reason == f"cannot use audit log {path}: {os.strerror(errno.EEXIST)}"


def test_a_fresh_trail_reports_no_problem(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "audit.jsonl", echo=False)
    assert trail.writable and trail.unavailable_reason is None
    trail.close()


def test_a_record_holding_a_value_json_lacks_is_still_written(tmp_path: Path) -> None:
    """An audit record is never lost to its content: such values are written as their text."""
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path, echo=False)
    trail.write({"kind": "outcome", "call_id": "c", "where": tmp_path})
    trail.close()
    assert json.loads(path.read_text())["where"] == str(tmp_path)
