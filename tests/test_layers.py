"""The package's layering, enforced: the import-linter contracts in
pyproject.toml ([tool.importlinter]) hold, they fail on an upward import, and
no two modules import each other in a circle, imports inside functions
included (grimp reads every import statement, wherever it is).

Imports under `if TYPE_CHECKING:` are left out, here and in the contracts:
they never run (see pyproject.toml).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mtus_rules

grimp = pytest.importorskip("grimp", reason="import-linter is in the test extra: pip install '.[test]'")
pytest.importorskip("importlinter", reason="import-linter is in the test extra: pip install '.[test]'")

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"
PACKAGE = Path(mtus_rules.__file__).resolve().parent


def _lint_imports(config: Path, first_on_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """import-linter's command, run by this interpreter on the package it imports."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(config)!r}, no_cache=True, no_logo=True))"
    )
    env = dict(os.environ)
    if first_on_path is not None:  # ahead of the package under test
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(first_on_path), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=config.parent)


def test_the_layer_contracts_hold():
    result = _lint_imports(CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def test_an_upward_import_breaks_the_layer_contract(tmp_path):
    """A throwaway copy of the package, with the case model importing the
    engine inside a function (where nothing fails at import time)."""
    copy = tmp_path / "mtus_rules"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "rules"))
    model = copy / "case" / "model.py"
    model.write_text(model.read_text() + "\n\ndef _upside_down():\n    from ..engine import Engine\n\n    return Engine\n")
    shutil.copy(CONFIG, tmp_path / "pyproject.toml")
    result = _lint_imports(tmp_path / "pyproject.toml", first_on_path=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mtus_rules.case is not allowed to import mtus_rules.engine" in result.stdout, result.stdout
    assert "- mtus_rules.case.model -> mtus_rules.engine" in result.stdout, result.stdout


def _circles(graph, package: str) -> list[list[str]]:
    """The groups of modules that import each other in a circle (the strongly
    connected components of more than one module, Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if not imported.startswith(package):
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module.startswith(package) and module not in index:
            visit(module)
    return found


def test_no_import_circle_between_modules():
    graph = grimp.build_graph("mtus_rules", exclude_type_checking_imports=True, cache_dir=None)
    modules = [m for m in graph.modules if m.startswith("mtus_rules")]
    assert len(modules) > 40, modules  # the whole package was read
    assert _circles(graph, "mtus_rules") == []


def test_the_circle_finder_finds_a_circle():
    """The check above cannot pass by finding nothing: two modules that import
    each other (one inside a function) are a circle."""

    class Graph:
        imports = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.a"}}
        modules = set(imports)

        def find_modules_directly_imported_by(self, module: str) -> set[str]:
            return self.imports[module]

    assert _circles(Graph(), "p") == [["p.a", "p.b", "p.c"]]
