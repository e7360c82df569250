"""The wording of findings: one rule outcome on one region, in words.

A finding's text reads only the region, the treatment and the facts `worded`
names for its branch, so findings are memoised per compiled pack on exactly
those (`finding`); tests/evaluation/test_memo_keys.py holds `worded` to what `wording`
reads.

`wording` works out what depends only on the branch once, when the engine is
built; tests/explanation/test_wording.py holds its texts equal to the wording
as first written (kept there as the reference) on every branch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..case.derived import months_words
from ..evaluation.compile import Branch, effect_test
from ..evaluation.facets import Facet
from ..evaluation.matching import CompiledPack
from ..packs.conditions import AT_LEAST_SUFFIX, FACTS, Test
from ..vocabulary import FACET_REGIONS, Treatment, label
from .decision import Finding, assembled


def finding(compiled: CompiledPack, branch: Branch, facet: Facet) -> Finding:
    """The finding of one rule outcome on one region, from the pack's memo when
    the same branch met the same worded facts before (findings are immutable),
    else worded by the branch's compiled wording (CompiledPack.wordings)."""
    if not compiled.cache_size:
        return compiled.wordings[id(branch)](facet)
    key = (id(branch), facet.body_region, facet.key[0], *map(facet.facts.get, compiled.worded[id(branch)]))
    memo = compiled.finding_memo
    found = memo.get(key)
    if found is None:
        found = compiled.wordings[id(branch)](facet)
        compiled.remember(memo, key, found)
    return found


def note(text: str) -> Finding:
    # Made per item, not kept in a process-wide cache: a note names the case's
    # own dates, and Engine(cache_size=0) keeps nothing of one case for another.
    return assembled(Finding, {"kind": "note", "rule": None, "body_region": None, "text": text, "needed": ()})


def _shown(facts: Mapping[str, Any], name: str) -> str:
    value = facts[name]
    if value is None:
        if FACTS[name].stated_only:
            return "not stated"
        least = facts.get(name + AT_LEAST_SUFFIX, 0)
        return f"not documented (at least {least})" if least else "not documented"
    if name.startswith("months_"):
        return months_words(value)
    found = _VALUE_LABELS.get(value)
    return found if found is not None else label(value)


#: label() of every value a choice fact can take, worked out once: the
#: findings show the `when` facts and requirements of the rules that held.
_VALUE_LABELS = {value: label(value) for fact in FACTS.values() for value in fact.values}


def _visits_phrase(facts: Mapping[str, Any], counts: str) -> str:
    prior, requested = facts["visits_to_date"], facts["visits_requested"]
    if counts == "visits_requested":
        return f"{requested} visits requested"
    total = facts[counts]
    if counts == "injury_visits":
        prior = None if total is None else total - (requested or 0)
    if prior is None:
        least = facts[counts + AT_LEAST_SUFFIX]
        known = least - (requested or 0)
        shown = f"at least {known} prior visits documented" if known else "prior visits not documented"
        if requested is None:
            return f"{shown} and no quantity stated"
        return f"{shown} + {requested} requested = at least {least} visits"
    if requested is None:
        return f"{prior} prior visits and no quantity stated"
    return f"{prior} prior + {requested} requested = {total} visits"


#: The counts `_visits_phrase` words as visits (prior + requested).
_VISIT_COUNTS = ("injury_visits", "total_visits", "visits_requested")


