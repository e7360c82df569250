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
            findings: [{kind: within_limit, rule: mtus.cpmtg.massage.limit}]  # optional: each is found
            supported_visits: 6                      # optional (null: no upper bound)
            alternatives: [{changes: [{fact: visits_requested, value: 6}]}]  # optional ([]: none)
            rationale_contains: ["within the limit of 6"]   # optional: each is in the rationale
            rationale_excludes: ["what-if"]                 # optional: none is

The optional checks match the way the others do: `citations`, `findings` and
`alternatives` each name some of an entry's fields, and pass when some entry
of the decision has those values. `supported_visits` and `alternatives` ask
for the what-if answers, so a test that names them is decided with
`what_if=True`. An unknown key is an error naming its file and line.

`mtus-rules test` runs them; the project's pytest suite runs the same files.
Coverage counts, per rule, whether some test made it decide an outcome and
whether some test shows it not applying to an item of its treatment.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictInt, StrictStr

from ..case.reading import parse_case
from ..evaluation.outcome import Outcome
from ..engine import Engine
from ..errors import CaseError, MtusRulesError, Problem, RulePackError
from ..explanation.decision import FindingKind
from ..explanation.render import trace_text
from ..packs.loading import load_pack, pack_folders
from ..packs.model import PACK_FILE, RulePack, SchemaLine
from ..yamlio import read_model
from .._model import StrictModel

TESTS_DIR = "tests"


class CitationExpectation(StrictModel):
    source: Literal["MTUS", "ODG"] | None = None
    section: StrictStr | None = None
    pages: StrictStr | None = None


class RuleTestError(RulePackError):
    """A rule test file could not be read or is not valid (a RulePackError, so
    code that catches those still catches it; its message says which it is)."""

    kind = "rule test file"


class FindingExpectation(StrictModel):
    kind: FindingKind | None = None
    rule: StrictStr | None = None
    body_region: StrictStr | None = None
    text_contains: StrictStr | None = None


class ChangeExpectation(StrictModel):
    fact: StrictStr
    value: StrictStr | StrictInt | None = None


class AlternativeExpectation(StrictModel):
    changes: list[ChangeExpectation] = Field(default_factory=list, description="Each is among the alternative's changes.")
    rules: list[StrictStr] | None = Field(default=None, description="Exactly the rules the alternative answers.")
    text_contains: StrictStr | None = None


class ItemExpectation(StrictModel):
    item: Annotated[StrictInt, Field(ge=0)] = 0
    outcome: Outcome
    rules: list[StrictStr] | None = None
    citations: list[CitationExpectation] = Field(default_factory=list)
    not_applied: list[StrictStr] = Field(default_factory=list)
    findings: list[FindingExpectation] = Field(default_factory=list)
    supported_visits: Annotated[StrictInt, Field(ge=0)] | None = Field(
        default=None, description="The visits the rules support as the case stands; null: no upper bound."
    )
    alternatives: list[AlternativeExpectation] | None = Field(
        default=None, description="Each matches some alternative that would overturn the item; [] means none."
    )
    rationale_contains: list[StrictStr] = Field(default_factory=list)
    rationale_excludes: list[StrictStr] = Field(default_factory=list)

    @property
    def needs_what_if(self) -> bool:
        return "supported_visits" in self.model_fields_set or self.alternatives is not None


class RuleTest(StrictModel):
    name: StrictStr = Field(min_length=1)
    case: dict[str, Any]
    expect: Annotated[list[ItemExpectation], Field(min_length=1)]


class _Defaults(StrictModel):
    case: dict[str, Any] = Field(default_factory=dict)


class RuleTestFile(StrictModel):
    schema_line: StrictStr | None = SchemaLine
    defaults: _Defaults = Field(default_factory=_Defaults)
    tests: Annotated[list[RuleTest], Field(min_length=1)]


class RuleTestResult(BaseModel):
    file: str
    line: int | None
    name: str
    passed: bool
    failures: list[str] = Field(default_factory=list)
    trace: str | None = Field(default=None, description="The explain trace of a failed test's case.")
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
    coverage: list[RuleCoverage] = Field(
        description="Per rule the tested packs define in their own files; an overlay's inherited rules are not here."
    )
    seconds: float
    inherited: int = Field(
        default=0, description="Rules overlays inherit from the packs they extend: left to those packs' own tests."
    )
    inherited_from: list[str] = Field(default_factory=list, description="Those packs, as name and version.")

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
    return read_model(path, RuleTestFile, RuleTestError)


def problems_of_test_files(pack_folder: Path) -> list[Problem]:
    """Every problem of every rule-test file of the pack (lint reads them)."""
    problems: list[Problem] = []
    for path in pack_test_files(pack_folder):
        try:
            load_test_file(path)
        except RuleTestError as exc:
            problems.extend(exc.problems)
    return problems


