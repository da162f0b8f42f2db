"""The audit file of a real session: each change's intent is on disk before PropelAuth sees the request, the
outcome follows under the same call_id, and `propelauth-mcp audit verify` (the real command) finds edits,
removals and reordering. Unit tests of `verify` itself live in tests/server/test_audit_trail.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from sandbox.demo import demo_user_id
from server.app import create_server
from server.audit import AuditTrail
from tests.conftest import make_settings
from tests.trust.conftest import RecordingSandbox, read_records

pytestmark = pytest.mark.usefixtures("quiet_logs")

ENTRY_POINT = str(Path(sys.executable).parent / "propelauth-mcp")
ADA = demo_user_id("ada@example.com")
GRACE = demo_user_id("grace.hopper@example.com")

SESSION: list[tuple[str, dict[str, Any]]] = [
    ("fetch_user_by_id", {"user_id": ADA}),
    ("create_user", {"email": "audited@example.com", "password": "a-long-password-1"}),
    ("update_user", {"user_id": ADA, "first_name": "Augusta"}),
    ("disable_user", {"user_id": ADA}),  # a preview: a read, no intent
    ("disable_user", {"user_id": ADA, "confirm": True}),
    ("enable_user", {"user_id": ADA}),
    ("query_users", {"page_size": 3}),
    ("delete_user", {"user_id": GRACE, "confirm": True}),
]
WRITES = ["create_user", "update_user", "disable_user", "enable_user", "delete_user"]


async def run_session(audit_path: Path, front: RecordingSandbox) -> None:
    trail = AuditTrail(audit_path)
    server = create_server(make_settings(audit_path), trail, transport=httpx2.ASGITransport(app=front))
    try:
        with anyio.fail_after(30):
            async with Client(server, mode="legacy") as client:
                for name, arguments in SESSION:
                    await client.call_tool(name, arguments)
    finally:
        trail.close()


@pytest.fixture
def session_file(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    anyio.run(run_session, path, RecordingSandbox())
    return path


def audit_verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ENTRY_POINT, "audit", "verify", str(path)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.anyio
async def test_each_intent_is_on_disk_before_propelauth_sees_the_change_and_its_outcome_follows(
    audit_path: Path,
) -> None:
    on_disk_at_arrival: list[tuple[str, dict[str, Any] | None]] = []
    front = RecordingSandbox()

    def snapshot(scope: dict[str, Any]) -> None:
        records = read_records(audit_path)  # a separate reader: only what was flushed to the file
        on_disk_at_arrival.append((scope["method"], records[-1] if records else None))

    front.on_request = snapshot
    await run_session(audit_path, front)

    changes = [(method, last) for method, last in on_disk_at_arrival if method != "GET"]
    assert len(changes) == len(WRITES)
    records = read_records(audit_path)
    for (_, last), tool in zip(changes, WRITES, strict=True):
        assert last is not None and (last["kind"], last["tool"], last["outcome"]) == ("intent", tool, None)
        [outcome] = [r for r in records if r["call_id"] == last["call_id"] and r["kind"] == "outcome"]
        assert outcome["tool"] == tool and outcome["outcome"] == "ok" and outcome["seq"] == last["seq"] + 1
    # Reads (and the preview) write no intent: the record before them is the previous call's outcome.
    for method, last in on_disk_at_arrival:
        if method == "GET":
            assert last is None or last["kind"] == "outcome"


def test_audit_verify_counts_the_records_of_an_intact_session(session_file: Path) -> None:
    records = read_records(session_file)
    assert len(records) == len(SESSION) + len(WRITES)  # one outcome per call, one intent per change
    proc = audit_verify(session_file)
    assert proc.returncode == 0 and f"{len(records)} records" in proc.stderr and proc.stdout == ""


def _rewrite(path: Path, change: Any) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(change(lines)))


def test_audit_verify_names_an_edited_record(session_file: Path) -> None:
    lines = session_file.read_text().splitlines(keepends=True)
    index = next(
        i for i, line in enumerate(lines) if '"tool":"delete_user"' in line and '"kind":"intent"' in line
    )
    edited = lines[index].replace(GRACE, ADA)  # pretend a different user was deleted
    _rewrite(session_file, lambda ls: [*ls[:index], edited, *ls[index + 1 :]])
    proc = audit_verify(session_file)
    assert proc.returncode == 1
    assert f"after {index + 1} good records" in proc.stderr and f"line {index + 1}" in proc.stderr
    assert "edited" in proc.stderr


def test_audit_verify_names_a_removed_record(session_file: Path) -> None:
    _rewrite(session_file, lambda ls: [*ls[:4], *ls[5:]])
    proc = audit_verify(session_file)
    assert proc.returncode == 1 and "line 5" in proc.stderr and "removed" in proc.stderr
    assert "after 4 good records" in proc.stderr


def test_audit_verify_names_reordered_records(session_file: Path) -> None:
    _rewrite(session_file, lambda ls: [*ls[:2], ls[3], ls[2], *ls[4:]])
    proc = audit_verify(session_file)
    assert proc.returncode == 1 and "line 3" in proc.stderr and "after 2 good records" in proc.stderr


def test_audit_verify_refuses_a_file_that_is_not_an_audit_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    proc = audit_verify(path)
    assert proc.returncode == 1 and "line 1" in proc.stderr


@pytest.mark.anyio
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
async def test_when_the_audit_file_stops_taking_writes_changes_are_refused_and_reads_go_on() -> None:
    """/dev/full opens fine and then fails every write (ENOSPC), like a disk that fills mid-session."""
    front = RecordingSandbox()
    trail = AuditTrail(Path("/dev/full"))
    assert trail.writable
    server = create_server(make_settings(Path("/dev/full")), trail, transport=httpx2.ASGITransport(app=front))
    try:
        with anyio.fail_after(20):
            async with Client(server, mode="legacy") as client:
                read = await client.call_tool("fetch_user_by_id", {"user_id": ADA})
                write = await client.call_tool("update_user", {"user_id": ADA, "first_name": "Nobody"})
                destructive = await client.call_tool("delete_user", {"user_id": ADA, "confirm": True})
    finally:
        trail.close()  # must not raise either: shutdown after a full disk is an ordinary shutdown
    assert not read.is_error
    for refused in (write, destructive):
        text = refused.content[0].text  # type: ignore[union-attr]
        assert refused.is_error and "audit" in text and "Nothing was sent" in text
    assert [seen.method for seen in front.seen] == ["GET"]
    assert front.sandbox.store.get_user(ADA)["first_name"] == "Ada"  # type: ignore[index]


FAILED_WRITE_SCRIPT = """
import resource, signal, sys
from pathlib import Path
from server.audit import AuditTrail, AuditUnavailable, verify
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
path = Path(sys.argv[1])
trail = AuditTrail(path)
trail.write({"kind": "outcome", "call_id": "before"})
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 10, hard))
try:
    trail.write({"kind": "intent", "call_id": "refused"}, durable=True)
    raise SystemExit("the write should have failed")
