"""Rules of the house that no single behaviour test would catch."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("server", "tools", "schemas", "sandbox")


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


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


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("tools", {"server", "sandbox", "mcp"}), ("schemas", {"server", "tools", "sandbox"})],
)
def test_imports_go_server_to_tools_to_schemas(package: str, forbidden: set[str]) -> None:
    offenders = {str(p.relative_to(ROOT)): imported_roots(p) & forbidden for p in modules(package)}
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_the_legacy_httpx_is_never_imported(package: str) -> None:
    assert [str(p.relative_to(ROOT)) for p in modules(package) if "httpx" in imported_roots(p)] == []
