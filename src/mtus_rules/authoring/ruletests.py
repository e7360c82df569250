"""Declarative rule tests: YAML files that sit next to the rules they test.

A pack's tests live in `<pack>/tests/*.yaml`:

    defaults:                 # optional; merged into every test's case
      case: {date_of_injury: 2013-01-10, request_date: 2014-03-01, ...}
    tests:
      - name: massage within six visits at a first evaluation is supported
        case: {care_stage: first_evaluation, requested_items: [...]}
        expect:               # one entry per item checked (item defaults to 0)
          - outcome: overturned
            rules: [mtus.cpmtg.massage.limit]        # optional: exactly these decided
            citations: [{section: Massage therapy, pages: "60"}]   # optional: each is cited
            not_applied: [mtus.cpmtg.massage.ongoing_care]         # optional: these did not apply

`mtus-rules test` runs them; the project's pytest suite runs the same files.
Coverage counts, per rule, whether some test made it decide an outcome and
whether some test shows it not applying to an item of its treatment.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictInt, StrictStr

from ..case.reading import parse_case
from ..evaluation.outcome import Outcome
from ..engine import Engine
from ..errors import CaseError, MtusRulesError, Problem, RulePackError
from .lint import pack_folders
from ..packs.loading import load_pack
from ..packs.model import PACK_FILE, RulePack
from ..yamlio import read_model
from .._model import StrictModel

TESTS_DIR = "tests"


class CitationExpectation(StrictModel):
    source: Literal["MTUS", "ODG"] | None = None
    section: StrictStr | None = None
    pages: StrictStr | None = None


class ItemExpectation(StrictModel):
    item: Annotated[StrictInt, Field(ge=0)] = 0
    outcome: Outcome
    rules: list[StrictStr] | None = None
    citations: list[CitationExpectation] = Field(default_factory=list)
    not_applied: list[StrictStr] = Field(default_factory=list)


class RuleTest(StrictModel):
    name: StrictStr = Field(min_length=1)
    case: dict[str, Any]
    expect: Annotated[list[ItemExpectation], Field(min_length=1)]


class _Defaults(StrictModel):
    case: dict[str, Any] = Field(default_factory=dict)


class RuleTestFile(StrictModel):
    defaults: _Defaults = Field(default_factory=_Defaults)
    tests: Annotated[list[RuleTest], Field(min_length=1)]


class RuleTestResult(BaseModel):
    file: str
    line: int | None
    name: str
    passed: bool
    failures: list[str] = Field(default_factory=list)
    decided: list[str] = Field(default_factory=list, description="Rules that decided an item in this test.")
    not_applied: list[str] = Field(default_factory=list, description="Rules the test checked did not apply.")

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


class RuleCoverage(BaseModel):
    rule: str
    file: str
    decided: bool
    shown_not_applying: bool


class Report(BaseModel):
    results: list[RuleTestResult]
    coverage: list[RuleCoverage]
    seconds: float

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def coverage_percent(self) -> float:
        if not self.coverage:
            return 100.0
        return 100.0 * sum(c.decided for c in self.coverage) / len(self.coverage)


def _merge(base: Any, override: Any) -> Any:
    """Mappings merge key by key; anything else in `override` replaces `base`."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = _merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


def load_test_file(path: Path) -> tuple[RuleTestFile, dict]:
    return read_model(path, RuleTestFile, RulePackError)


def pack_test_files(pack_folder: Path) -> list[Path]:
    return sorted((pack_folder / TESTS_DIR).glob("*.yaml"))


def collect(paths: Iterable[str | Path]) -> list[tuple[Path, list[Path]]]:
    """(pack folder, its test files) for each pack named or found under `paths`;
    a test file named directly belongs to the pack above its tests/ folder."""
    out: dict[Path, list[Path]] = {}
    for path in map(Path, paths):
        if path.is_file():
            pack = path.parent.parent
            out.setdefault(pack, []).append(path)
        else:
            for folder in pack_folders([path]):
                out.setdefault(folder, []).extend(pack_test_files(folder))
    return [(pack, sorted(set(files))) for pack, files in out.items()]


def run_file(engine: Engine, pack: RulePack, path: Path) -> list[RuleTestResult]:
    parsed, lines = load_test_file(path)
    return [
        run_test(engine, pack, test, parsed.defaults.case, str(path), lines.get(("tests", i, "name")))
        for i, test in enumerate(parsed.tests)
    ]


