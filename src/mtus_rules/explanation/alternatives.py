"""What the rules would support, and what would change an upheld outcome.

Both are computed from the rules, never written per case: the item's facts are
varied where the rules can tell a difference (the numbers their count tests
compare with, the values their choice tests name) and re-decided through the
same engine. A claims system can then modify a request instead of denying it,
and a denial can say what documentation would change it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..case.model import Case
from ..evaluation.compile import Branch, effect_test
from ..packs.conditions import AT_LEAST_SUFFIX, FACTS, Test
from ..evaluation.outcome import Outcome
from .changes import describe, rank
from .decision import Alternative
from ..evaluation.facets import (
    CAPPED,
    POSTSURGICAL_TREATMENTS,
    Facet,
    diagnosis_groups,
    documented_prior_visits,
    prior_courses,
    visit_counts,
)
from ..vocabulary import NO_PRIOR_VISITS, NOT_SPECIFIED, label

MAX_VISITS = 1000
MAX_ROUNDS = 4
_FIXED = frozenset({"treatment", "weeks_since_injury", "total_visits"})
_KNOWN_PRIOR = "_documented_prior"  # carried with a facet's facts while searching
_UNDATED = "_prior_undated"  # likewise: documenting the prior count cannot settle it

Decide = Callable[[list[Facet]], tuple[Outcome, list[tuple[Facet, Branch]]]]


@dataclass(frozen=True)
class _Option:
    fact: str
    value: Any
    rule: str


def vary(facets: list[Facet], case: Case, changes: dict[str, Any]) -> list[Facet]:
    """The item's facets with `changes` applied (a fact name -> new value)."""
    out = []
    excluded = changes.get("exclude_body_region", ())
    for facet in facets:
        if facet.body_region in excluded:
            continue
        facts = dict(facet.facts)
        region = facet.body_region
        groups = facet.diagnosis_groups
        for fact, value in changes.items():
            if fact == "body_region":
                if region == NOT_SPECIFIED:
                    region = value
                    facts["body_region"] = value
                    groups = diagnosis_groups(case, value)
            elif fact != "exclude_body_region":
                facts[fact] = value
                if fact in ("visits_requested", "visits_to_date") and value is not None:
                    facts[fact + AT_LEAST_SUFFIX] = value
        # The statutory count (Labor Code 4604.5) reads the same prior courses
        # as visits_to_date unless a postsurgical period sets some apart: then
        # documenting the prior visits documents its prior visits too.
        if changes.get("visits_to_date") is not None and _cap_counts_prior(case, facts):
            facts["prior_injury_visits"] = facts["prior_injury_visits" + AT_LEAST_SUFFIX] = changes["visits_to_date"]
        facts.update(visit_counts(facts))
        out.append(Facet(facet.item_index, region, facts, groups, facet.notes))
    return out


def _cap_counts_prior(case: Case, facts: dict[str, Any]) -> bool:
    """Whether the statutory count reads the same prior courses as visits_to_date:
    a capped treatment, outside a postsurgical period, with no dated listed
    surgery whose period would set some courses apart."""
    surgery = case.surgery
    split = surgery is not None and surgery.date is not None and surgery.procedure.value != "other"
    return facts["treatment"] in CAPPED and facts["postsurgical_period"] != "within" and not split


def supported_visits(decide: Decide, facets: list[Facet], case: Case, bounds: dict, changes: dict | None = None) -> int | None:
    """The most visits the rules support for this item as the case stands
    (0 when none; None when no rule sets an upper bound)."""
    changes = dict(changes or {})
    changes.pop("visits_requested", None)
    base = vary(facets, case, changes)
    if not base:
        return 0
    prior = base[0].facts["visits_to_date"]
    candidates = {0, 1}
    for v in bounds.get("total_visits", ()):
        if prior is not None:
            candidates.update((v - prior, v - prior + 1))
    for v in bounds.get("visits_requested", ()):
        candidates.update((v, v + 1))
    capped = base[0].facts.get("injury_visits")
    if capped is not None:  # the statutory cap's numbers, less the visits it already counts
        capped_prior = capped - (base[0].facts["visits_requested"] or 0)
        candidates.update(c for v in bounds.get("injury_visits", ()) for c in (v - capped_prior, v - capped_prior + 1))
    # A request is for at least one visit; 0 supported means none is.
    candidates = {c for c in candidates if 1 <= c <= MAX_VISITS}
    beyond = max(candidates) + 1

    def works(r: int) -> bool:
        return decide(vary(base, case, {"visits_requested": r}))[0] is Outcome.OVERTURNED

    # Asking for fewer visits never turns a supported item into an unsupported
    # one (a property tested for every shipped pack), so the answer is found by
    # bisection over the thresholds instead of trying each of them.
    ordered = sorted(candidates)
    if not works(ordered[0]):
        return 0
    if works(beyond):
        return None
    lo, hi = 0, len(ordered) - 1  # ordered[lo] works; look for the last that does
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if works(ordered[mid]):
            lo = mid
        else:
            hi = mid - 1
    return ordered[lo]


