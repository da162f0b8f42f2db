"""Rules of the house that no single behaviour test would catch."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("server", "tools", "schemas", "sandbox")


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_package_code_never_prints_to_stdout(package: str) -> None:
    """stdout is the stdio wire: a print() must name stderr explicitly."""
    offenders = []
    for path in modules(package):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                target = next((kw.value for kw in node.keywords if kw.arg == "file"), None)
                if not (isinstance(target, ast.Attribute) and target.attr == "stderr"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


@dataclass(frozen=True)
class Import:
    module: str  # the imported module, e.g. "sandbox.standalone"
    importer: str  # the importing file, relative to the repository, e.g. "server/cli.py"
    lazy: bool  # inside a function: paid for only when that function runs


def imports(path: Path) -> list[Import]:
    found = []
    importer = str(path.relative_to(ROOT))

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(alias.name, importer, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append(Import(child.module, importer, in_function))
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(ast.parse(path.read_text()), False)
    return found


def imported_roots(path: Path) -> set[str]:
    return {found.module.split(".")[0] for found in imports(path)}


# The direction of imports: server -> tools -> schemas; the sandbox is a separate PropelAuth emulator.
FORBIDDEN = {
    "tools": {"server", "sandbox", "mcp"},
    "schemas": {"server", "tools", "sandbox"},
    "sandbox": {"server", "tools", "mcp"},
}
# The server reaches the sandbox in two places only, both inside the function that needs it, so a
# server against a real PropelAuth never loads it: the --sandbox wiring, and the `sandbox` sub-command.
ALLOWED_SERVER_TO_SANDBOX = {
    Import("sandbox", "server/in_process_sandbox.py", lazy=True),
    Import("sandbox.standalone", "server/cli.py", lazy=True),
}


@pytest.mark.parametrize(("package", "forbidden"), sorted(FORBIDDEN.items()))
def test_imports_go_server_to_tools_to_schemas_and_the_sandbox_stands_alone(
    package: str, forbidden: set[str]
) -> None:
    offenders = {str(p.relative_to(ROOT)): imported_roots(p) & forbidden for p in modules(package)}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_server_imports_the_sandbox_only_lazily_where_it_is_wired() -> None:
    found = {i for path in modules("server") for i in imports(path) if i.module.split(".")[0] == "sandbox"}
    assert found == ALLOWED_SERVER_TO_SANDBOX


@pytest.mark.parametrize("package", PACKAGES)
def test_the_legacy_httpx_is_never_imported(package: str) -> None:
    assert [str(p.relative_to(ROOT)) for p in modules(package) if "httpx" in imported_roots(p)] == []
