"""Helpers shared by the tests: paths, a valid base case, small pack builders,
and running Python in a fresh interpreter. A plain module (imported as
`from tests.helpers import ...` or relatively); pytest's hooks and fixtures
are in conftest.py."""

from __future__ import annotations

import copy
import errno
import io
import subprocess
import sys
import textwrap
from pathlib import Path
from collections.abc import Iterable, Iterator
from typing import Any

from mtus_rules import Engine
from mtus_rules.evaluation.facets import facets

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

BASE_CASE: dict[str, Any] = {
    "date_of_injury": "2013-01-10",
    "request_date": "2014-03-01",
    "diagnoses": [{"description": "Lumbar sprain", "body_regions": ["lumbar"], "group": "sprain_strain"}],
    "treatment_history": [],
    "care_stage": "first_evaluation",
    "requested_items": [],
}


def facets_with_rules(compiled: Any, cases: Iterable[Any]) -> Iterator[tuple[Any, Any, int]]:
    """(facet, its treatment's compiled rules, the request day as an ordinal)
    for every facet of `cases` whose treatment has rules in `compiled` (a
    CompiledPack): what tests of the matcher's inputs walk."""
    for case in cases:
        day = case.request_date.toordinal()
        for facet in facets(case):
            rules = compiled.by_treatment.get(facet.facts["treatment"])
            if rules is not None:
                yield facet, rules, day


class RecordingFacts(dict):
    """A facet's facts that remember every name read from them: what a memo
    key must name (tests/evaluation/test_memo_keys.py, tests/explanation/test_wording.py)."""

    def __init__(self, facts: dict[str, Any]):
        super().__init__(facts)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        return super().get(name, default)


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


class DiskFills(io.FileIO):
    """A file whose disk fills up after `room` bytes, in the middle of a line
    (set `room` on the class before the command opens it)."""

    room = 0

    def write(self, data) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        data = bytes(data)[: self.room]
        self.room -= len(data)
        return super().write(data)
