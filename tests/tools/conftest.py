"""Fixtures for the tool-layer tests (helpers live in toolfakes.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
