"""The container HEALTHCHECK: `python -m server.healthcheck [--pid 1]`.

The image runs stdio by default and HTTP with a flag, so the check first finds out which one the
server process (PID 1 in a container) was started with, from its command line and environment:
  - stdio (or the `sandbox` / `audit` sub-commands): nothing to probe; exit 0, so an interactive
    `docker run -i` container is never marked unhealthy;
  - HTTP: GET http://127.0.0.1:PORT/healthz (liveness: no auth, never touches PropelAuth); exit 0 on 200,
    1 otherwise.
The flags, variables and defaults it reads are the settings model's (server.settings), so the
check cannot drift from what the server itself would do.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")


def _server_args(cmdline: Sequence[str]) -> list[str] | None:
    """The arguments after the `propelauth-mcp` console script (or `-m server.cli`), else None."""
    for index, part in enumerate(cmdline):
        if os.path.basename(part) == "propelauth-mcp":
            return list(cmdline[index + 1 :])
        if part == "-m" and index + 1 < len(cmdline) and cmdline[index + 1] == "server.cli":
            return list(cmdline[index + 2 :])
    return None


def probe_target(cmdline: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The /healthz URL to probe, or None when the process does not serve MCP over HTTP."""
    args = _server_args(cmdline)
    if args is None or args[:1] in (["sandbox"], ["audit"]):
        return None
    transport, host, port = (_effective(name, args, env) for name in ("transport", "host", "port"))
    if transport != "http":
        return None
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def _effective(name: str, args: Sequence[str], env: Mapping[str, str]) -> str:
    """A setting as the server resolves it: its flag, else its environment variable, else the default."""
    from server.settings import OPTIONS

    option = OPTIONS[name]
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument(option.flag, dest="value")
    known, _ = parser.parse_known_args(args)
    return str(known.value or env.get(option.env) or option.default)


def _read_cmdline(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [part.decode(errors="replace") for part in f.read().split(b"\0") if part]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.healthcheck", description=__doc__)
    parser.add_argument("--pid", type=int, default=1, help="the server's process id (default 1)")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    try:
        cmdline = _read_cmdline(args.pid)
    except OSError as exc:
        print(f"healthcheck: cannot read the command line of process {args.pid}: {exc}", file=sys.stderr)
        return 1
    url = probe_target(cmdline, os.environ)
    if url is None:
        return 0  # stdio: nothing to probe
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
