"""The corrected PropelAuth Backend API spec the tools are derived from (data, loaded at start-up)."""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from typing import Any

# JSON rather than YAML: parsing it costs well under a millisecond, and start-up time is a target.
SPEC_FILE = "propelauth-user-api.openapi.json"


@functools.cache
def load_spec() -> dict[str, Any]:
    """Parse the spec once per process; callers must treat the result as read-only."""
    spec: dict[str, Any] = json.loads(files(__package__).joinpath(SPEC_FILE).read_text(encoding="utf-8"))
    return spec