class RuleTestsNotRun(RulePackError):
    """Neither the pack nor its test files could be used: every problem of
    each, under its own heading ("invalid rule pack", "invalid rule test
    file"), so one run shows them all."""

    def __init__(self, errors: list[MtusRulesError]):
        self.errors = errors
        super().__init__([p for error in errors for p in error.problems])

    def _summary(self) -> str:
        return "\n".join(str(error) for error in self.errors)


def pack_above(start: Path) -> Path | None:
    """The pack folder `start` is in: the nearest of it and the folders above
    it that holds pack.yaml (so `mtus-rules test` works from a pack's tests/
    folder too), or None."""
    start = start.resolve()
    return next((folder for folder in (start, *start.parents) if (folder / PACK_FILE).is_file()), None)


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


def run_file(
    engine: Engine, pack: RulePack, path: Path, select: re.Pattern | None = None,
    loaded: tuple[RuleTestFile, dict] | None = None,
) -> list[RuleTestResult]:
    parsed, lines = loaded if loaded is not None else load_test_file(path)
    return [
        run_test(engine, pack, test, parsed.defaults.case, str(path), lines.get(("tests", i, "name")))
        for i, test in enumerate(parsed.tests)
        if select is None or select.search(f"{path}::{test.name}")
    ]


def run_test(engine: Engine, pack: RulePack, test: RuleTest, defaults: dict, file: str, line: int | None) -> RuleTestResult:
    failures: list[str] = []
    try:
        case = parse_case(_merge(defaults, test.case))
    except CaseError as exc:
        return RuleTestResult(file=file, line=line, name=test.name, passed=False, failures=[f"invalid case: {p}" for p in exc.problems])
    decision = engine.evaluate(case, what_if=any(want.needs_what_if for want in test.expect))
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
        failures.extend(f"item {want.item}: {failure}" for failure in _item_failures(want, got))
    return RuleTestResult(
        file=file, line=line, name=test.name, passed=not failures, failures=failures,
        trace=trace_text(trace) if failures else None,
        decided=sorted(set(decided)), not_applied=sorted(set(not_applied)),
    )


def _item_failures(want: ItemExpectation, got: Any) -> list[str]:
    """What an item's decision lacks of the findings, what-if answers and
    rationale words the test expects."""
    failures = []
    for finding in want.findings:
        wanted = finding.model_dump(exclude_none=True)
        if not any(_finding_matches(wanted, f) for f in got.findings):
            shown = "; ".join(dict.fromkeys(f"{f.kind}{f' ({f.rule})' if f.rule else ''}" for f in got.findings)) or "none"
            failures.append(f"no finding matching {wanted} in: {shown}")
    what_if = got.what_if
    if want.needs_what_if and what_if is None:
        failures.append("the decision has no what-if answers (supported_visits, alternatives) for this item")
    if "supported_visits" in want.model_fields_set and what_if is not None and what_if.supported_visits != want.supported_visits:
        failures.append(f"expected supported_visits {want.supported_visits}, got {what_if.supported_visits}")
    if want.alternatives is not None and what_if is not None:
        shown = " | ".join(a.text for a in what_if.alternatives) or "none"
        if not want.alternatives and what_if.alternatives:
            failures.append(f"expected no alternatives, got: {shown}")
        for alternative in want.alternatives:
            wanted = alternative.model_dump(exclude_none=True)
            if not any(_alternative_matches(alternative, a) for a in what_if.alternatives):
                failures.append(f"no alternative matching {wanted} in: {shown}")
    rationale = " ".join((got.rationale.guideline, got.rationale.case, got.rationale.conclusion))
    failures += [f"the rationale does not contain {text!r}" for text in want.rationale_contains if text not in rationale]
    failures += [f"the rationale contains {text!r}" for text in want.rationale_excludes if text in rationale]
    return failures


def _finding_matches(wanted: dict[str, Any], finding: Any) -> bool:
    text = wanted.get("text_contains")
    return all(getattr(finding, k) == v for k, v in wanted.items() if k != "text_contains") and (
        text is None or text in finding.text
    )


def _alternative_matches(want: AlternativeExpectation, got: Any) -> bool:
    changes = {(c.fact, c.value) for c in got.changes}
    facts = {c.fact for c in got.changes}
    return (
        all((c.fact, c.value) in changes if c.value is not None else c.fact in facts for c in want.changes)
        and (want.rules is None or sorted(want.rules) == sorted(got.rules))
        and (want.text_contains is None or want.text_contains in got.text)
    )


