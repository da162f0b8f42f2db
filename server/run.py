"""Start-up: logging, the audit trail, the PropelAuth transport (real or sandbox), then the MCP transport."""

from __future__ import annotations

import gc
import os
import secrets
import sys
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx2
from pydantic import SecretStr

from server.app import create_server
from server.audit import AuditTrail, SecretScrubber
from server.console import say
from server.in_process_sandbox import LazySandboxApp
from server.logs import configure_logging
from server.sealing import request_state_keys
from server.settings import Settings

SANDBOX_AUTH_URL = "http://sandbox.localhost"


def sandbox_transport(settings: Settings) -> tuple[Settings, httpx2.ASGITransport]:
    """Wire the HTTP client to the in-process sandbox app: no port, no network, built on first request."""
    db = settings.sandbox_db_path
    if db != ":memory:":
        usable_database_path(Path(db))
    key = secrets.token_urlsafe(24)  # in-process only; never leaves this process
    app = LazySandboxApp(api_key=key, db_path=db, auth_url=SANDBOX_AUTH_URL)
    wired = settings.model_copy(
        update={"auth_url": SANDBOX_AUTH_URL, "api_key": SecretStr(key), "api_base_url": None}
    )
    return wired, httpx2.ASGITransport(app=app)


def usable_database_path(path: Path) -> None:
    """Refuse, at start-up, a sandbox database path that cannot be opened (the database itself opens on
    the first tool call, so a bad path would otherwise fail every call instead of the start)."""
    problem = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = f"cannot create its directory ({exc.strerror or exc})"
    else:
        if path.is_dir():
            problem = "it is a directory"
        elif not os.access(path if path.exists() else path.parent, os.R_OK | os.W_OK):
            problem = "it is not readable and writable by this user"
    if problem:
        raise ValueError(f"PROPELAUTH_MCP_SANDBOX_DB (--sandbox-db) {path}: {problem}")


def build(settings: Settings) -> tuple[Settings, AuditTrail, httpx2.AsyncBaseTransport | None]:
    scrubber = SecretScrubber([settings.api_key.get_secret_value()] if settings.api_key else [])
    for key in request_state_keys(settings):  # they seal state and tokens on every transport
        scrubber.add(key)
    if settings.transport == "http":  # callers' tokens never reach logs or audit
        from server.http import http_secrets

        for secret in http_secrets(settings):
            scrubber.add(secret)
    configure_logging(settings.log_level, scrubber)
    transport = None
    if settings.sandbox:
        settings, transport = sandbox_transport(settings)
        assert settings.api_key is not None
        scrubber.add(settings.api_key.get_secret_value())  # the in-process key is scrubbed like a real one
        say(f"using the in-process sandbox (database {settings.sandbox_db_path})")
    audit = AuditTrail(settings.audit_path, scrubber=scrubber, echo=settings.audit_stderr)
    if audit.unavailable_reason:
        say(f"WARNING: {audit.unavailable_reason}; state-changing tools will refuse to run")
    else:
        say(f"audit log: {settings.audit_path}")
    return settings, audit, transport


def freeze_startup_objects() -> None:
    """Exempt what start-up built (the SDK's models, the spec, the tool schemas) from garbage collection.

    They live as long as the process, yet a full collection walks all ~90,000 of them: 60 to 90 ms on
    a small machine, stalling whichever call it lands in. No collection first: that would cost the same
    at start-up, to reclaim a little import-time garbage once.
    """
    gc.freeze()


def ensure_standard_fds() -> None:
    """Give a closed fd 0, 1 or 2 the null device, before anything else can be opened onto it.

    Started with fd 2 closed, the first file opened (the audit log) would become "stderr", and
    Python's print(file=sys.stderr), with sys.stderr None, writes to stdout: the wire.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - lives as long as the process


def serve(settings: Settings) -> int:
    ensure_standard_fds()
    settings, audit, transport = build(settings)
    try:
        server = create_server(settings, audit, transport=transport)
        freeze_startup_objects()
        if settings.transport == "http":
            from server.http import serve_http

            serve_http(server, settings)
        else:
            from server.preflight import serve_with_startup_check
            from server.stdio import serve_stdio

            serve_audited = partial(serve_stdio, audit=audit)
            if settings.sandbox:  # built here with the key the check would test: it could only say OK
                anyio.run(serve_audited, server)
            else:
                anyio.run(serve_with_startup_check, serve_audited, server, settings, transport)
    finally:
        audit.close()
        if isinstance(transport, httpx2.ASGITransport):  # the in-process sandbox: its database closes
            sandbox: Any = transport.app
            sandbox.close()
    return 0
