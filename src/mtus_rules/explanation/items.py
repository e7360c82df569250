"""Deciding one requested item from what the rules answered for its regions:
the outcome (evaluation.outcome), the findings and rationale in words, the
citations, and on request what the rules would support (what-if). The item's
decision apart from what is its own (index, description, RFA line, notes) is
memoised per compiled pack on everything it reads.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..case.model import Case
from ..evaluation.compile import Branch
from ..evaluation.facets import Facet, documented_prior_visits, prior_courses
from ..evaluation.matching import Answer, CompiledPack
from ..evaluation.outcome import DECISIVE_KINDS, Outcome, item_outcome
from ..packs.model import Citation
from ..vocabulary import BodyRegion
from .alternatives import alternatives, case_key, supported_visits
from .decision import Finding, ItemDecision, Rationale, WhatIf, assembled
from .findings import finding, note
from .rationale import word_rationale


class _Decided(NamedTuple):
    """An item's decision apart from what is the item's own (index,
    description, RFA line, notes, what-if): the findings and the case part of
    the rationale follow the item's notes (`_with_notes`), and the conclusion
    is `before` + the description + `after`."""

    outcome: Outcome
    rules: tuple[str, ...]
    findings: tuple[Finding, ...]  # the rules' findings, without the notes'
    citations: tuple[Citation, ...]
    body_regions: tuple[str, ...]
    guideline: str
    case: str  # what the deciding findings show, without the notes
    before: str
    after: str


def decide_item(
    case: Case, index: int, facets_: list[tuple[Facet, Answer]], compiled: CompiledPack, day: int, what_if: bool
) -> ItemDecision:
    item = case.requested_items[index]
    first, answer = facets_[0]
    rules = compiled.by_treatment.get(item.treatment)
    notes = first.notes  # read, never changed
    if rules is not None and first.derived_notes:
        # A derived fact is explained where this treatment's rules read it, and nowhere else.
        reads = rules.reads
        explained = [d.note for f, d in first.derived_notes.items() if f in reads]
        if explained:
            notes = [*notes, *dict.fromkeys(explained)]
    if compiled.cache_size:
        # Everything the decision reads but the notes: the treatment; per
        # region, the rule branches kept (they settle its status) and the facts
        # their findings word. The notes (some name the case's own dates) and
        # the description are put in afterwards, so items that differ only
        # there share one entry.
        regions: tuple[tuple[Any, ...], ...]
        if len(facets_) == 1:
            regions = ((first.body_region, answer.kept_ids, *map(first.facts.get, answer.worded)),)
        else:
            regions = tuple((f.body_region, a.kept_ids, *map(f.facts.get, a.worded)) for f, a in facets_)
        key = (item.treatment, regions)
        compiled.item_lookups += 1
        decided = compiled.item_memo.get(key)
        if decided is None:
            decided = _decide_regions(item.treatment, facets_, compiled)
            compiled.remember(compiled.item_memo, key, decided)
        else:
            compiled.item_hits += 1
    else:
        decided = _decide_regions(item.treatment, facets_, compiled)

    options = _what_if(case, item, facets_, compiled, day, decided.outcome) if what_if else None
    findings, case_text = _with_notes(decided, notes)
    # As validation would leave them (explanation.decision.assembled): the case is
    # validated, and _Decided holds members and models. Lists are the item's own.
    rationale = {"guideline": decided.guideline, "case": case_text, "conclusion": decided.before + item.description + decided.after}
    return assembled(
        ItemDecision,
        {
            "index": index,
            "description": item.description,
            "treatment": item.treatment,
            "body_regions": list(decided.body_regions),
            "outcome": decided.outcome,
            "rules": list(decided.rules),
            "findings": findings,
            "citations": list(decided.citations),
            "rationale": assembled(Rationale, rationale),
            "rfa": item.rfa,
            "what_if": options,
        },
    )


def _with_notes(decided: _Decided, notes: list[str]) -> tuple[list[Finding], str]:
    """The item's findings and the case part of its rationale: its notes
    first, each a finding and a sentence of the case, then the rules'."""
    if not notes:  # the usual case
        return list(decided.findings), decided.case
    findings = [note(n) for n in notes]
    findings += decided.findings
    # As word_rationale joins the notes and the findings' lines, with nothing
    # after the notes when no finding decided.
    case_text = " ".join(notes) if not decided.case else " ".join([*notes, decided.case])
    return findings, case_text


def _decide_regions(treatment: str, facets_: list[tuple[Facet, Answer]], compiled: CompiledPack) -> _Decided:
    multi = len(facets_) > 1
    findings: list[Finding] = []
    status: dict[str, str] = {}
    for facet, answer in facets_:
        findings.extend(finding(compiled, b, facet) for b in answer.kept)
        status[facet.body_region] = answer.status
    outcome = item_outcome(status.values())
    kinds = DECISIVE_KINDS[outcome]
    decisive = [f for f in findings if f.kind in kinds] if kinds else []

    rule_ids = tuple(dict.fromkeys(f.rule for f in decisive if f.rule))
    guideline, citations = compiled.guideline(rule_ids)
    words = word_rationale(
        treatment=treatment, outcome=outcome, guideline=guideline, decisive=decisive,
        notes=[], status=status, multi=multi, pack=compiled.pack, positions=compiled.positions,
    )
    # As the members the decision model holds, so that validating them is a lookup.
    regions = tuple(_REGIONS.get(r, r) for r in status)
    return _Decided(outcome, rule_ids, tuple(findings), citations, regions, *words)


_REGIONS = {r.value: r for r in BodyRegion}


def _what_if(
    case: Case, item: Any, facets_: list[tuple[Facet, Answer]], compiled: CompiledPack, day: int, outcome: Outcome
) -> WhatIf:
    def decide(varied: list[Facet]) -> tuple[Outcome, list[tuple[Facet, Branch]]]:
        status: dict[str, str] = {}
        failing: list[tuple[Facet, Branch]] = []
        for facet in varied:
            answer = compiled.match(facet, day)
            status[facet.body_region] = answer.status
            failing.extend((facet, b) for b in answer.kept if b.verdict == "fail")
        return item_outcome(status.values()), failing

    # The key holds everything the search reads: the facts the rules read, the
    # prior and requested counts apart (the rules may read only their sum), the
    # visits already documented, the diagnoses' regions and groups, whether
    # a prior course exists, and what the search reads of the surgery and the
    # courses' dates (case_key). The same key, the same answer.
    courses = prior_courses(case, item.treatment)
    first = facets_[0][0].facts
    key = (
        tuple(compiled.fact_key(f, day) for f, _ in facets_),
        first["visits_to_date"],
        first["visits_requested"],
        documented_prior_visits(courses),
        tuple((d.group, tuple(d.body_regions)) for d in case.diagnoses),
        bool(courses),
        case_key(case, [f for f, _ in facets_]),
    )
    found = compiled.options_memo.get(key)
    if found is None:
        plain = [facet for facet, _ in facets_]
        bounds = compiled.bounds[item.treatment]
        supported = supported_visits(decide, plain, case, bounds)
        options = []
        if outcome is Outcome.UPHELD:
            failing = [(f, b) for f, answer in facets_ for b in answer.kept if b.verdict == "fail"]
            options = alternatives(decide, plain, case, bounds, failing, supported)
        found = WhatIf(supported_visits=supported, alternatives=options)
        compiled.remember(compiled.options_memo, key, found)
    return found