def run(paths: Iterable[str | Path], select: str | None = None) -> Report:
    """Run every test of every pack under `paths`, or those whose id
    (`file::name`) the regular expression `select` matches. Nothing runs
    unless every pack and test file reads: RulePackError names the problems
    of packs, RuleTestError those of test files (or of `select`), and
    RuleTestsNotRun both, each under its heading."""
    started = time.perf_counter()
    try:
        pattern = re.compile(select) if select is not None else None
    except re.error as exc:
        raise RuleTestError([Problem(location="--run", message=f"not a regular expression ({exc})")]) from None
    results: list[RuleTestResult] = []
    coverage: list[RuleCoverage] = []
    inherited, inherited_from = 0, set[str]()
    # Everything is read before anything runs, so one run names every problem
    # of every pack and test file, each labelled by what it is in.
    loaded: list[tuple[RulePack, list[tuple[Path, tuple[RuleTestFile, dict]]]]] = []
    pack_problems: list[Problem] = []
    test_problems: list[Problem] = []
    for folder, files in collect(paths):
        if not (folder / PACK_FILE).is_file():
            pack_problems.append(Problem(file=str(folder), message="not a rule pack folder (no pack.yaml)"))
            continue
        tests = []
        for path in files:
            try:
                tests.append((path, load_test_file(path)))
            except RuleTestError as exc:
                test_problems.extend(exc.problems)
        try:
            loaded.append((load_pack(folder), tests))
        except RulePackError as exc:
            pack_problems.extend(exc.problems)
    errors: list[MtusRulesError] = [
        *([RulePackError(pack_problems)] if pack_problems else []),
        *([RuleTestError(test_problems)] if test_problems else []),
    ]
    if len(errors) > 1:
        raise RuleTestsNotRun(errors)
    if errors:
        raise errors[0]
    for pack, tests in loaded:
        engine = Engine([pack])
        pack_results = [result for path, parsed in tests for result in run_file(engine, pack, path, pattern, parsed)]
        results.extend(pack_results)
        decided = {r for result in pack_results if result.passed for r in result.decided}
        not_applied = {r for result in pack_results if result.passed for r in result.not_applied}
        own = own_rules(pack)
        coverage.extend(
            RuleCoverage(rule=rule.id, file=pack.files[rule.id], decided=rule.id in decided, shown_not_applying=rule.id in not_applied)
            for rule in pack.rules
            if rule.id in own
        )
        if len(own) < len(pack.rules):
            inherited += len(pack.rules) - len(own)
            inherited_from.update(f"{layer.name} {layer.version}" for layer in pack.layers[:-1])
    return Report(
        results=results, coverage=coverage, seconds=time.perf_counter() - started,
        inherited=inherited, inherited_from=sorted(inherited_from),
    )


def own_rules(pack: RulePack) -> set[str]:
    """The rules `pack` defines in its own files: all of a plain pack's; of an
    overlay's, those it adds or overrides. Its author's tests cover these; the
    rules it inherits are covered by the tests of the pack that defines them,
    and counting them would put a base's hundred rules in an overlay's report."""
    if not pack.layers:
        return {rule.id for rule in pack.rules}
    folder = Path(pack.folder).resolve()
    return {rule.id for rule in pack.rules if Path(pack.files[rule.id]).resolve().is_relative_to(folder)}


def report_text(report: Report, *, show_coverage: bool, explain: bool = False) -> str:
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
            if explain and result.trace:
                lines.append("    explain trace:")
                lines.extend(f"      {line}" if line else "" for line in result.trace.splitlines())
        if not explain and any(r.trace for r in failed):
            lines.append("(--explain fails prints the explain trace of each failed test)")
    if show_coverage:
        lines.append("")
        lines.append(f"rule coverage: {report.coverage_percent:.0f}% of {len(report.coverage)} rules decided an outcome in some test")
        if report.inherited:
            lines.append(
                f"  (not counted: {report.inherited} rules inherited from {', '.join(report.inherited_from)}, "
                "which the tests of the pack defining them cover)"
            )
        for cov in report.coverage:
            marks = ("decides" if cov.decided else "NEVER DECIDES") + (", shown not applying" if cov.shown_not_applying else ", never shown not applying")
            lines.append(f"  {cov.rule}: {marks}")
        untested = [c.rule for c in report.coverage if not c.decided]
        if untested:
            lines.append("rules no test makes decide: " + ", ".join(untested))
    summary = f"{report.passed} passed, {report.failed} failed"
    lines.append(f"{'=' * 20} {summary} in {report.seconds:.2f}s {'=' * 20}" if report.results else "no tests ran")
    return "\n".join(lines)


__all__ = [
    "Report", "RuleTest", "RuleTestError", "RuleTestFile", "RuleTestResult", "RuleTestsNotRun", "collect", "pack_above",
    "problems_of_test_files", "report_text", "run",
    "MtusRulesError",
]