except AuditUnavailable:
    pass
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
trail.write({"kind": "outcome", "call_id": "after"})
trail.close()
print(verify(path))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="uses RLIMIT_FSIZE")
def test_a_record_that_failed_to_be_written_never_turns_up_later(tmp_path: Path) -> None:
    """A full disk refuses one intent; once space is back, the chain goes on without that record."""
    path = tmp_path / "audit.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", FAILED_WRITE_SCRIPT, str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "(2, None)"
    assert [r["call_id"] for r in read_records(path)] == ["before", "after"]


RECOVERY_SCRIPT = """
import json, resource, signal, sys
from pathlib import Path
import anyio, httpx2
from mcp import Client
from sandbox.demo import demo_user_id
from server.app import create_server
from server.audit import AuditTrail, SecretScrubber, verify
from server.logs import configure_logging
from tests.conftest import make_settings
from tests.trust.conftest import RecordingSandbox

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, a write fails with EFBIG instead
path = Path(sys.argv[1])
ADA = demo_user_id("ada@example.com")

async def main():
    configure_logging("info", SecretScrubber())
    front = RecordingSandbox()
    trail = AuditTrail(path, echo=False)
    server = create_server(make_settings(path), trail, transport=httpx2.ASGITransport(app=front))
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    with anyio.fail_after(30):
        async with Client(server, mode="legacy") as client:
            await client.call_tool("fetch_user_by_id", {"user_id": ADA})
            resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size, hard))  # the disk is full
            refused = await client.call_tool("update_user", {"user_id": ADA, "first_name": "Full"})
            writable_while_full = trail.writable
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space is back
            accepted = await client.call_tool("update_user", {"user_id": ADA, "first_name": "Back"})
    trail.close()
    print(json.dumps({
        "refused": [refused.is_error, refused.content[0].text],
        "writable_while_full": writable_while_full,
        "accepted": accepted.is_error,
        "reason_after": trail.unavailable_reason,
        "methods": [seen.method for seen in front.seen],
        "first_name": front.sandbox.store.get_user(ADA)["first_name"],
        "verify": verify(path),
    }))

anyio.run(main)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="uses RLIMIT_FSIZE")
def test_state_changing_tools_come_back_by_themselves_once_the_audit_file_takes_writes_again(
    tmp_path: Path,
) -> None:
    """A full disk (a real EFBIG from the file system) refuses one change; the next one, with space back,
    goes through on the same server, and the file holds one intact chain without the refused intent."""
    path = tmp_path / "audit.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", RECOVERY_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    is_error, text = seen["refused"]
    assert is_error and "audit" in text and "Nothing was sent" in text
    assert seen["writable_while_full"] is True  # worth trying: the next intent write is the retry
    assert seen["accepted"] is False and seen["reason_after"] is None
    assert seen["methods"] == ["GET", "PUT"] and seen["first_name"] == "Back"
    records = read_records(path)
    assert seen["verify"] == [len(records), None]
    assert [(r["tool"], r["kind"], r["outcome"]) for r in records] == [
        ("fetch_user_by_id", "outcome", "ok"),
        ("update_user", "intent", None),
        ("update_user", "outcome", "ok"),
    ]
