"""Mutation testing of the modules that carry the guarantees, each against its own tests (with mutmut).

A development tool, not part of the test command:

    python3 -m uv run --locked python scripts/mutation.py                   # every module, every mutant
    python3 -m uv run --locked python scripts/mutation.py server/http_auth.py --sample 60 --seed 1

For each module the working tree (tracked and untracked, not ignored, files) is copied to a temporary
directory, mutmut is configured there to mutate that one module and to run only the module's own test
files (the table below), and the score and every surviving mutant are printed. The real files are never
touched. mutmut mutates code inside functions and methods; module constants and class attributes
(dataclass defaults) are not mutated, so guarantees that live in a constant need their own test.
"""

from __future__ import annotations

import argparse
import ast
import glob
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module -> its own test files (globs, relative to the repository root).
MODULES: dict[str, tuple[str, ...]] = {
    # tests/trust/test_hostile_input.py (whole-server property tests, ~2 min a run) is too slow per mutant.
    "tools/validation.py": ("tests/tools/test_validation.py", "tests/tools/test_conformance.py"),
    "tools/executor.py": (
        "tests/tools/test_executor_*.py",
        "tests/tools/test_preview_failures.py",
        "tests/tools/test_arguments.py",
    ),
    "tools/failures.py": (
        "tests/tools/test_executor_errors.py",
        "tests/tools/test_failure_reports.py",
        "tests/tools/test_preview_failures.py",
        "tests/trust/test_failing_backends.py",
    ),
    "tools/policy.py": ("tests/tools/test_policy*.py",),
    "server/audit.py": (
        "tests/server/test_audit_trail.py",
        "tests/server/test_audit_chain.py",
        "tests/server/test_audit_clipping.py",
        "tests/server/test_audit_write_failures.py",
        "tests/server/test_redaction.py",
        "tests/trust/test_audit_tamper_evidence.py",
    ),
    # SecretScrubber moved here from server/audit.py (which re-exports it): the same guarantee.
    "tools/secrets.py": ("tests/server/test_redaction.py",),
    "server/propelauth_client.py": (
        "tests/server/test_propelauth_client.py",
        "tests/server/test_backend_answers.py",
        "tests/trust/test_failing_backends.py",
    ),
    "server/http_auth.py": ("tests/http/test_tokens_and_settings.py", "tests/http/test_bearer_*.py"),
}

# Timeouts count as detected (the mutant made the tests hang); "no tests" means no selected test ran
# the mutated function, which is as bad as surviving.
DETECTED = {"killed", "timeout", "caught by type check"}


@dataclass(frozen=True)
class Survivor:
    name: str
    line: int | None
    original: str
    mutant: str


def test_files(copy: Path, module: str) -> list[str]:
    files = sorted({f for pattern in MODULES[module] for f in glob.glob(pattern, root_dir=copy)})
    if not files:
        raise SystemExit(f"{module}: no test file matches {MODULES[module]}")
    return files


def copy_tree(destination: Path, revision: str | None) -> None:
    """The working tree as it is (tracked and untracked files, not ignored ones), or a commit's tree."""
    destination.mkdir(parents=True)
    if revision is not None:
        archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(destination)], input=archive.stdout, check=True)
        return
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():  # a tracked file deleted in the working tree is skipped
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def configure(copy: Path, module: str, tests: list[str]) -> None:
    """Append a [tool.mutmut] section to the copy's pyproject.toml (the real one has none)."""
    also_copy = sorted(p.name for p in copy.iterdir() if p.name not in {"mutants", "pyproject.toml"})
    section = {
        "source_paths": [module],
        "also_copy": also_copy,
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-p", "no:randomly", "-q"],
        "pytest_add_cli_args_test_selection": tests,
    }
    lines = ["", "[tool.mutmut]", *(f"{key} = {json.dumps(value)}" for key, value in section.items())]
    with (copy / "pyproject.toml").open("a", encoding="utf-8") as pyproject:
        pyproject.write("\n".join(lines) + "\n")


