"""An audit file holds one verifiable chain from its first record, whoever appended, whatever a line holds."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from server.audit import GENESIS_HASH, AuditTrail, AuditUnavailable, verify

REPO = Path(__file__).resolve().parents[2]


def write_records(path: Path, count: int) -> None:
    trail = AuditTrail(path, echo=False)
    for n in range(count):
        trail.write({"kind": "outcome", "call_id": f"call-{n}"})
    trail.close()


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_the_genesis_hash_is_64_zeros_and_the_first_record_starts_from_it(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_records(path, 1)
    first = json.loads(lines_of(path)[0])
    assert GENESIS_HASH == "0" * 64  # pinned: files written by every version start from this value
    assert (first["seq"], first["prev_hash"]) == (1, "0" * 64)


def test_two_trails_taking_turns_on_one_file_keep_one_chain(tmp_path: Path) -> None:
    """Two servers on the default path: each catches up with the records the other appended."""
    path = tmp_path / "audit.jsonl"
    first, second = AuditTrail(path, echo=False), AuditTrail(path, echo=False)
    for n in range(5):
        first.write({"kind": "outcome", "call_id": f"first-{n}"}, durable=n % 2 == 0)
        second.write({"kind": "outcome", "call_id": f"second-{n}"})
    first.close()
    second.close()
    assert verify(path) == (10, None)
    assert [json.loads(line)["seq"] for line in lines_of(path)] == list(range(1, 11))


def test_appending_after_a_last_record_without_its_newline_keeps_one_record_per_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_records(path, 2)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # e.g. saved by an editor that drops it
    write_records(path, 1)
    assert verify(path) == (3, None) and len(lines_of(path)) == 3


WRITER_SCRIPT = """
import sys
from pathlib import Path
from server.audit import AuditTrail
trail = AuditTrail(Path(sys.argv[1]), echo=False)
print("ready", flush=True)
sys.stdin.readline()  # start together
for n in range(int(sys.argv[3])):
    trail.write({"kind": "outcome", "call_id": f"{sys.argv[2]}-{n}"}, durable=n % 4 == 0)
