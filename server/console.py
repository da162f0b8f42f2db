"""Messages for the person running the server: always stderr, since stdout is the stdio wire."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    print(f"propelauth-mcp: {message}", file=sys.stderr, flush=True)