def module_prefix(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


# mutmut's own generator, run in the configured copy (it reads the copy's [tool.mutmut] section).
LIST_MUTANTS = """
import json, sys
from pathlib import Path
from mutmut.mutation.file_mutation import mutate_file_contents
module = sys.argv[1]
mutated = mutate_file_contents(module, Path(module).read_text(encoding="utf-8"))
print(json.dumps(list(mutated.mutant_names)))
"""


def all_mutant_names(copy: Path, module: str) -> list[str]:
    listed = subprocess.run(
        [sys.executable, "-c", LIST_MUTANTS, module], cwd=copy, check=True, capture_output=True, text=True
    )
    prefix = module.removesuffix(".py").replace("/", ".")
    return [f"{prefix}.{name}" for name in json.loads(listed.stdout)]


def mutmut(copy: Path, *arguments: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mutmut", *arguments],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def statuses(copy: Path, module: str) -> dict[str, str]:
    from mutmut.stats import status_by_exit_code

    meta = json.loads((copy / "mutants" / f"{module}.meta").read_text(encoding="utf-8"))
    return {
        name: status_by_exit_code[code]
        for name, code in meta["exit_code_by_key"].items()
        if code is not None  # not chosen by the sample
    }


# mutmut's diff of each mutant against the original function, in one process for all of them.
SHOW_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
module, names = sys.argv[1], json.load(sys.stdin)
print(json.dumps({name: get_diff_for_mutant(name, path=module) for name in names}))
"""


def line_of(tree: ast.Module, source: list[str], name: str, diff: list[str]) -> int | None:
    """The module line of a mutant's first removed line: the diff is relative to the function, whose
    name (and class) is in the mutant's name, e.g. `xǁBearerTokenGateǁ__call____mutmut_7`."""
    mangled = re.sub(r"__mutmut_\d+$", "", name.rpartition(".")[2])
    *classes, function = mangled.removeprefix("xǁ").split("ǁ") if "ǁ" in mangled else [mangled[2:]]
    scope: list[ast.stmt] = tree.body
    for class_name in classes:
        scope = next(n.body for n in scope if isinstance(n, ast.ClassDef) and n.name == class_name)
    node = next(
        n for n in scope if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == function
    )
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    hunk = next((i for i, line in enumerate(diff) if line.startswith("@@")), None)
    if hunk is None:
        return None
    line = first + int(re.match(r"@@ -(\d+)", diff[hunk]).group(1)) - 1  # type: ignore[union-attr]
    for entry in diff[hunk + 1 :]:
        if entry.startswith("-"):
            return line if line <= len(source) else None
        line += 1
    return None


def describe(copy: Path, module: str, names: list[str]) -> list[Survivor]:
    """Line in the module, original line(s) and mutated line(s) of each mutant."""
    diffs = json.loads(
        subprocess.run(
            [sys.executable, "-c", SHOW_DIFFS, module],
            cwd=copy,
            input=json.dumps(names),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    text = (copy / module).read_text(encoding="utf-8")
    tree, source = ast.parse(text), text.splitlines()
    survivors = []
    for name in names:
        diff = diffs[name].splitlines()
        removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
        added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
        line_number = line_of(tree, source, name, diff) if removed else None
        original = " / ".join(line.strip() for line in removed)
        survivors.append(Survivor(name, line_number, original, " / ".join(line.strip() for line in added)))
    return survivors


def run_module(
    module: str, *, revision: str | None, sample: int | None, seed: int, max_children: int, keep: bool
) -> dict[str, int]:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="mutation-"))
    try:
        copy = workdir / ROOT.name
        copy_tree(copy, revision)
        tests = test_files(copy, module)
        configure(copy, module, tests)
        names = all_mutant_names(copy, module)
        chosen = sorted(random.Random(seed).sample(names, sample)) if sample and sample < len(names) else []
        completed = mutmut(copy, "run", "--max-children", str(max_children), *chosen)
        results = statuses(copy, module)
        if not results:
            sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
            raise SystemExit(f"{module}: mutmut ran no mutant (exit {completed.returncode})")
        counts = Counter(results.values())
        detected = sum(counts[status] for status in DETECTED)
        elapsed = time.monotonic() - started
        print(
            f"{module}: {detected}/{len(results)} detected = {100 * detected / len(results):.1f}%  "
            f"({', '.join(f'{n} {status}' for status, n in sorted(counts.items()))}; "
            f"{len(results)} of {len(names)} mutants; {elapsed:.0f} s)"
        )
        print(f"  tests: {' '.join(tests)}")
        undetected = sorted(name for name, status in results.items() if status not in DETECTED)
        for survivor in describe(copy, module, undetected):
            where = f"{module}:{survivor.line}" if survivor.line else module
            print(f"  {results[survivor.name]}: {where}  {survivor.name.rpartition('.')[2]}")
            print(f"      - {survivor.original}")
            print(f"      + {survivor.mutant}")
        sys.stdout.flush()
        return {"detected": detected, "total": len(results)}
    finally:
        if keep:
            print(f"  kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"default: all of {', '.join(MODULES)}")
    parser.add_argument("--sample", type=int, help="test N randomly chosen mutants per module (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--revision", help="test this commit's files instead of the working tree")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (to inspect mutants/)")
    options = parser.parse_args()
    unknown = sorted(set(options.modules) - set(MODULES))
    if unknown:
        parser.error(f"not in the table: {', '.join(unknown)}; known: {', '.join(MODULES)}")
    totals = Counter[str]()
    for module in options.modules or list(MODULES):
        totals.update(
            run_module(
                module,
                revision=options.revision,
                sample=options.sample,
                seed=options.seed,
                max_children=options.max_children,
                keep=options.keep,
            )
        )
    if totals["total"]:
        print(
            f"all: {totals['detected']}/{totals['total']} = {100 * totals['detected'] / totals['total']:.1f}%"
        )


if __name__ == "__main__":
    main()
