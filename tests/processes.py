"""Helpers for tests that drive a real subprocess: bounded reads, no sleeps."""

from __future__ import annotations

import os
import selectors
import time
from typing import IO


def read_until(stream: IO[bytes], marker: bytes, timeout_s: float = 30.0) -> bytes:
    """Read a pipe until `marker` appears; fail if the process ends or the time runs out first."""
    deadline = time.monotonic() + timeout_s
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while marker not in seen:
            remaining = deadline - time.monotonic()
            got = seen.decode(errors="replace")
            if remaining <= 0:
                raise AssertionError(f"{marker!r} did not appear in time; got: {got}")
            if selector.select(timeout=remaining):
                chunk = os.read(stream.fileno(), 4096)
                if not chunk:
                    raise AssertionError(f"the process ended before {marker!r}: {got}")
                seen += chunk
    return seen