def worded(branch: Branch) -> tuple[str, ...]:
    """The facts `wording` reads for this branch, besides the treatment and
    the region: a finding is the same wherever these are (the finding and item
    memos are keyed on them). Kept in step with `wording` and `_visits_phrase`;
    tests/evaluation/test_perf_identity.py checks it on every branch it meets."""
    rule = branch.rule
    tests = list(branch.when)  # the context: `when` facts shown when remarkable
    counts = False
    if branch.branch == "undetermined":
        tests += branch.conditions  # which conditions are open
        counts = True  # needs(): whether the request itself leaves a total open
    test = effect_test(rule)
    if test is not None:
        tests.append(test)
        # A limit's phrase words prior + requested; so does a statute's count, and needs().
        counts = counts or rule.effect == "limit" or rule.source == "statute" or branch.branch == "unknown"
    names = [name for t in tests for name in (t.fact, t.fact + AT_LEAST_SUFFIX)]
    if counts:
        names += [f"{n}{suffix}" for n in _VISIT_COUNTS for suffix in ("", AT_LEAST_SUFFIX)]
        names += ["visits_to_date", "visits_to_date" + AT_LEAST_SUFFIX]
    return tuple(dict.fromkeys(names))


# -- the wording, compiled per branch ------------------------------------------
#
# Much of a finding depends only on the branch: its kind, the rule's title, the
# constant part of each sentence, what a fact is called. `wording` works that
# out once per branch, when the engine is built from the pack, so that per
# facet only the case's own values are formatted; a finding whose text depends
# on nothing the case says (a not_recommended rule with no `when`, a
# "recommended" text, a limit's "not documented") is made once per region and
# treatment.

Wording = Callable[[Facet], Finding]

_TREATMENT_LABELS = {t: label(t) for t in Treatment}
_TOTALS = ("total_visits", "injury_visits")


def _made(kind: str, rule: str, region: str, text: str, needed: tuple[str, ...] = ()) -> Finding:
    # Every value as validation leaves it (decision.assembled).
    return assembled(Finding, {"kind": kind, "rule": rule, "body_region": region, "text": text, "needed": needed})


def _treatment_label(facts: Mapping[str, Any]) -> str:
    treatment = facts["treatment"]
    found = _TREATMENT_LABELS.get(treatment)
    return found if found is not None else label(treatment)


def _needed(names: list[str], facts: Mapping[str, Any]) -> tuple[str, ...]:
    """What the record lacks, in words: a total open because of the request
    itself (hours that do not say how many sessions, with the prior visits
    known) asks for the request's visits."""
    request_open = facts["visits_to_date"] is not None and facts["visits_requested"] is None
    treatment: str | None = None
    out: dict[str, None] = {}
    for name in names:
        if request_open and name in _TOTALS:
            name = "visits_requested"
        text = FACTS[name].needed
        if "this treatment" in text:
            if treatment is None:
                treatment = _treatment_label(facts)
            text = text.replace("this treatment", treatment)
        out[text] = None
    return tuple(out)


def _context(when: tuple[Test, ...]) -> Callable[[Mapping[str, Any]], str]:
    """The `when` facts worth a word: those not at their unremarkable value."""
    shown = tuple((t.fact, f"{FACTS[t.fact].label}: ", FACTS[t.fact].unremarkable) for t in when)

    def context(facts: Mapping[str, Any]) -> str:
        parts = []
        for fact, head, plain in shown:
            value = facts[fact]
            if value is None or value != plain:
                parts.append(head + _shown(facts, fact))
        return "; ".join(parts)

    return context


def _fixed(kind: str, branch: Branch, text: Callable[[str], str], needed: Callable[[str], tuple[str, ...]]) -> Wording:
    """A finding that depends only on the region and the treatment's label
    (`text` and `needed` of that label): made once for each region and each
    treatment the rule is for; any other is worded when met."""
    rule = branch.rule
    table = {
        (region, t): _made(kind, rule.id, region, text(_TREATMENT_LABELS[t]), needed(_TREATMENT_LABELS[t]))
        for t in rule.applies_to.treatment
        for region in FACET_REGIONS
    }

    def word(facet: Facet) -> Finding:
        found = table.get((facet.body_region, facet.facts["treatment"]))
        if found is None:
            treatment = _treatment_label(facet.facts)
            found = _made(kind, rule.id, facet.body_region, text(treatment), needed(treatment))
        return found

    return word