trail.close()
"""


def test_two_processes_appending_at_once_leave_one_intact_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, str(path), name, "200"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for name in ("a", "b")
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.close()
        assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    finally:
        for writer in writers:
            writer.kill()
            writer.wait(timeout=10)
            if writer.stdout is not None:
                writer.stdout.close()
    assert verify(path) == (400, None)
    writers_seen = [json.loads(line)["call_id"].split("-")[0] for line in lines_of(path)]
    assert writers_seen.count("a") == writers_seen.count("b") == 200


def test_removing_the_first_records_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_records(path, 5)
    path.write_bytes(b"".join(lines_of(path)[2:]))
    good, problem = verify(path)
    assert good == 0 and problem is not None and problem.startswith("line 1:") and "removed" in problem


def test_a_first_record_that_does_not_start_from_the_genesis_hash_breaks_the_chain(tmp_path: Path) -> None:
    """seq renumbered to 1 after the head was cut: the prev_hash still gives it away."""
    path = tmp_path / "audit.jsonl"
    write_records(path, 3)
    second = json.loads(lines_of(path)[1])
    forged = json.dumps({**second, "seq": 1}, separators=(",", ":")).encode() + b"\n"
    path.write_bytes(forged)
    good, problem = verify(path)
    assert good == 0 and problem is not None and "genesis" in problem


MALFORMED_LINES = {
    "seq overflowing to infinity": b'{"seq":1e400,"prev_hash":"' + b"0" * 64 + b'"}',
    "seq as a string": b'{"seq":"1","prev_hash":"' + b"0" * 64 + b'"}',
    "seq as a boolean": b'{"seq":true,"prev_hash":"' + b"0" * 64 + b'"}',
    "seq as a float": b'{"seq":1.0,"prev_hash":"' + b"0" * 64 + b'"}',
    "seq with 5000 digits": b'{"seq":' + b"9" * 5000 + b',"prev_hash":"' + b"0" * 64 + b'"}',
    "seq zero": b'{"seq":0,"prev_hash":"' + b"0" * 64 + b'"}',
    "seq negative": b'{"seq":-1,"prev_hash":"' + b"0" * 64 + b'"}',
    "prev_hash missing": b'{"seq":1}',
    "prev_hash one digit short": b'{"seq":1,"prev_hash":"' + b"0" * 63 + b'"}',
    "prev_hash in capitals": b'{"seq":1,"prev_hash":"' + b"A" * 64 + b'"}',
    "prev_hash not a hash": b'{"seq":1,"prev_hash":12}',
    "not UTF-8": b'{"seq":1,"prev_hash":"\xff\xfe"}',
    "a JSON array": b"[1, 2]",
    "NaN": b"NaN",
    "nested beyond the parser's recursion limit": b"[" * 100_000 + b"]" * 100_000,
    "not JSON": b"hello",
}


@pytest.mark.parametrize("line", MALFORMED_LINES.values(), ids=MALFORMED_LINES.keys())
def test_a_malformed_first_line_is_a_broken_verdict(tmp_path: Path, line: bytes) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(line + b"\n")
    assert verify(path) == (0, "line 1: not an audit record")


@pytest.mark.parametrize("line", MALFORMED_LINES.values(), ids=MALFORMED_LINES.keys())
def test_a_malformed_last_line_is_a_broken_verdict_and_stops_only_state_changing_tools(
    tmp_path: Path, line: bytes
) -> None:
    path = tmp_path / "audit.jsonl"
    write_records(path, 2)
    with open(path, "ab") as file:
        file.write(line + b"\n")
    assert verify(path) == (2, "line 3: not an audit record")
    trail = AuditTrail(path, echo=False)  # the server starts: reads go on, changes are refused
    assert not trail.writable
    assert trail.unavailable_reason is not None and "audit verify" in trail.unavailable_reason
    trail.close()


def test_audit_verify_prints_a_broken_verdict_for_a_malformed_line_instead_of_a_traceback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(MALFORMED_LINES["seq overflowing to infinity"] + b"\n")
    entry_point = str(Path(sys.executable).parent / "propelauth-mcp")
    proc = subprocess.run(
        [entry_point, "audit", "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("BROKEN after 0 good records: line 1:") and "Traceback" not in proc.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_a_new_audit_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "state" / "audit.jsonl"
    previous = os.umask(0o022)  # a common umask, which would otherwise make the file world-readable
    try:
        write_records(path, 1)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_an_existing_audit_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.touch()
    path.chmod(0o640)  # e.g. an operator who lets a log shipper's group read it
    write_records(path, 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_missing_directories_on_the_audit_path_are_created(tmp_path: Path) -> None:
    """The default path (~/.local/state/propelauth-mcp/...) may lack more than one level."""
    path = tmp_path / "state" / "propelauth-mcp" / "audit.jsonl"
    write_records(path, 1)
    assert verify(path) == (1, None)


def test_any_byte_changed_in_a_record_breaks_the_chain_even_trailing_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_records(path, 3)
    lines = lines_of(path)
    path.write_bytes(lines[0] + lines[1].replace(b"}\n", b"} \n") + lines[2])
    assert verify(path) == (2, "line 3: the record before it (line 2) was edited")


def test_a_blank_line_is_skipped_and_the_records_after_it_are_still_checked(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_records(path, 4)
    lines = lines_of(path)
    assert verify(path) == (4, None)
    path.write_bytes(b"".join([lines[0], b"\n", lines[1], lines[3]]))  # a blank line, then a gap
    good, problem = verify(path)
    assert good == 2 and problem is not None and problem.startswith("line 4:") and "removed" in problem


def test_the_verdict_says_whether_a_record_was_removed_or_repeated(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_records(path, 3)
    first, second, third = lines_of(path)
    path.write_bytes(first + third)
    assert verify(path) == (1, "line 2: record seq 3 where 2 was expected (a record was removed)")
    path.write_bytes(first + second + second)
    assert verify(path) == (
        2,
        "line 3: record seq 2 where 3 was expected (a record was reordered or duplicated)",
    )


def test_a_line_torn_by_another_writer_stops_appends_without_burying_it(tmp_path: Path) -> None:
    """Another server crashed mid-record after this one opened the file: the next write is refused and
    says how to recover, the file is left as it is, and state-changing tools stay stopped."""
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path, echo=False)
    trail.write({"kind": "outcome", "call_id": "first"})
    with open(path, "ab") as other:
        other.write(b'{"seq":2,"prev_hash":"ab')
    before = path.read_bytes()
    with pytest.raises(AuditUnavailable) as refused:
        trail.write({"kind": "intent", "call_id": "buried?"}, durable=True)
    assert "audit verify" in str(refused.value)
    assert path.read_bytes() == before
    assert not trail.writable and trail.unavailable_reason == str(refused.value)
    with pytest.raises(AuditUnavailable):
        trail.write({"kind": "intent", "call_id": "again"})
    assert path.read_bytes() == before


def test_a_closed_trail_refuses_to_write(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "audit.jsonl", echo=False)
    trail.close()
    with pytest.raises(AuditUnavailable, match="not open"):
        trail.write({"kind": "outcome"})


@pytest.mark.parametrize(
    "content",
    [b"x", b"x\n", b"\n\nx", b"X\n\n"],
    ids=["one byte", "one short line", "text after blank lines", "text before blank lines"],
)
def test_a_file_whose_last_line_is_not_a_record_is_not_appended_to(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(content)
    trail = AuditTrail(path, echo=False)
    assert not trail.writable and trail.unavailable_reason is not None
    with pytest.raises(AuditUnavailable):
        trail.write({"kind": "outcome"})
    assert path.read_bytes() == content


@pytest.mark.parametrize("content", [b"", b"\n", b"\n\n\n"], ids=["empty", "one blank line", "blank lines"])
def test_an_empty_or_blank_file_starts_a_new_chain(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(content)
    write_records(path, 2)
    assert verify(path) == (2, None)


@pytest.mark.parametrize("ending", [b" ", b"\t", b"\r"], ids=["space", "tab", "carriage return"])
def test_appending_to_a_file_that_verifies_intact_keeps_it_intact(tmp_path: Path, ending: bytes) -> None:
    """The next record chains to the last record's bytes as they are on disk, as verify reads them: the
    server never turns an intact verdict into a broken one (here the last line ends with whitespace)."""
    path = tmp_path / "audit.jsonl"
    write_records(path, 2)
    first, second = lines_of(path)
    path.write_bytes(first + second.rstrip(b"\n") + ending + b"\n")
    assert verify(path) == (2, None)
    write_records(path, 1)
    assert verify(path) == (3, None)
