"""Hand-written baseline: the seed rules of rules/mtus-2009 as plain Python ifs.

A yardstick for benchmarks/bench.py, not a second implementation to ship. It
decides the same validated `Case` as `Engine.evaluate` but produces only each
item's outcome and the ids of the deciding rules (no findings, citations or
rationale text), so the engine/baseline ratio is an upper bound on what the
rule machinery and the explanation cost together.

It mirrors src/mtus_rules (facets.py, compile.py, engine.py):

- an item is decided per body-region facet; an item naming no region takes the
  diagnoses' region when every diagnosis names the same single region;
- counts: visits_to_date is None when any prior course of the treatment family
  (massage + myofascial release together) has visits not_documented; total =
  prior + requested (requested 0 when no quantity is stated);
- three-valued rule conditions: a condition on an undocumented fact, or a
  region-scoped rule on a facet whose region is not specified, makes the rule
  "undetermined" -> insufficient documentation (a failing finding);
- facet status: fail if any not_recommended / exceeds_limit / criterion_not_met
  / insufficient_documentation; else support if any within_limit / recommended;
  else none. Item: any fail -> upheld; all support -> overturned; else
  no_applicable_guideline;
- an MTUS rule on a question suppresses ODG rules on the same question. In the
  bundled pack no MTUS rule shares a question with an ODG rule
  (physical_medicine.trial and physical_medicine.visit_count are ODG only), so
  there is nothing to suppress; `_suppress_odg` keeps the step anyway.

Deciding rule ids are listed as the engine lists them: facets in region order,
rules in pack order within a facet, duplicates dropped; failing rules for
upheld, supporting and criterion-met rules for overturned, none otherwise.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

UPHELD = "upheld"
OVERTURNED = "overturned"
NO_GUIDELINE = "no_applicable_guideline"
ND = "not_documented"
NS = "not_specified"

# Finding kinds
FAIL = "fail"  # not_recommended, exceeds_limit, criterion_not_met, insufficient_documentation
SUPPORT = "support"  # within_limit, recommended
MET = "met"  # criterion_met: decisive for an overturned item but not support on its own

# Rule ids, in pack order (files sorted by name, rules in file order).
NMES = "mtus.cpmtg.nmes.not_recommended"
MANIP_RECOMMENDED = "mtus.cpmtg.manipulation.recommended"
MANIP_REGIONS_NOT = "mtus.cpmtg.manipulation.regions_not_recommended"
MANIP_CARPAL = "mtus.cpmtg.manipulation.carpal_tunnel"
MANIP_TRIAL = "mtus.cpmtg.manipulation.trial"
MANIP_LOW_BACK_MAX = "mtus.cpmtg.manipulation.low_back.maximum"
MANIP_MAINTENANCE = "mtus.cpmtg.manipulation.maintenance"
MASSAGE_LIMIT = "mtus.cpmtg.massage.limit"
MASSAGE_ONGOING = "mtus.cpmtg.massage.ongoing_care"
PM_RECOMMENDED = "mtus.cpmtg.physical_medicine.recommended"
ODG_PT_TRIAL = "odg.pt.six_visit_trial"
ODG_PT_DISC = "odg.pt.disc_disorder.visits"
TRACTION = "mtus.acoem12.traction.not_recommended"
NECK_TRACTION = "mtus.acoem8.traction.not_recommended"
MANIP_FLARE_VISITS = "mtus.cpmtg.manipulation.flare_up.visits"
MANIP_FLARE_WORK = "mtus.cpmtg.manipulation.flare_up.return_to_work"

ODG_QUESTIONS = {ODG_PT_TRIAL: "physical_medicine.trial", ODG_PT_DISC: "physical_medicine.visit_count"}
MTUS_QUESTIONS_OVERLAPPING_ODG: frozenset[str] = frozenset()  # none in the bundled pack

MANIP_SUPPORTED_REGIONS = frozenset({"cervical", "thoracic", "lumbar", "shoulder", "elbow", "hip", "head"})
MANIP_NOT_REGIONS = frozenset({"ankle", "foot", "knee", "forearm", "wrist", "hand"})
SPINE_LOW = frozenset({"lumbar", "thoracic"})
MASSAGE_FAMILY = frozenset({"massage", "myofascial_release"})
PACK_START = _dt.date(2009, 7, 18)  # rules/mtus-2009/pack.yaml effective period
PACK_END = _dt.date(2017, 11, 30)


def _regions(case: Any, item: Any) -> list[str]:
    if item.body_regions != NS:
        return [r.value for r in item.body_regions]
    regions = {r.value for d in case.diagnoses for r in d.body_regions}
    if len(regions) == 1 and case.diagnoses and all(d.body_regions for d in case.diagnoses):
        return list(regions)
    return [NS]


def _prior(case: Any, treatment: str) -> tuple[int | None, str]:
    family = MASSAGE_FAMILY if treatment in MASSAGE_FAMILY else (treatment,)
    visits: int | None = 0
    improvement = ND
    for course in case.treatment_history:
        if course.treatment.value in family:
            if course.visits == ND:
                visits = None
            elif visits is not None:
                visits += course.visits
            fi = course.functional_improvement.value
            if fi == "yes":
                improvement = "yes"
            elif fi == "no" and improvement != "yes":
                improvement = "no"
    return visits, improvement


def _requires_improvement(total: int | None, improvement: str) -> str | None:
    """`when total_visits > 6, requires functional_improvement: yes`."""
    if total is None:
        return FAIL  # undetermined: prior visits not documented
    if total <= 6:
        return None  # rule does not apply
    if improvement == "yes":
        return MET
    return FAIL  # "no": criterion not met; not documented: insufficient documentation


def _limit(total: int | None, limit: int) -> str:
    if total is None:
        return FAIL  # unknown: insufficient documentation
    return SUPPORT if total <= limit else FAIL


def _facet(
    treatment: str, region: str, groups: set[str], total: int | None, improvement: str, care_stage: str, purpose: str,
    requested: int | None = None, work_status: str = "not_documented",
) -> list[tuple[str, str]]:
    """(rule id, kind) for every rule that fires on one facet, in pack order."""
    out: list[tuple[str, str]] = []
    if treatment == "nmes":
        out.append((NMES, FAIL))
    elif treatment == "manipulation":
        if region == NS:
            out.append((MANIP_RECOMMENDED, FAIL))  # undetermined
            out.append((MANIP_REGIONS_NOT, FAIL))  # undetermined
        elif region in MANIP_SUPPORTED_REGIONS:
            out.append((MANIP_RECOMMENDED, SUPPORT))
        elif region in MANIP_NOT_REGIONS:
            out.append((MANIP_REGIONS_NOT, FAIL))
        if "carpal_tunnel" in groups:
            out.append((MANIP_CARPAL, FAIL))
        kind = _requires_improvement(total, improvement)
        if kind is not None:
            out.append((MANIP_TRIAL, kind))
        if region == NS:
            out.append((MANIP_LOW_BACK_MAX, FAIL))  # undetermined
        elif region == "lumbar":
            out.append((MANIP_LOW_BACK_MAX, _limit(total, 18)))
        if purpose == "maintenance":
            out.append((MANIP_MAINTENANCE, FAIL))
        if purpose == "flare_up" and region in (NS, "lumbar"):
            if region == NS:  # both flare-up rules are undetermined without the region
                out += [(MANIP_FLARE_VISITS, FAIL), (MANIP_FLARE_WORK, FAIL)]
            else:
                out.append((MANIP_FLARE_VISITS, FAIL if requested is None else _limit(requested, 2)))
                out.append((MANIP_FLARE_WORK, MET if work_status in ("full_duty", "modified_duty") else FAIL))
    elif treatment in MASSAGE_FAMILY:
        out.append((MASSAGE_LIMIT, _limit(total, 6)))
        if care_stage != "first_evaluation":  # ongoing_care: not recommended; not documented: undetermined
            out.append((MASSAGE_ONGOING, FAIL))
    elif treatment == "physical_therapy":
        out.append((PM_RECOMMENDED, SUPPORT))
        kind = _requires_improvement(total, improvement)
        if kind is not None:
            out.append((ODG_PT_TRIAL, kind))
        if "disc_disorder" in groups:
            if region == NS:
                out.append((ODG_PT_DISC, FAIL))  # undetermined
            elif region in SPINE_LOW:
                out.append((ODG_PT_DISC, _limit(total, 10)))
    elif treatment == "mechanical_traction":
        if region == NS or region in SPINE_LOW:
            out.append((TRACTION, FAIL))  # not recommended, or undetermined
        if region == NS or region == "cervical":
            out.append((NECK_TRACTION, FAIL))
    return out


def _suppress_odg(fired: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if not MTUS_QUESTIONS_OVERLAPPING_ODG:
        return fired
    return [(r, k) for r, k in fired if ODG_QUESTIONS.get(r) not in MTUS_QUESTIONS_OVERLAPPING_ODG]


def decide_items(case: Any) -> list[tuple[str, list[str]]]:
    """(outcome, deciding rule ids) for each requested item of a validated Case."""
    if not PACK_START <= case.request_date <= PACK_END:
        return [(NO_GUIDELINE, []) for _ in case.requested_items]
    care_stage = case.care_stage.value
    results = []
    for item in case.requested_items:
        treatment = item.treatment.value
        prior, improvement = _prior(case, treatment)
        quantity = item.quantity
        requested = 0 if quantity == NS else quantity.total
        total = None if prior is None else prior + requested
        purpose = item.purpose.value
        any_fail = False
        all_support = True
        failing: list[str] = []
        deciding: list[str] = []
        for region in _regions(case, item):
            if region == NS:
                groups = {d.group.value for d in case.diagnoses if d.group}
            else:
                groups = {d.group.value for d in case.diagnoses if d.group and (not d.body_regions or region in d.body_regions)}
            fired = _suppress_odg(_facet(
                treatment, region, groups, total, improvement, care_stage, purpose,
                None if quantity == NS else quantity.total, case.work_status.value,
            ))
            facet_fail = False
            facet_support = False
            for rule, kind in fired:
                if kind == FAIL:
                    facet_fail = True
                    if rule not in failing:
                        failing.append(rule)
                else:
                    if kind == SUPPORT:
                        facet_support = True
                    if rule not in deciding:
                        deciding.append(rule)
            if facet_fail:
                any_fail = True
            elif not facet_support:
                all_support = False
        if any_fail:
            results.append((UPHELD, failing))
        elif all_support:
            results.append((OVERTURNED, deciding))
        else:
            results.append((NO_GUIDELINE, []))
    return results


def decide(case: Any) -> list[str]:
    """One outcome string per requested item."""
    return [outcome for outcome, _ in decide_items(case)]