def alternatives(
    decide: Decide,
    facets: list[Facet],
    case: Case,
    bounds: dict,
    failing: list[tuple[Facet, Branch]],
    supported: int | None,
) -> list[Alternative]:
    """Sets of changes, each of which turns this upheld item into an overturned one."""
    found: list[dict[str, Any]] = []
    requested = facets[0].facts["visits_requested"]
    if supported and (requested is None or supported < requested):
        found.append({"visits_requested": supported})
    search = _search(decide, facets, case, bounds, failing)
    if search is not None and search not in found:
        found.append(search)
    treatment = label(facets[0].facts["treatment"])
    rules = _upholding_rules(failing)
    return [describe(changes, treatment, rules) for changes in found]


def _search(decide: Decide, facets: list[Facet], case: Case, bounds: dict, failing: list) -> dict[str, Any] | None:
    chosen: dict[str, Any] = {}
    least = _documented_prior(case, facets)
    for _ in range(MAX_ROUNDS):
        options = [
            o for f, b in failing for o in _options(f, b, case, bounds, facets, least) if o.fact not in chosen
        ]
        if not options:
            return None
        for option in sorted(options, key=lambda o: rank(o.fact)):
            if option.fact == "exclude_body_region":
                chosen.setdefault("exclude_body_region", ())
                if option.value not in chosen["exclude_body_region"]:
                    chosen["exclude_body_region"] += (option.value,)
            else:
                chosen.setdefault(option.fact, option.value)
        varied = vary(facets, case, chosen)
        if not varied:
            return None
        outcome, failing = decide(varied)
        if outcome is Outcome.OVERTURNED:
            return _minimise(decide, facets, case, bounds, chosen)
    return None


def _minimise(decide: Decide, facets: list[Facet], case: Case, bounds: dict, chosen: dict[str, Any]) -> dict[str, Any]:
    def works(changes: dict[str, Any]) -> bool:
        varied = vary(facets, case, changes)
        return bool(varied) and decide(varied)[0] is Outcome.OVERTURNED

    for fact in sorted(chosen, key=rank, reverse=True):
        trial = {k: v for k, v in chosen.items() if k != fact}
        if works(trial):
            chosen = trial
    # Counts: the largest value that still works ("at most N prior visits").
    if "visits_to_date" in chosen:
        least = _documented_prior(case, facets)
        for value in sorted((v for v in _count_candidates(bounds, facets, "visits_to_date") if v >= least), reverse=True):
            if value > chosen["visits_to_date"] and works({**chosen, "visits_to_date": value}):
                chosen["visits_to_date"] = value
                break
    if "visits_requested" in chosen:
        best = supported_visits(decide, facets, case, bounds, chosen)
        if best:
            chosen["visits_requested"] = best
    return chosen


def _count_candidates(bounds: dict, facets: list[Facet], fact: str) -> set[int]:
    requested = facets[0].facts["visits_requested"] or 0
    values = {0}
    for v in bounds.get(fact, ()):
        values.update((v, v + 1))
    if fact == "visits_to_date":
        for v in bounds.get("total_visits", ()):
            values.update((v - requested, v - requested + 1))
    return {v for v in values if 0 <= v <= MAX_VISITS}


def _options(facet: Facet, branch: Branch, case: Case, bounds: dict, facets: list[Facet], least: int) -> Iterable[_Option]:
    rule = branch.rule
    facts = {**facet.facts, _KNOWN_PRIOR: least, _UNDATED: _prior_undated(case, facets)}
    if branch.branch == "undetermined":
        for test in branch.conditions:
            if test.holds(facts) is None:
                yield from _documenting(test.fact, rule.id, case, bounds, facets)
        return
    if rule.effect == "not_recommended":
        regions = rule.applies_to.body_region
        if regions and len(facets) > 1 and facet.body_region in {r.value for r in regions}:
            yield _Option("exclude_body_region", facet.body_region, rule.id)
        for test in branch.when:
            yield from _making(test, False, rule.id, facts, bounds)
        return
    effect = effect_test(rule)
    if effect is None:
        return
    if branch.branch == "unknown":
        yield from _documenting(effect.fact, rule.id, case, bounds, facets)
    else:
        yield from _making(effect, True, rule.id, facts, bounds)
    for when in branch.when:  # or make the rule not apply (e.g. stay within a trial)
        yield from _making(when, False, rule.id, facts, bounds)


def _settled(fact: str) -> bool:
    """Facts no alternative changes: the dates and what derives from them, and
    the request's own frequency and duration (changing those is a new request,
    not documentation)."""
    spec = FACTS.get(fact)
    return spec is not None and (spec.stated_only or spec.derived)


