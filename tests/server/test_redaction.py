"""One redaction marker, written by every mechanism: secret arguments, secret-named log fields, and known
secret values (the API key, HTTP tokens) wherever they appear, including ones added after start-up."""

from __future__ import annotations

import ast
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from server.audit import AuditTrail
from server.logs import configure_logging
from tools.secrets import REDACTED, SecretScrubber, redact_arguments

REPO = Path(__file__).resolve().parents[2]
API_KEY = "sk-redaction-test-api-key-0123456789"
BEARER_TOKEN = "http-caller-token-added-later-9f8e7d6c5b4a"


@pytest.fixture
def scrubber() -> SecretScrubber:
    return SecretScrubber([API_KEY])


@pytest.fixture
def stderr(scrubber: SecretScrubber) -> Iterator[io.StringIO]:
    """The server's real log configuration, rendering into a buffer."""
    stream = io.StringIO()
    configure_logging("info", scrubber, stream=stream)
    yield stream
    structlog.reset_defaults()
    logging.basicConfig(force=True)


def test_a_secret_added_after_creation_is_scrubbed_from_the_audit_file_and_the_log_line(
    tmp_path: Path, scrubber: SecretScrubber, stderr: io.StringIO
) -> None:
    """As the HTTP tokens are: known once the settings are read, after the scrubber exists."""
    path = tmp_path / "audit.jsonl"
    trail = AuditTrail(path, scrubber=scrubber)
    scrubber.add(BEARER_TOKEN)
    trail.write({"kind": "outcome", "details": {"echoed": f"Bearer {BEARER_TOKEN} and {API_KEY}"}})
    trail.close()
    structlog.get_logger().warning("backend_said", body=f"invalid token {BEARER_TOKEN}")
    audit_bytes, log_text = path.read_bytes(), stderr.getvalue()
    assert json.loads(audit_bytes)["details"]["echoed"] == f"Bearer {REDACTED} and {REDACTED}"
    [echo, diagnostic] = [json.loads(line) for line in log_text.splitlines()]
    assert echo["details"]["echoed"] == f"Bearer {REDACTED} and {REDACTED}"
    assert diagnostic["body"] == f"invalid token {REDACTED}"
    for written in (audit_bytes.decode(), log_text):
        assert BEARER_TOKEN not in written and API_KEY not in written


def test_a_secret_argument_is_replaced_by_the_marker() -> None:
    assert redact_arguments({"user_id": "u", "password": "hunter2-hunter2"}) == {
        "user_id": "u",
        "password": REDACTED,
    }


def test_a_secret_named_log_field_is_replaced_by_the_marker(stderr: io.StringIO) -> None:
    structlog.get_logger().info("request", authorization="Basic c2VjcmV0", api_key="short")
    line = json.loads(stderr.getvalue())
    assert (line["authorization"], line["api_key"]) == (REDACTED, REDACTED)


def redaction_literals(path: Path) -> list[str]:
    """String constants in a module that look like a redaction marker, in any case."""
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "[redacted]" in node.value.lower()
    ]


def test_the_marker_is_spelled_in_one_place_only() -> None:
    spelled = {
        str(path.relative_to(REPO)): redaction_literals(path)
        for package in ("server", "tools", "sandbox")
        for path in sorted((REPO / package).rglob("*.py"))
        if redaction_literals(path)
    }
    assert spelled == {"tools/secrets.py": [REDACTED]}


@pytest.mark.parametrize("added_later", [False, True])
def test_a_secret_that_contains_another_is_replaced_whole(added_later: bool) -> None:
    """An HTTP token that extends the API key (or another token) leaves no tail of itself behind."""
    short, long = "token-0123", "an-http-token-0123-and-more"  # sorts before the short one
    scrubber = SecretScrubber([] if added_later else [short, long])
    if added_later:
        scrubber.add(short)
        scrubber.add(long)
    assert scrubber(f"a {long} b {short} c") == f"a {REDACTED} b {REDACTED} c"


def test_values_from_six_characters_on_are_scrubbed_shorter_ones_would_garble_text() -> None:
    scrubber = SecretScrubber(["abcde", "vwxyz1"])
    scrubber.add("fghij")
    scrubber.add("klmno2")
    assert scrubber("abcde vwxyz1 fghij klmno2") == f"abcde {REDACTED} fghij {REDACTED}"


def test_secrets_are_scrubbed_anywhere_in_json_like_data_keys_included() -> None:
    scrubber = SecretScrubber(["hunter2-secret"], min_length=4)
    body = {
        "password": ["hunter2-secret is too common"],
        "hunter2-secret": {"nested": ["x", "again hunter2-secret"]},
        "count": 3,
        "flag": None,
    }

    assert scrubber.scrub_data(body) == {
        "password": [f"{REDACTED} is too common"],
        REDACTED: {"nested": ["x", f"again {REDACTED}"]},
        "count": 3,
        "flag": None,
    }
    assert scrubber.scrub_data("plain hunter2-secret text") == f"plain {REDACTED} text"


def test_a_scrubber_can_take_shorter_secrets_when_asked() -> None:
    assert SecretScrubber(["abcd"], min_length=4)("x abcd y") == f"x {REDACTED} y"
    assert SecretScrubber(["abcd"])("x abcd y") == "x abcd y"  # the default minimum is six characters
