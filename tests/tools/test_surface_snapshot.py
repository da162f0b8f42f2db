"""Every change to what agents see (names, titles, descriptions, schemas, hints) shows up in review."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tools import tool_definitions, tool_listing
from tools.catalog import DEFAULT_TOOLSETS

SNAPSHOT = Path(__file__).parent / "snapshots" / "tool_surface.json"
HOW_TO_UPDATE = "UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/tools/test_surface_snapshot.py"


def current_surface() -> str:
    surface = [
        {**tool_listing(d), "toolset": d.toolset, "default": d.toolset in DEFAULT_TOOLSETS}
        for d in tool_definitions()
    ]
    return json.dumps(surface, indent=2, sort_keys=True) + "\n"


def test_the_tool_surface_matches_the_reviewed_snapshot() -> None:
    current = current_surface()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert SNAPSHOT.exists(), f"no snapshot yet; create it with: {HOW_TO_UPDATE}"
    assert SNAPSHOT.read_text(encoding="utf-8") == current, (
        f"the tool surface changed; review the diff, then update the snapshot with: {HOW_TO_UPDATE}"
    )
