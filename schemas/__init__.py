"""The corrected PropelAuth Backend API spec the tools are derived from (data, loaded at start-up)."""

from __future__ import annotations

import functools
from importlib.resources import files
from typing import Any

import yaml

SPEC_FILE = "propelauth-user-api.openapi.yaml"


@functools.cache
def load_spec() -> dict[str, Any]:
    """Parse the spec once per process; callers must treat the result as read-only."""
    text = files(__package__).joinpath(SPEC_FILE).read_text(encoding="utf-8")
    # libyaml's loader when present: start-up time matters on a stdio server.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: dict[str, Any] = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    return spec
