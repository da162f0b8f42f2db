"""Messages for the person running the server: always stderr, since stdout is the stdio wire."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import Any


def say(message: str) -> None:
    print(f"propelauth-mcp: {message}", file=sys.stderr, flush=True)


def tty_notice() -> str:
    """What a person who started the stdio server in a terminal reads: it waits for a client, and
    the client config that starts exactly this server, ready to paste."""
    command = running_command(sys.argv[0], _main_module(), sys.executable)
    config = client_config(command, sys.argv[1:], os.environ)
    return (
        "propelauth-mcp is an MCP server speaking JSON-RPC on stdin/stdout; it is waiting for an MCP "
        "client.\nConnect one instead of typing here. This server, as a client config (e.g. in Claude "
        "Desktop's claude_desktop_config.json):\n"
        f"{json.dumps(config, indent=2)}\n"
        "See mcp.json and the README for Cursor, VS Code and agent frameworks. Press Ctrl-C to stop."
    )


def running_command(argv0: str, main_module: str | None, executable: str) -> list[str]:
    """The command that started this process, with absolute paths, so a client starts it from anywhere.

    `python -m server.cli` gives this interpreter and `-m server.cli`; the console script gives its
    own path (argv[0]: absolute when the shell found it on PATH, made absolute otherwise).
    """
    if main_module:
        return [os.path.abspath(executable), "-m", main_module]
    found = argv0 if os.sep in argv0 else shutil.which(argv0)
    return [os.path.abspath(found or argv0)]


def _main_module() -> str | None:
    """The module run with `python -m`, if this process was started that way."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec.name if spec is not None else None


def client_config(command: Sequence[str], args: Sequence[str], environ: Mapping[str, str]) -> dict[str, Any]:
    """An `mcpServers` entry that starts this server as it was started, without any secret in it.

    A secret given as a flag moves to `env` as a placeholder (flags show in `ps`, a config file is
    no better); settings from the environment come along, the secret ones as placeholders too.
    """
    from server.settings import options

    secret_flags = {option.flag: option for option in options() if option.secret}
    kept: list[str] = []
    env: dict[str, str] = {}
    rest = iter(args)
    for arg in rest:
        name, has_value, _ = arg.partition("=")
        # argparse also takes an unambiguous abbreviation (--api-k): treat it as the flag it stands for.
        secret = next((o for f, o in secret_flags.items() if len(name) > 2 and f.startswith(name)), None)
        if secret is None:
            kept.append(arg)
            continue
        env[secret.env] = f"<your {secret.env}>"
        if not has_value:
            next(rest, None)  # the value follows as its own argument
    for option in options():
        if option.env in environ and option.env not in env:
            env[option.env] = f"<your {option.env}>" if option.secret else environ[option.env]
    entry: dict[str, Any] = {"command": command[0], "args": [*command[1:], *kept]}
    if env:
        entry["env"] = env
    return {"mcpServers": {"propelauth": entry}}
