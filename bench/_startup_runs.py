"""One start of a stdio server up to its first tools/list answer, measured three ways.

Wall clock is what a user waits, but on a shared machine it moves with everyone else's load. The work
the process itself does is steadier: its CPU time (user+sys, from the kernel's accounting of the
child) and, where something can count them, the instructions it ran (perf's hardware counter, or
valgrind's callgrind, which counts every guest instruction but runs ~40x slower).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _servers import INITIALIZE_PARAMS

HANDSHAKE = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INITIALIZE_PARAMS},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]
PERF = "/usr/bin/perf"
PERF_EVENT = "instructions:u"
# Counted runs fix the hash seed: set and dict layouts, hence the work done, are then the same each run.
COUNTED_ENV = {"PYTHONHASHSEED": "0"}


@dataclass(frozen=True)
class Start:
    wall_s: float
    cpu_s: float  # user+sys of the server process, from spawn until it was stopped after the answer


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=env["XDG_STATE_HOME"],  # not the checkout: imports must come from the installed package
    )


def _await_tools_list(proc: subprocess.Popen[bytes], command: list[str]) -> None:
    assert proc.stdin and proc.stdout
    proc.stdin.write("".join(json.dumps(m) + "\n" for m in HANDSHAKE).encode())
    proc.stdin.flush()
    for line in proc.stdout:
        if json.loads(line).get("id") == 2:
            return
    raise RuntimeError(f"{command} exited without answering tools/list")


def start(command: list[str], env: dict[str, str]) -> Start:
    """Wall seconds from spawn to the tools/list answer, and the CPU the process used to get there."""
    started = time.perf_counter()
    proc = _spawn(command, env)
    try:
        _await_tools_list(proc, command)
        wall = time.perf_counter() - started
    finally:
        proc.kill()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Start(wall, usage.ru_utime + usage.ru_stime)


def perf_counts_instructions() -> str | None:
    """None if perf can count user-space instructions here, else why not (one clause)."""
    if not os.access(PERF, os.X_OK):
        return f"{PERF} is not installed"
    probe = subprocess.run(
        [PERF, "stat", "-x", ",", "-e", PERF_EVENT, "--", "true"], capture_output=True, text=True
    )
    if probe.returncode != 0 or "<not supported>" in probe.stderr or "<not counted>" in probe.stderr:
        return "perf has no hardware instruction counter in this container"
    return None


def _child_of(pid: int) -> int:
    """The workload perf forked (perf itself must not be killed: it prints the counts as it exits)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.001)
    raise RuntimeError("perf started no workload")


def perf_instructions(command: list[str], env: dict[str, str], event: str = PERF_EVENT) -> int:
    """Instructions (perf's `event`) the server ran up to its tools/list answer."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "perf.csv"
        perf = [PERF, "stat", "-x", ",", "-e", event, "-o", str(out), "--", *command]
        proc = _spawn(perf, {**env, **COUNTED_ENV})
        try:
            workload = _child_of(proc.pid)
            _await_tools_list(proc, command)
            os.kill(workload, signal.SIGKILL)
            proc.wait(30)
        finally:
            proc.kill()
            proc.wait()
        for row in out.read_text().splitlines():
            fields = row.split(",")
            if len(fields) > 2 and fields[2] == event:
                return int(float(fields[0]))
    raise RuntimeError(f"perf reported no {event} count")


def callgrind_instructions(command: list[str], env: dict[str, str]) -> int:
    """Instructions the server ran up to its tools/list answer, counted by valgrind's callgrind.

    SIGTERM, not SIGKILL: callgrind writes its totals as the guest dies of the signal.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        valgrind = [
            "valgrind",
            "--tool=callgrind",
            "--cache-sim=no",
            "--branch-sim=no",
            f"--callgrind-out-file={out}",
            *command,
        ]
        proc = _spawn(valgrind, {**env, **COUNTED_ENV})
        try:
            _await_tools_list(proc, command)
            proc.send_signal(signal.SIGTERM)
            proc.wait(120)
        finally:
            proc.kill()
            proc.wait()
        for row in out.read_text().splitlines():
            if row.startswith("totals:"):
                return int(row.split()[1])
    raise RuntimeError("callgrind wrote no totals")
