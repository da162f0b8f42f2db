"""Diagnostics and the audit echo go to stderr as JSON lines (stdout is the stdio wire)."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from server.audit import SecretScrubber
from tools import SECRET_ARGUMENTS

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
# Keys whose values never appear in logs, wherever they occur in an event.
SECRET_KEYS = SECRET_ARGUMENTS | {"api_key", "authorization", "access_token", "token", "url"}


def redact_secret_keys(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: blank out secret-named keys in diagnostic events.

    Audit records come pre-redacted (tools.redact_arguments) and pass through untouched.
    """
    if event.get("event") == "audit":
        return event
    for key in SECRET_KEYS.intersection(event):
        event[key] = "[REDACTED]"
    return event


def configure_logging(level: str, scrubber: SecretScrubber, *, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr

    def scrub_rendered(_: Any, __: str, rendered: Any) -> Any:
        return scrubber(rendered)

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="logged_at"),
            redact_secret_keys,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
            scrub_rendered,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=False,  # so structlog.testing.capture_logs() sees every record
    )
    # Libraries that use stdlib logging (the MCP SDK, uvicorn) also write to stderr only.
    logging.basicConfig(stream=out, level=max(_LEVELS[level], logging.WARNING), force=True)