def run_test(engine: Engine, pack: RulePack, test: RuleTest, defaults: dict, file: str, line: int | None) -> RuleTestResult:
    failures: list[str] = []
    try:
        case = parse_case(_merge(defaults, test.case))
    except CaseError as exc:
        return RuleTestResult(file=file, line=line, name=test.name, passed=False, failures=[f"invalid case: {p}" for p in exc.problems])
    decision = engine.evaluate(case)
    trace = engine.explain(case)
    decided = [rule for item in decision.items for rule in item.rules]
    not_applied: list[str] = []
    for want in test.expect:
        if want.item >= len(decision.items):
            failures.append(f"item {want.item}: the case has only {len(decision.items)} items")
            continue
        got = decision.items[want.item]
        if got.outcome is not want.outcome:
            failures.append(f"item {want.item}: expected {want.outcome.value}, got {got.outcome.value} (decided by {', '.join(got.rules) or 'no rule'})")
        if want.rules is not None and sorted(want.rules) != sorted(got.rules):
            failures.append(f"item {want.item}: expected rules {sorted(want.rules)}, got {sorted(got.rules)}")
        for cite in want.citations:
            wanted = cite.model_dump(exclude_none=True)
            if not any(all(getattr(c, k) == v for k, v in wanted.items()) for c in got.citations):
                failures.append(f"item {want.item}: no citation matching {wanted} in {[str(c) for c in got.citations]}")
        traced = trace.items[want.item]
        for rule in want.not_applied:
            if rule not in pack.files:
                failures.append(f"item {want.item}: not_applied names unknown rule {rule}")
                continue
            applied = [f.body_region for f in traced.facets for r in f.rules if r.rule == rule and r.outcome is not None]
            if applied:
                failures.append(f"item {want.item}: {rule} applied (region {', '.join(applied)})")
            else:
                not_applied.append(rule)
        if want.rules is not None:
            unknown = [r for r in want.rules if r not in pack.files]
            if unknown:
                failures.append(f"item {want.item}: expected rules name unknown rules {unknown}")
    return RuleTestResult(
        file=file, line=line, name=test.name, passed=not failures, failures=failures,
        decided=sorted(set(decided)), not_applied=sorted(set(not_applied)),
    )


def run(paths: Iterable[str | Path]) -> Report:
    """Run every test of every pack under `paths`. Raises MtusRulesError when a
    pack or a test file cannot be read (nothing is run for that pack)."""
    started = time.perf_counter()
    results: list[RuleTestResult] = []
    coverage: list[RuleCoverage] = []
    for folder, files in collect(paths):
        if not (folder / PACK_FILE).is_file():
            raise RulePackError([Problem(file=str(folder), message="not a rule pack folder (no pack.yaml)")])
        pack = load_pack(folder)
        engine = Engine([pack])
        pack_results = [result for path in files for result in run_file(engine, pack, path)]
        results.extend(pack_results)
        decided = {r for result in pack_results if result.passed for r in result.decided}
        not_applied = {r for result in pack_results if result.passed for r in result.not_applied}
        coverage.extend(
            RuleCoverage(rule=rule.id, file=pack.files[rule.id], decided=rule.id in decided, shown_not_applying=rule.id in not_applied)
            for rule in pack.rules
        )
    return Report(results=results, coverage=coverage, seconds=time.perf_counter() - started)


def report_text(report: Report, *, show_coverage: bool) -> str:
    lines = []
    for result in report.results:
        lines.append(f"{result.id} {'PASSED' if result.passed else 'FAILED'}")
    failed = [r for r in report.results if not r.passed]
    if failed:
        lines.append("")
        lines.append("=" * 30 + " FAILURES " + "=" * 30)
        for result in failed:
            lines.append(f"{result.file}:{result.line}: {result.name}")
            lines.extend(f"    {f}" for f in result.failures)
    if show_coverage:
        lines.append("")
        lines.append(f"rule coverage: {report.coverage_percent:.0f}% of {len(report.coverage)} rules decided an outcome in some test")
        for cov in report.coverage:
            marks = ("decides" if cov.decided else "NEVER DECIDES") + (", shown not applying" if cov.shown_not_applying else ", never shown not applying")
            lines.append(f"  {cov.rule}: {marks}")
        untested = [c.rule for c in report.coverage if not c.decided]
        if untested:
            lines.append("rules no test makes decide: " + ", ".join(untested))
    summary = f"{report.passed} passed, {report.failed} failed"
    lines.append(f"{'=' * 20} {summary} in {report.seconds:.2f}s {'=' * 20}" if report.results else "no tests ran")
    return "\n".join(lines)


__all__ = ["Report", "RuleTest", "RuleTestFile", "RuleTestResult", "collect", "report_text", "run", "MtusRulesError"]
