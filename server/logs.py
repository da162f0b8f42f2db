"""Diagnostics and the audit echo go to stderr as JSON lines (stdout is the stdio wire).

By default the stream is looked up at each write, never bound at configuration: whoever replaces
`sys.stderr` later (a test runner capturing output, an embedding program) gets the lines, and a stream
closed since configuration can never be written to.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO

import structlog

from tools import SECRET_ARGUMENTS
from tools.secrets import SecretScrubber, redact_named

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
# Keys whose values never appear in logs, wherever they occur in an event.
SECRET_KEYS = SECRET_ARGUMENTS | {"api_key", "authorization", "access_token", "token", "url"}


def redact_secret_keys(_: Any, __: str, event: Mapping[str, Any]) -> Mapping[str, Any]:
    """A structlog processor: blank out secret-named keys in diagnostic events.

    Audit records come pre-redacted (tools.redact_arguments) and pass through untouched.
    """
    if event.get("event") == "audit":
        return event
    return redact_named(event, SECRET_KEYS)


class CurrentStderrLogger:
    """A structlog logger writing each line to `sys.stderr` as it is at the time of writing."""

    _lock = threading.Lock()  # one line at a time, whichever thread logs

    def msg(self, message: str) -> None:
        with self._lock:
            stream = sys.stderr
            stream.write(message + "\n")
            stream.flush()

    def __init__(self, *_: Any) -> None:  # structlog passes the logger's name
        pass

    log = debug = info = warn = warning = err = error = critical = exception = fatal = failure = msg


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stdlib logging handler that, too, writes to `sys.stderr` as it is at the time of writing."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:  # StreamHandler.__init__ assigns one; the property ignores it
        pass


def configure_logging(level: str, scrubber: SecretScrubber, *, stream: TextIO | None = None) -> None:
    """Log JSON lines to `stream`, by default to whatever `sys.stderr` is when each line is written."""

    def scrub_rendered(_: Any, __: str, rendered: Any) -> Any:
        return scrubber(rendered)

    logger_factory: Any = CurrentStderrLogger if stream is None else structlog.WriteLoggerFactory(file=stream)
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
        logger_factory=logger_factory,
        cache_logger_on_first_use=False,  # so structlog.testing.capture_logs() sees every record
    )
    # Libraries that use stdlib logging (the MCP SDK, uvicorn) also write to stderr only.
    handler = logging.StreamHandler(stream) if stream is not None else CurrentStderrHandler()
    logging.basicConfig(handlers=[handler], level=max(_LEVELS[level], logging.WARNING), force=True)
