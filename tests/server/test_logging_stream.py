"""Logging writes to stderr as it is when each line is written: a stream replaced or closed after
configuration (a test runner's capture, an embedding program) can never be written to."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from server.logs import configure_logging
from tools.secrets import SecretScrubber

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def default_logging() -> Iterator[None]:
    """Configure logging as `propelauth-mcp` does (no stream given), and restore the defaults afterwards."""
    configure_logging("info", SecretScrubber())
    yield
    structlog.reset_defaults()
    logging.basicConfig(force=True)


@pytest.mark.usefixtures("default_logging")
def test_log_lines_follow_stderr_replaced_and_closed_after_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    structlog.get_logger().info("to_the_first")
    logging.getLogger("some.library").warning("library line one")
    first.close()  # e.g. the capture of a test that has ended
    monkeypatch.setattr(sys, "stderr", second)
    structlog.get_logger().info("to_the_second")
    logging.getLogger("some.library").warning("library line two")
    lines = second.getvalue().splitlines()
    assert json.loads(lines[0])["event"] == "to_the_second"
    assert lines[1] == "WARNING:some.library:library line two"


def test_the_suite_passes_with_the_cli_settings_tests_run_before_the_http_transport_tests() -> None:
    """The order that once failed with "I/O operation on closed file" (logging left on a closed capture)."""
    files = [
        "tests/http/test_tokens_and_settings.py",
        "tests/http/test_http_transport.py::test_an_authenticated_agent_lists_and_calls_tools_over_http",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", "-q", "-x", *files],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
