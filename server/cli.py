"""The `propelauth-mcp` command: serve MCP (stdio or HTTP), run the sandbox, verify an audit file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from server import __version__
from server.console import say

EXIT_CONFIG = 2

DESCRIPTION = """\
An MCP server that gives AI agents the PropelAuth user-management API as tools.

Every flag has an environment variable (shown in brackets); flags win. Without --sandbox,
PROPELAUTH_AUTH_URL and PROPELAUTH_API_KEY are required.

other commands:
  propelauth-mcp sandbox [--host H] [--port P] [--api-key KEY] [--db PATH] [--seed]
                         serve the local PropelAuth emulator over HTTP (see `propelauth-mcp sandbox --help`)
  propelauth-mcp audit verify PATH
                         check an audit file's hash chain; exit 1 at the first edited, removed or
                         reordered record, 0 with the count of good records
"""


def _parser() -> argparse.ArgumentParser:
    """The flags, generated from the settings model: one flag per field, grouped as the model is."""
    from server.settings import options

    p = argparse.ArgumentParser(
        prog="propelauth-mcp", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--version", action="version", version=f"propelauth-mcp {__version__}")
    group: Any = p
    for option in options():
        if option.section:
            group = p.add_argument_group(option.section)
        # Absent flags stay absent (SUPPRESS), so the environment and the model's defaults apply.
        kind: dict[str, Any] = {"dest": option.name, "default": argparse.SUPPRESS}
        if option.is_switch:  # --sandbox turns it on; --no-audit-stderr turns a default-on one off
            kind["action"] = "store_false" if option.default else "store_true"
        elif option.choices:
            kind["choices"] = option.choices
        else:
            kind["metavar"] = option.flag.removeprefix("--").replace("-", "_").upper()
        # Values stay strings: the model parses them, so a bad flag and a bad variable read alike.
        group.add_argument(option.flag, help=_help(option), **kind)
    return p


def _help(option: Any) -> str:
    default = option.default
    shown = "" if option.is_switch or default in (None, [], set()) else f" (default {_plain(default)})"
    return f"{option.help}{shown} [{option.env}]".replace("%", "%%")


def _plain(value: object) -> str:
    """10.0 reads as 10 in help."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fail(message: str) -> int:
    say(message)
    return EXIT_CONFIG


def load_settings(args: argparse.Namespace) -> Any:
    from server.settings import Settings

    return Settings(**vars(args))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        from sandbox.standalone import main as sandbox_main

        return sandbox_main(argv[1:])
    if argv[:1] == ["audit"]:
        return _audit_command(argv[1:])
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args)
    except ValidationError as exc:
        from server.settings import settings_error_text

        return _fail(settings_error_text(exc))
    from server.run import serve

    try:
        return serve(settings)
    except KeyboardInterrupt:  # Ctrl-C before serving began or after it ended: no traceback
        return 130
    except ValueError as exc:  # a bad tool selection, found when the tool surface is built
        return _fail(str(exc))


def _audit_command(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="propelauth-mcp audit", description="Audit trail commands.")
    sub = p.add_subparsers(dest="command", required=True)
    verify_p = sub.add_parser("verify", help="check an audit file's hash chain")
    verify_p.add_argument("path", type=Path)
    args = p.parse_args(argv)
    from server.audit import verify

    if not args.path.is_file():
        return _fail(f"no audit file at {args.path}")
    good, problem = verify(args.path)
    if problem:
        print(f"BROKEN after {good} good records: {problem}", file=sys.stderr)
        return 1
    print(f"OK: {good} records, chain intact", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
