"""Checks for rule packs that need no case: `mtus-rules lint`.

Errors are what stops a pack from loading (every problem the loader reports,
with file, line and column) and what stops its rule tests from being read
(code `test-file`), all in one run.
Warnings are packs that load but may decide wrongly: rules that conflict, can
never apply or are always decided by a stronger rule, ODG rules the MTUS
already covers, facts resting only on a reviewer's quotation or on figures the project lead
attests, and treatment x
region combinations no rule decides. An author who has looked at a warning can
accept it in the rule (`lint: {accept: {code: reason}}`) or, for gaps, in
pack.yaml (`known_gaps`, which may name a whole treatment the pack has no rule for);
accepted warnings are still counted, and listed with `--show-accepted`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from ..packs.conditions import FACTS, Test, all_of
from ..errors import Problem, RulePackError
from ..packs.loading import load_pack, pack_folders
from .ruletests import problems_of_test_files
from ..packs.model import PACK_FILE, Rule, RulePack
from ..packs.stated import stated_numbers, unaccepted_stated_numbers
from ..vocabulary import BodyRegion, Treatment

Severity = Literal["error", "warning"]


class LintFinding(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity
    code: str
    message: str
    rules: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    line: int | None = None
    accepted: str | None = Field(default=None, description="The author's reason, when the warning is accepted.")
    column: int | None = Field(default=None, description="1-based column on the line, when known (errors); absent otherwise.")

    @model_serializer(mode="wrap")
    def _column_when_known(self, handler: SerializerFunctionWrapHandler):  # noqa: ANN202 - see PackRef
        data = handler(self)
        if self.column is None:
            data.pop("column", None)
        return data

    def __str__(self) -> str:
        place = (self.files[0] if self.files else None, self.line, self.column if self.line is not None else None)
        where = ":".join(str(p) for p in place if p is not None)
        rules = f" [{', '.join(self.rules)}]" if self.rules else ""
        accepted = f" (accepted: {self.accepted})" if self.accepted else ""
        return f"{where + ': ' if where else ''}{self.severity}[{self.code}]: {self.message}{rules}{accepted}"


class PackLint(BaseModel):
    """The findings for one pack folder, and the pack they describe."""

    model_config = ConfigDict(frozen=True)

    folder: str
    pack: str | None = Field(description="Name and version of the effective pack; None when it does not load.")
    findings: list[LintFinding]

    @property
    def title(self) -> str:
        return f"Lint of {self.pack} ({self.folder})" if self.pack else f"Lint of {self.folder} (does not load)"


def lint_packs(paths: Iterable[str | Path]) -> list[PackLint]:
    """Lint each pack folder named or found under `paths`, as its effective
    pack (an overlay with the packs it extends)."""
    out: list[PackLint] = []
    for folder in pack_folders(paths):
        # The pack's rule tests are read too, so one run shows every problem
        # of the folder; they are labelled as test-file errors.
        tests = [_error(p, code="test-file") for p in problems_of_test_files(folder)]
        try:
            pack = load_pack(folder)
        except RulePackError as exc:
            out.append(PackLint(folder=str(folder), pack=None, findings=[*(_error(p) for p in exc.problems), *tests]))
            continue
        out.append(PackLint(folder=str(folder), pack=pack.label, findings=[*tests, *lint_pack(pack)]))
    return out


def lint_paths(paths: Iterable[str | Path]) -> list[LintFinding]:
    return [finding for report in lint_packs(paths) for finding in report.findings]


def _error(problem: Problem, code: str | None = None) -> LintFinding:
    text = f"{problem.location}: {problem.message}" if problem.location else problem.message
    return LintFinding(
        severity="error", code=code or _error_code(problem.location, problem.message), message=text,
        files=[problem.file] if problem.file else [], line=problem.line, column=problem.column,
    )


def _error_code(location: str, message: str) -> str:
    if message.startswith("unknown fact"):  # its list of facts names "postsurgical_period"
        return "unknown-name"
    if "duplicate rule id" in message or "is already in the base pack" in message:
        return "duplicate-id"
    if "overrides unknown rule" in message or "does not have" in message:
        return "unknown-rule"
    if location == "extends":
        return "extends"
    if "citation" in location or "fills_gap_in" in location:
        return "citation"
    if "effective" in location or "period" in message:
        return "period"
    if any(k in location for k in ("treatment", "body_region", "diagnosis_group")) or "unknown fact" in message:
        return "unknown-name"
    if message.startswith("invalid YAML") or "appears twice" in message:
        return "syntax"
    return "schema"


# -- warnings --------------------------------------------------------------------


def lint_pack(pack: RulePack) -> list[LintFinding]:
    out: list[LintFinding] = []
    rules = list(pack.rules)

    def warn(code: str, message: str, involved: list[Rule]) -> None:
        accepted = next((r.lint.accept[code] for r in involved if code in r.lint.accept), None)
        first = involved[0]
        out.append(LintFinding(
            severity="warning", code=code, message=message, rules=[r.id for r in involved],
            files=list(dict.fromkeys(pack.files[r.id] for r in involved)), line=pack.lines.get(first.id),
            accepted=accepted,
        ))

    attested_reason = pack.lint_accept.get("attested")
    for rule in rules:
        if rule.citation.attested or (rule.fills_gap_in is not None and rule.fills_gap_in.attested):
            finding_count = len(out)
            warn("attested", "its figures are attested by the project lead (guideline sheet section 10), not checked "
                 "against a primary copy of the guideline", [rule])
            if attested_reason and out[finding_count].accepted is None:
                out[finding_count] = out[finding_count].model_copy(update={"accepted": attested_reason})
        if _contradiction(rule):
            warn("never-applies", f"its conditions contradict each other ({_contradiction(rule)}), so it can never apply", [rule])
        if rule.citation.confirmed_by == "reviewer_quotation":
            warn("reviewer-quotation", "its citation rests only on an IMR reviewer's quotation, not guideline text", [rule])
        out.extend(_stated_number_findings(rule, pack))

    for a, b in itertools.combinations(rules, 2):
        if not _overlap(a, b, pack):
            continue
        for strong, weak in ((a, b), (b, a)):
            if (
                strong.effect == "not_recommended" and not strong.conditions and weak.effect != "not_recommended"
                and _covers(strong, weak) and strong.id not in weak.overrides and weak.id not in strong.overrides
            ):
                warn("shadowed", f"{weak.id} can never decide: {strong.id} always makes the same items not recommended first", [weak, strong])
        denies = {r.id for r in (a, b) if r.effect == "not_recommended"}
        supports = {r.id for r in (a, b) if r.effect in ("supports", "limit")}
        if denies and supports and denies != supports and b.id not in a.overrides and a.id not in b.overrides:
            if not any(_covers(x, y) and not x.conditions and x.effect == "not_recommended" for x, y in ((a, b), (b, a))):
                warn("conflict", f"{a.id} and {b.id} can both apply to the same item and disagree "
                     "(one supports it, the other finds it not recommended); declare `overrides` if one is an exception", [a, b])
        if a.effect == b.effect == "limit" and a.question == b.question and a.source == b.source:
            assert a.limit and b.limit
            if a.limit.visits != b.limit.visits and a.limit.counts == b.limit.counts:
                warn("conflict", f"{a.id} and {b.id} set different limits ({a.limit.visits} and {b.limit.visits}) "
                     f"on '{a.question}' for the same items", [a, b])
        for mtus, odg in ((a, b), (b, a)):
            if mtus.source == "MTUS" and odg.source == "ODG" and mtus.question == odg.question and not mtus.conditions and _covers(mtus, odg):
                warn("odg-covered", f"{odg.id} never applies: the MTUS rule {mtus.id} answers '{odg.question}' for every item it covers", [odg, mtus])

    out.extend(_gaps(pack))
    return out


# -- numbers stated in a rule's words ------------------------------------------------

def _stated_number_findings(rule: Rule, pack: RulePack) -> list[LintFinding]:
    """An error for the quantities a rule's words state that it does not hold;
    an accepted warning for those its `stated-number` reason quotes. The reason
    must quote each quantity, so accepting the guideline's range does not also
    accept a number left stale by a later edit of the rule."""
    reason = rule.lint.accept.get("stated-number")
    stale = unaccepted_stated_numbers(rule)
    accepted = [pair for pair in stated_numbers(rule) if pair not in stale]
    where = {"rules": [rule.id], "files": [pack.files[rule.id]], "line": pack.lines.get(rule.id)}

    def said(pairs: list[tuple[str, str]]) -> str:
        by_field: dict[str, list[str]] = {}
        for field, quantity in pairs:
            by_field.setdefault(field, []).append(f'"{quantity}"')
        return "; ".join(f"its {field} states {', '.join(dict.fromkeys(q))}" for field, q in by_field.items())

    out = []
    if stale:
        names = [n for n in rule.numbers if not any(n.startswith(m + ".") for m in rule.numbers)]
        placeholders = ", ".join("{" + n + "}" for n in names) or "none: the rule holds no number"
        out.append(LintFinding(
            severity="error", code="stated-number",
            message=f"{said(stale)}: a number the rule does not hold, which a decision would state without using it. "
            f"Write the rule's number as a placeholder (this rule's: {placeholders}), or, for the guideline's own "
            "words, accept it in the rule (lint: {accept: {stated-number: reason}}) with a reason that quotes it",
            **where,
        ))
    if accepted:
        out.append(LintFinding(
            severity="warning", code="stated-number", message=f"{said(accepted)}, a number the rule does not hold",
            accepted=reason, **where,
        ))
    return out


def _allowed(tests: list[Test]) -> str | None:
    """Why these tests (all on one fact) cannot all hold, or None."""
    spec = FACTS[tests[0].fact]
    if spec.kind == "count":
        lo, hi = 0, 10**9
        for t in tests:
            if t.op == "lt":
                hi = min(hi, t.value - 1)
            elif t.op == "le":
                hi = min(hi, t.value)
            elif t.op == "gt":
                lo = max(lo, t.value + 1)
            elif t.op == "ge":
                lo = max(lo, t.value)
        return None if lo <= hi else "; ".join(t.describe() for t in tests)
    values = set(spec.values)
    for t in tests:
        wanted = set(t.wanted()) if t.op in ("is", "is_not") else set()
        if t.op == "is":
            values &= wanted
        elif t.op == "is_not":
            values -= wanted
        elif t.op == "documented":
            values.discard(spec.unknown)
    return None if values else "; ".join(t.describe() for t in tests)


def _contradiction(rule: Rule) -> str | None:
    by_fact: dict[str, list[Test]] = {}
    for t in rule.conditions:
        by_fact.setdefault(t.fact, []).append(t)
    for tests in by_fact.values():
        reason = _allowed(tests)
        if reason:
            return reason
    return None


def _regions(rule: Rule) -> set[str]:
    regions = rule.applies_to.body_region
    return {r.value for r in regions} if regions else {r.value for r in BodyRegion}


def _overlap(a: Rule, b: Rule, pack: RulePack) -> bool:
    """Some item could be in both rules' scope with both rules' conditions true."""
    if not set(a.applies_to.treatment) & set(b.applies_to.treatment):
        return False
    if not _regions(a) & _regions(b):
        return False
    for x, y in ((a, b), (b, a)):
        # Every item in x's diagnosis scope has a diagnosis y leaves out.
        if x.applies_to.diagnosis_group and y.applies_to.unless_diagnosis_group and set(
            x.applies_to.diagnosis_group
        ) <= set(y.applies_to.unless_diagnosis_group):
            return False
    pa, pb = pack.effective_period(a), pack.effective_period(b)
    if (pa.end and pa.end < pb.start) or (pb.end and pb.end < pa.start):
        return False
    combined: dict[str, list[Test]] = {}
    for t in [*a.conditions, *b.conditions]:
        combined.setdefault(t.fact, []).append(t)
    return all(_allowed(tests) is None for tests in combined.values())


def _covers(big: Rule, small: Rule) -> bool:
    """Every item in `small`'s scope is in `big`'s scope."""
    if not set(small.applies_to.treatment) <= set(big.applies_to.treatment):
        return False
    if not _regions(small) <= _regions(big):
        return False
    if big.applies_to.diagnosis_group and not (
        small.applies_to.diagnosis_group and set(small.applies_to.diagnosis_group) <= set(big.applies_to.diagnosis_group)
    ):
        return False
    if big.applies_to.unless_diagnosis_group and not set(big.applies_to.unless_diagnosis_group) <= set(
        small.applies_to.unless_diagnosis_group or ()
    ):
        return False
    return big.effective is None or (small.effective is not None and small.effective.within(big.effective))


def decided_combinations(pack: RulePack) -> dict[tuple[str, str], list[str]]:
    """Treatment x region combinations the rules decide for every case, with
    the rules that do.

    A rule with no diagnosis restriction and no count condition decides every
    case its choice conditions do not rule out (an unknown value still decides:
    "insufficient documentation"). A combination is decided when, for every
    value the rules' choice facts can take, one of those rules is not ruled
    out: e.g. physical therapy outside a postsurgical period by one rule and
    within it by another."""
    candidates = [
        rule
        for rule in pack.rules
        if rule.effect != "requires"
        and not rule.applies_to.diagnosis_group
        and not rule.applies_to.unless_diagnosis_group
        and all(FACTS[t.fact].kind == "choice" for t in rule.conditions)
    ]
    decided: dict[tuple[str, str], list[str]] = {}
    for treatment in {t for rule in candidates for t in rule.applies_to.treatment}:
        for region in BodyRegion:
            rules = [r for r in candidates if treatment in r.applies_to.treatment and region.value in _regions(r)]
            facts = sorted({t.fact for r in rules for t in r.conditions})
            if rules and all(
                any(all_of(r.conditions, dict(zip(facts, values))) is not False for r in rules)
                for values in itertools.product(*(FACTS[f].values for f in facts))
            ):
                decided[(treatment.value, region.value)] = [r.id for r in rules if not r.conditions] or [r.id for r in rules]
    return decided


def _gaps(pack: RulePack) -> list[LintFinding]:
    decided = decided_combinations(pack)
    known = {(g.treatment.value, r.value): g.reason for g in pack.known_gaps for r in g.regions}
    named = {t.value for rule in pack.rules for t in rule.applies_to.treatment}
    files = [str(Path(pack.folder) / PACK_FILE)] if pack.folder else []
    findings = []
    for treatment in gap_treatments():
        missing = [r.value for r in BodyRegion if (treatment, r.value) not in decided]
        by_reason: dict[str | None, list[str]] = {}
        for region in missing:
            by_reason.setdefault(known.get((treatment, region)), []).append(region)
        for reason, regions in by_reason.items():
            where = ", ".join(regions)
            if treatment not in named and len(missing) == len(BodyRegion):
                where += " (no rule names this treatment)"
            findings.append(LintFinding(
                severity="warning", code="gap", message=f"no rule decides {treatment} for: {where}",
                files=files, accepted=reason,
            ))
    return findings


def gap_treatments() -> list[str]:
    """Every treatment of the vocabulary but `other`: a pack that has no rule
    for one leaves it undecided, which is a gap an author must accept by name.
    `other` is the request the vocabulary does not name; no guideline section
    is about it, so it can never be a gap a pack could close."""
    return sorted(t.value for t in Treatment if t is not Treatment.OTHER)
