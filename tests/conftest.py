from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mtus_rules import Engine

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# tests/analysis needs the analysis extra. The core suite runs without it (that
# is the point of the first half of the README's test command); the second half
# installs the extras and runs tests/analysis on its own.
ANALYSIS_INSTALLED = importlib.util.find_spec("pandas") is not None
# tests/server needs the server extra (and httpx, from the test extra), the same way.
SERVER_INSTALLED = all(importlib.util.find_spec(name) is not None for name in ("fastapi", "uvicorn", "httpx"))
collect_ignore = [name for name, installed in (("analysis", ANALYSIS_INSTALLED), ("server", SERVER_INSTALLED)) if not installed]


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        "mtus-rules: analysis extra installed; tests/analysis included"
        if ANALYSIS_INSTALLED
        else "mtus-rules: analysis extra not installed; tests/analysis left out (run it with .[test,analysis,notebook])",
        "mtus-rules: server extra installed; tests/server included"
        if SERVER_INSTALLED
        else "mtus-rules: server extra not installed; tests/server left out (run it with .[test,server])",
    ]


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine()


BASE_CASE: dict[str, Any] = {
    "date_of_injury": "2013-01-10",
    "request_date": "2014-03-01",
    "diagnoses": [{"description": "Lumbar sprain", "body_regions": ["lumbar"], "group": "sprain_strain"}],
    "treatment_history": [],
    "care_stage": "first_evaluation",
    "requested_items": [],
}


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the one line of `path` that contains `needle`."""
    hits = [n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text]
    assert len(hits) == 1, f"{needle!r} should be on exactly one line of {path}, found {hits}"
    return hits[0]


def make_case(item: dict[str, Any], history: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    """A valid case dict with one requested item; everything else overridable."""
    case = copy.deepcopy(BASE_CASE)
    case["requested_items"] = [item]
    if history is not None:
        case["treatment_history"] = history
    case.update(fields)
    return case


def outcome(engine: Engine, case: dict[str, Any], index: int = 0) -> str:
    return engine.evaluate(case).items[index].outcome.value


def kinds(engine: Engine, case: dict[str, Any], rule: str | None = None) -> set[str]:
    item = engine.evaluate(case).items[0]
    return {f.kind for f in item.findings if rule is None or f.rule == rule}


_CITE = """
    citation:
      source: {source}
      guideline: Test guideline
      section: Test section
      pages: "1"
      confirmed_by: guideline_text
      evidence: test
"""


def write_precedence_pack(folder: Path, odg_treatments: tuple[str, ...] = ("massage",)) -> Path:
    """A pack where an MTUS rule (10 massage visits) and an ODG rule (4 visits)
    answer the same question, so the MTUS rule must govern where both apply."""
    folder.mkdir()
    (folder / "pack.yaml").write_text(
        "name: prec\nversion: 1.0.0\ntitle: precedence test\neffective: {start: 2009-07-18, end: 2017-11-30}\n"
    )
    rules = "rules:\n"
    rules += "  - id: mtus.t.limit\n    title: MTUS says 10\n" + _CITE.format(source="MTUS")
    rules += "    question: t.count\n    applies_to: {treatment: [massage]}\n    effect: limit\n    limit: {visits: 10}\n    statement: ten\n"
    rules += "  - id: odg.t.limit\n    title: ODG says 4\n" + _CITE.format(source="ODG")
    rules += "    fills_gap_in: {source: MTUS, guideline: G, section: S, confirmed_by: guideline_text, evidence: e}\n"
    rules += f"    question: t.count\n    applies_to: {{treatment: [{', '.join(odg_treatments)}]}}\n    effect: limit\n"
    rules += "    limit: {visits: 4}\n    statement: four\n"
    (folder / "rules.yaml").write_text(rules)
    return folder


def run_python(*parts: str, without: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run Python source in a fresh interpreter (this one's), with the packages
    in `without` unimportable whether or not they are installed, so a test of
    life without an extra runs the same in every environment."""
    block = f"""
import sys
class _Gone:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {tuple(without)!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, _Gone())
"""
    code = "\n".join(textwrap.dedent(part) for part in (block, *parts))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