def _documenting(fact: str, rule: str, case: Case, bounds: dict, facets: list[Facet]) -> Iterable[_Option]:
    """Values that would document an unknown fact."""
    if (fact in _FIXED and fact != "total_visits") or _settled(fact):
        return
    first = facets[0].facts
    if fact == "total_visits" and first["visits_to_date"] is not None and first["visits_requested"] is None:
        # The prior visits are known; it is the request (hours with no session
        # count) that leaves the total open: state the sessions.
        least = first["visits_requested" + AT_LEAST_SUFFIX]
        for v in sorted(_count_candidates(bounds, facets, "visits_requested") | {least}, reverse=True):
            if v >= max(least, 1):
                yield _Option("visits_requested", v, rule)
        return
    if fact in ("total_visits", "visits_to_date", "injury_visits"):
        # Documenting the unknown count: at the least, the visits already documented.
        # The statutory count reads the same courses unless a postsurgical period
        # sets some apart (vary() settles it only then).
        if not _prior_undated(case, facets):
            yield _Option("visits_to_date", _documented_prior(case, facets), rule)
        return
    if fact == "visits_requested":
        return
    if fact == "body_region":
        named = [str(r) for d in case.diagnoses for r in d.body_regions]
        for region in dict.fromkeys(named or FACTS["body_region"].values):
            if region != NOT_SPECIFIED:
                yield _Option("body_region", region, rule)
        return
    if fact == "functional_improvement" and not _history_for(case, facets):
        return
    spec = FACTS[fact]
    for value in spec.values:
        if value != spec.unknown:
            yield _Option(fact, value, rule)


def _making(test: Test, wanted: bool, rule: str, facts: dict, bounds: dict) -> Iterable[_Option]:
    """Values of the test's fact that make the test come out `wanted`."""
    spec = FACTS[test.fact]
    if (test.fact in _FIXED and test.fact != "total_visits") or _settled(test.fact):
        return
    if test.fact == "functional_improvement" and facts.get("functional_improvement") == NO_PRIOR_VISITS:
        return  # there are no prior visits whose improvement could be documented
    if spec.kind == "count":
        prior, requested = facts["visits_to_date"], facts["visits_requested"]
        if test.fact == "total_visits":
            if prior is not None:
                for r in sorted({test.value - prior, test.value - prior + 1}, reverse=True):
                    if 1 <= r <= MAX_VISITS and test.holds({"total_visits": prior + r}) is wanted:
                        yield _Option("visits_requested", r, rule)
            if prior is None and not facts.get(_UNDATED):  # an unknown count can be documented; a documented one is not changed
                asked = requested or 1
                least = facts.get(_KNOWN_PRIOR, 0)
                for p in sorted({test.value - asked, test.value - asked + 1}, reverse=True):
                    if least <= p <= MAX_VISITS and test.holds({"total_visits": p + asked}) is wanted:
                        yield _Option("visits_to_date", p, rule)
        elif test.fact == "visits_requested" or (test.fact == "visits_to_date" and prior is None and not facts.get(_UNDATED)):
            least = 1 if test.fact == "visits_requested" else facts.get(_KNOWN_PRIOR, 0)
            for v in sorted({test.value, test.value + 1}, reverse=True):
                if least <= v <= MAX_VISITS and test.holds({test.fact: v}) is wanted:
                    yield _Option(test.fact, v, rule)
        return
    for value in spec.values:
        if value == spec.unknown and value not in test.wanted():
            continue  # "not documented" is never proposed, unless the test itself asks for it
        if value == NO_PRIOR_VISITS:
            continue  # a fact of the history, not something to document
        if value != facts.get(test.fact) and test.holds({test.fact: value}) is wanted:
            yield _Option(test.fact, value, rule)


def _prior_undated(case: Case, facets: list[Facet]) -> bool:
    """Within a postsurgical period, whether a prior course may or may not have
    followed the surgery (it has no start date, or the surgery has none): the
    count since the surgery is then a range that documenting visits does not
    settle, so no change of the count is proposed."""
    facts = facets[0].facts
    if facts["postsurgical_period"] != "within" or facts["treatment"] not in POSTSURGICAL_TREATMENTS:
        return False
    undated_surgery = case.surgery is None or case.surgery.date is None
    return any((undated_surgery or c.start_date is None) and c.visits != 0 for c in _history_for(case, facets))


def case_key(case: Case, facets: list[Facet]) -> tuple:
    """What the search reads of the case beyond the facets' facts and prior
    counts (part of the what-if memo key): whether prior courses can be placed
    against the surgery, and whether the statutory count follows the prior count."""
    return _prior_undated(case, facets), _cap_counts_prior(case, facets[0].facts)


def _history_for(case: Case, facets: list[Facet]) -> list:
    return prior_courses(case, case.requested_items[facets[0].item_index].treatment)


def _documented_prior(case: Case, facets: list[Facet]) -> int:
    """Prior visits the record already documents for this treatment."""
    return documented_prior_visits(_history_for(case, facets))


def _upholding_rules(failing: list[tuple[Facet, Branch]]) -> list[str]:
    return list(dict.fromkeys(b.rule.id for _, b in failing))