def wording(branch: Branch) -> Wording:
    """The finding of this branch for a facet, with everything that does not
    depend on the facet's facts worked out here, once."""
    rule = branch.rule
    title = rule.title_text
    rule_id = rule.id
    statute = rule.source == "statute"

    if branch.branch == "undetermined":
        conditions = branch.conditions
        if statute:
            tail = f". It is needed to tell whether the statutory cap applies ({title})."
        else:
            tail = f". It is needed to apply the rule: {title}."

        def undetermined(facet: Facet) -> Finding:
            facts = facet.facts
            needed = _needed([t.fact for t in conditions if t.holds(facts) is None], facts)
            return _made("insufficient_documentation", rule_id, facet.body_region, f"Not documented: {'; '.join(needed)}{tail}", needed)

        return undetermined

    if rule.effect == "supports":
        return _fixed("recommended", branch, lambda _: f"{title}.", lambda _: ())
    context = _context(branch.when)
    if rule.effect == "not_recommended":
        if not branch.when:
            return _fixed("not_recommended", branch, lambda _: f"{title}.", lambda _: ())

        def not_recommended(facet: Facet) -> Finding:
            shown = context(facet.facts)
            text = f"{title} ({shown})." if shown else f"{title}."
            return _made("not_recommended", rule_id, facet.body_region, text)

        return not_recommended

    test = effect_test(rule)
    assert test is not None  # the rule model holds it: a limit has its number, `requires` its test
    if rule.effect == "limit":
        assert rule.limit is not None
        n, counts = rule.limit.visits, rule.limit.counts
        if branch.branch in ("pass", "fail"):
            kind = "within_limit" if branch.branch == "pass" else "exceeds_limit"
            after = f": within the limit of {n} ({title})." if branch.branch == "pass" else f": over the limit of {n} ({title})."

            def limit(facet: Facet) -> Finding:
                return _made(kind, rule_id, facet.body_region, _visits_phrase(facet.facts, counts) + after)

            return limit
        # Not visits_requested's total: needs() asks for this name as it is.
        name = "visits_to_date" if counts == "total_visits" else "visits_requested"
        template = FACTS[name].needed

        def limit_needed(treatment: str) -> tuple[str, ...]:
            return (template.replace("this treatment", treatment),)

        def limit_text(treatment: str) -> str:
            return f"Not documented: {limit_needed(treatment)[0]}. Without it the limit of {n} visits cannot be applied ({title})."

        return _fixed("insufficient_documentation", branch, limit_text, limit_needed)

    # requires
    fact, head = test.fact, f"{FACTS[test.fact].label}: "
    if statute:
        counted = next((t.fact for t in branch.when if t.fact in _VISIT_COUNTS), None)

        def statute_words(facet: Facet) -> Finding:
            facts = facet.facts
            tally = f"{_visits_phrase(facts, counted)}; " if counted else ""
            shown = head + _shown(facts, fact)
            if branch.branch == "pass":
                return _made("criterion_met", rule_id, facet.body_region, f"{title} ({tally}{shown}): the cap is lifted.")
            if branch.branch == "fail":
                return _made("exceeds_statutory_cap", rule_id, facet.body_region, f"{title} ({tally}{shown}): over the statutory cap.")
            needed = _needed([fact], facts)
            return _made(
                "insufficient_documentation", rule_id, facet.body_region,
                f"{title} ({tally}{shown}). Not documented: {needed[0]}.", needed,
            )

        return statute_words

    def requires(facet: Facet) -> Finding:
        facts = facet.facts
        shown = head + _shown(facts, fact)
        said = context(facts)
        prefix = f"{title} ({said}; {shown})" if said else f"{title} ({shown})"
        if branch.branch == "pass":
            return _made("criterion_met", rule_id, facet.body_region, f"{prefix}: met.")
        if branch.branch == "fail":
            return _made("criterion_not_met", rule_id, facet.body_region, f"{prefix}: not met.")
        needed = _needed([fact], facts)
        return _made("insufficient_documentation", rule_id, facet.body_region, f"{prefix}. Not documented: {needed[0]}.", needed)

    return requires
