"""Hand-written baseline: the rules of rules/mtus-2009 (pack 0.2.0) as plain Python ifs.

A yardstick for benchmarks/bench.py, not a second implementation to ship. It
decides the same validated `Case` as `Engine.evaluate` but produces only each
item's outcome and the ids of the deciding rules (no findings, citations or
rationale text), so the engine/baseline ratio is an upper bound on what the
rule machinery and the explanation cost together.

It covers the treatments benchmarks/generate.py requests: manipulation,
massage, myofascial_release, physical_therapy, mechanical_traction and nmes
(any other treatment gets no rule here, so it must not be generated). For
them it mirrors every rule of the pack, as src/mtus_rules decides it
(derived.py, facets.py, conditions.py, compile.py, engine.py):

- rule files, in pack order (files sorted by name, rules in file order):
  electrotherapy.yaml (nmes), manipulation.yaml (recommended / regions not
  recommended / carpal tunnel / 6-visit trial / low back 18 / 8 weeks /
  maintenance / flare-up 2 visits, return to work and 4 months since the last visit), massage.yaml (6 visits;
  not in ongoing care), physical_medicine.yaml (recommended; the myalgia,
  neuritis and CRPS counts 10 / 10 / 24 with functional improvement and a home
  program reason beyond them and their 8 / 4 / 16 weeks; more than 3 visits a
  week; ODG six-visit trial and the ODG 10-visit rows), postsurgical.yaml
  (recommended within the period; per listed surgery the general course, the
  initial course and the weeks), statute.yaml (Labor Code 4604.5: 24 visits per
  injury for manipulation and physical therapy, injuries from 2004, lifted by
  written authorization), traction.yaml (low back and neck);
- derived facts: the stated care_stage wins, else ongoing_care when any prior
  course is listed or home_exercise is yes, else first_evaluation (so never
  not documented); the postsurgical period from the surgery (stated period
  wins; `other` is never within; no date: not documented; the day N months on
  is within); the surgery ("none" without one); the injury year;
- an item is decided per body-region facet; an item naming no region takes the
  diagnoses' region when every diagnosis names the same single region; the
  diagnosis groups of a facet are those of its region or of none (all of them
  when the region is not specified);
- counts, each None when unknown with a lower bound beside it: prior visits of
  the treatment's family (massage + myofascial release, physical + aquatic
  therapy); within a postsurgical period physical therapy counts only the
  courses that started from the surgery on (an undated course makes the count
  a range); total = prior + requested (a request with no quantity adds 0);
  injury visits for the cap: the family's courses outside the postsurgical
  period plus the requested (chiropractic: all of its courses); the cap bars
  only a count the record shows past 24, and chiropractic's in any period; functional_improvement is no_prior_visits when
  there is no prior course of the family (a requirement of improvement is then
  not met, not undocumented);
- three-valued tests: a count known compares; an unknown count is settled by
  its lower bound where the bound settles it ("more than" true, "at most"
  false), else unknown; visits_per_week and weeks_requested (request facts)
  are false when the request does not state them; a region-scoped rule on a
  facet whose region is not specified has an unknown region test;
- branches: a not_recommended / supports rule whose `when` is true applies; a
  limit / requires rule whose `when` is true passes, fails or is unknown; a
  rule whose `when` is unknown is undetermined (a failing finding) unless it is
  a limit or requirement already met, which then decides nothing;
- precedence: an MTUS rule that fires on a question removes the ODG rules on
  the same question. In this pack that is physical_medicine.visit_count: when
  the MTUS improvement rule of a count fires, the ODG 10-visit rows step aside
  (physical_medicine.trial is ODG only);
- facet status: fail if any failing finding; else support if any within_limit
  / recommended; else none (a criterion met supports nothing). Item: any fail
  -> upheld; all support -> overturned; else no_applicable_guideline; a request
  dated outside 2009-07-18..2017-11-30 -> no_applicable_guideline.

Deciding rule ids are listed as the engine lists them: facets in region order,
rules in pack order within a facet, duplicates dropped; failing rules for
upheld, supporting and criterion-met rules for overturned, none otherwise.
"""

from __future__ import annotations

import calendar
import datetime as _dt
from typing import Any

UPHELD = "upheld"
OVERTURNED = "overturned"
NO_GUIDELINE = "no_applicable_guideline"
ND = "not_documented"
NS = "not_specified"
NO_PRIOR = "no_prior_visits"
WITHIN = "within"
NOT_WITHIN = "not_within"

# Finding kinds
FAIL = "fail"  # not_recommended, exceeds_limit, exceeds_statutory_cap, criterion_not_met, insufficient_documentation
SUPPORT = "support"  # within_limit, recommended
MET = "met"  # criterion_met: decisive for an overturned item but not support on its own

# Rule ids, in pack order (files sorted by name, rules in file order).
NMES = "mtus.cpmtg.nmes.not_recommended"
MANIP_RECOMMENDED = "mtus.cpmtg.manipulation.recommended"
MANIP_REGIONS_NOT = "mtus.cpmtg.manipulation.regions_not_recommended"
MANIP_CARPAL = "mtus.cpmtg.manipulation.carpal_tunnel"
MANIP_TRIAL = "mtus.cpmtg.manipulation.trial"
MANIP_LOW_BACK_MAX = "mtus.cpmtg.manipulation.low_back.maximum"
MANIP_DURATION = "mtus.cpmtg.manipulation.duration"
MANIP_MAINTENANCE = "mtus.cpmtg.manipulation.maintenance"
MANIP_FLARE_VISITS = "mtus.cpmtg.manipulation.flare_up.visits"
MANIP_FLARE_WORK = "mtus.cpmtg.manipulation.flare_up.return_to_work"
MANIP_FLARE_INTERVAL = "mtus.cpmtg.manipulation.flare_up.interval"
MASSAGE_LIMIT = "mtus.cpmtg.massage.limit"
MASSAGE_ONGOING = "mtus.cpmtg.massage.ongoing_care"
PM_RECOMMENDED = "mtus.cpmtg.physical_medicine.recommended"
PM_FADING = "mtus.cpmtg.physical_medicine.fading"
ODG_PT_TRIAL = "odg.pt.six_visit_trial"
ODG_PT_DISC = "odg.pt.disc_disorder.visits"
ODG_PT_SPRAIN = "odg.pt.sprain.visits"
ODG_PT_CERVICAL_DISC = "odg.pt.cervical_disc.visits"
ODG_PT_SHOULDER = "odg.pt.shoulder.visits"
POSTSURGICAL_RECOMMENDED = "mtus.postsurgical.recommended"
CAP = "lc4604.5.visit_cap"  # physical, aquatic and occupational therapy
CHIRO_CAP = "lc4604.5.chiropractic_cap"
TRACTION = "mtus.acoem12.traction.not_recommended"
NECK_TRACTION = "mtus.acoem8.traction.not_recommended"

# The physical medicine counts (physical_medicine.yaml), in file order:
# (name, visits in the count, weeks; rule ids: within_count, improvement, home_program, weeks)
PM_COUNTS = {
    name: (visits, weeks, *(f"mtus.cpmtg.physical_medicine.{name}.{r}" for r in ("within_count", "improvement", "home_program", "weeks")))
    for name, visits, weeks in (("myalgia", 10, 8), ("neuritis", 10, 4), ("crps", 24, 16))
}
# The postsurgical schedule (postsurgical.yaml): surgery -> (general course,
# initial course, weeks of the general course, period in months; rule ids:
# general_course, initial_course, weeks).
POSTSURGICAL = {
    surgery: (general, initial, weeks, months, *(f"mtus.postsurgical.{surgery}.{r}" for r in ("general_course", "initial_course", "weeks")))
    for surgery, general, initial, weeks, months in (
        ("lumbar_discectomy_laminectomy", 16, 8, 8, 6),
        ("lumbar_fusion", 34, 17, 16, 6),
        ("rotator_cuff_repair_arthroscopic", 24, 12, 14, 6),
        ("rotator_cuff_repair_open", 30, 15, 18, 6),
        ("carpal_tunnel_release", 8, 4, 5, 3),
        ("meniscectomy", 12, 6, 12, 6),
        ("acl_repair", 24, 12, 16, 6),
        ("total_knee_arthroplasty", 24, 12, 10, 4),
    )
}

MANIP_SUPPORTED_REGIONS = frozenset({"cervical", "thoracic", "lumbar", "shoulder", "elbow", "hip", "head"})
MANIP_NOT_REGIONS = frozenset({"ankle", "foot", "knee", "forearm", "wrist", "hand"})
SPINE_LOW = frozenset({"lumbar", "thoracic"})
LOW_BACK_AND_NECK = frozenset({"lumbar", "cervical"})
NEURITIS_GROUPS = frozenset({"neuralgia_neuritis", "radiculopathy"})
RETURNED_TO_WORK = frozenset({"full_duty", "modified_duty"})
# Prior courses counted together against one limit (vocabulary.COUNTED_TOGETHER).
FAMILY = {
    "massage": frozenset({"massage", "myofascial_release"}),
    "myofascial_release": frozenset({"massage", "myofascial_release"}),
    "physical_therapy": frozenset({"physical_therapy", "aquatic_therapy"}),
}
# Labor Code 4604.5 counts of the generated treatments: family & capped treatments.
CAP_FAMILY = {
    "manipulation": frozenset({"manipulation"}),
    "physical_therapy": frozenset({"physical_therapy", "aquatic_therapy"}),
}
PACK_START = _dt.date(2009, 7, 18)  # rules/mtus-2009/pack.yaml effective period
PACK_END = _dt.date(2017, 11, 30)
CAP_FROM_YEAR = 2004
# Treatments whose rules read counts and case facts (nmes and traction read only the region).
COUNTED = frozenset({"manipulation", "massage", "myofascial_release", "physical_therapy"})
NMES_FIRED = ((NMES, FAIL),)  # no region scope, no conditions: always not recommended


# -- three-valued tests (True, False, None: unknown) ----------------------------


def _gt(value: int | None, least: int, n: int) -> bool | None:
    if value is not None:
        return value > n
    return True if least > n else None


def _ge(value: int | None, least: int, n: int) -> bool | None:
    if value is not None:
        return value >= n
    return True if least >= n else None


def _le(value: int | None, least: int, n: int) -> bool | None:
    if value is not None:
        return value <= n
    return None if least <= n else False


def _yes(answer: str) -> bool | None:
    """`fact: yes` on a yes / no / not_documented fact (no_prior_visits is a no)."""
    if answer == ND:
        return None
    return answer == "yes"


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _applies(when: bool | None, kind: str) -> str | None:
    """A not_recommended (FAIL) or supports (SUPPORT) rule."""
    if when is True:
        return kind
    return FAIL if when is None else None  # unknown: undetermined


def _check(when: bool | None, test: bool | None, met: str) -> str | None:
    """A limit (met: SUPPORT) or requires (met: MET) rule. When its `when` is
    true it passes, fails or is unknown (FAIL); when that is unknown the rule is
    undetermined (FAIL), unless its test is already met: then it decides nothing."""
    if when is False:
        return None
    if test is True:
        return met if when else None
    return FAIL


# -- derived facts ----------------------------------------------------------------


def _add_months(day: _dt.date, months: int) -> _dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return _dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _months_between(start: _dt.date, end: _dt.date) -> float:
    months = max(0, (end.year - start.year) * 12 + end.month - start.month)
    while months and _add_months(start, months) > end:
        months -= 1
    return months + (end - _add_months(start, months)).days / 32


def _months_since_last_visit(courses: list, request: _dt.date) -> float | None:
    """From the latest end date; unknown without courses or with an undated one."""
    if not courses or any(c.end_date is None for c in courses):
        return None
    last = max(c.end_date for c in courses)
    return 0.0 if last >= request else _months_between(last, request)


def _care_stage(case: Any) -> str:
    stated = case.care_stage
    if stated is not None and stated.value != ND:
        return stated.value
    if case.treatment_history or case.home_exercise.value == "yes":
        return "ongoing_care"
    return "first_evaluation"


def _postsurgical_period(case: Any) -> str:
    surgery = case.surgery
    if surgery is None or surgery.procedure.value == "other":
        return NOT_WITHIN
    if surgery.postsurgical_period is not None:
        return surgery.postsurgical_period
    if surgery.date is None:
        return ND
    if surgery.date > case.request_date:
        return NOT_WITHIN
    months = POSTSURGICAL[surgery.procedure.value][3]
    return WITHIN if _months_between(surgery.date, case.request_date) <= months else NOT_WITHIN


def _split_by_period(case: Any, courses: list) -> tuple[list, list, list]:
    """Courses started within the surgery's period, outside it, and undated."""
    surgery = case.surgery
    if surgery is None or surgery.date is None or surgery.procedure.value == "other":
        return [], courses, []
    end = _add_months(surgery.date, POSTSURGICAL[surgery.procedure.value][3])
    inside, outside, undated = [], [], []
    for course in courses:
        if course.start_date is None:
            undated.append(course)
        elif surgery.date <= course.start_date <= end:
            inside.append(course)
        else:
            outside.append(course)
    return inside, outside, undated


def _visits(courses: list, uncertain: list = ()) -> tuple[int | None, int]:
    """Visits of `courses` (None when one is not documented, or an uncertain
    course may add some), and the least they can be."""
    least = 0
    unknown = False
    for course in courses:
        if course.visits == ND:
            unknown = True
        else:
            least += course.visits
    for course in uncertain:
        if course.visits != 0:
            unknown = True
    return (None if unknown else least), least


def _improvement(courses: list) -> str:
    if not courses:
        return NO_PRIOR
    answers = {c.functional_improvement.value for c in courses}
    if "yes" in answers:
        return "yes"
    if "no" in answers:
        return "no"
    return ND


def _regions(case: Any, item: Any) -> list[str]:
    if item.body_regions != NS:
        return [r.value for r in item.body_regions]
    regions = {r.value for d in case.diagnoses for r in d.body_regions}
    if len(regions) == 1 and case.diagnoses and all(d.body_regions for d in case.diagnoses):
        return list(regions)
    return [NS]


# -- the rules, per treatment, on one facet ----------------------------------------
# Each returns (rule id, kind) for every rule that fires, in pack order.


def _manipulation(region: str, groups: set[str], f: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if region == NS:
        out.append((MANIP_RECOMMENDED, FAIL))  # undetermined
        out.append((MANIP_REGIONS_NOT, FAIL))  # undetermined
    elif region in MANIP_SUPPORTED_REGIONS:
        out.append((MANIP_RECOMMENDED, SUPPORT))
    elif region in MANIP_NOT_REGIONS:
        out.append((MANIP_REGIONS_NOT, FAIL))
    if "carpal_tunnel" in groups:
        out.append((MANIP_CARPAL, FAIL))
    kind = _check(_gt(f["total"], f["total_least"], 6), _yes(f["improvement"]), MET)
    if kind:
        out.append((MANIP_TRIAL, kind))
    lumbar = None if region == NS else region == "lumbar"
    if lumbar is not False:
        kind = _check(lumbar, _le(f["total"], f["total_least"], 18), SUPPORT)
        if kind:
            out.append((MANIP_LOW_BACK_MAX, kind))
    weeks = f["weeks"]
    if weeks is not None and weeks > 8:
        out.append((MANIP_DURATION, FAIL))
    purpose = f["purpose"]
    if purpose == "maintenance":
        out.append((MANIP_MAINTENANCE, FAIL))
    if purpose == "flare_up" and lumbar is not False:
        requested = f["requested"]
        kind = _check(lumbar, _le(requested, f["requested_least"], 2), SUPPORT)
        if kind:
            out.append((MANIP_FLARE_VISITS, kind))
        work = f["work_status"]
        kind = _check(lumbar, None if work == ND else work in RETURNED_TO_WORK, MET)
        if kind:
            out.append((MANIP_FLARE_WORK, kind))
        since = f["months_since_last_visit"]
        kind = _check(lumbar, None if since is None else since >= 4, MET)
        if kind:
            out.append((MANIP_FLARE_INTERVAL, kind))
    _cap(out, f, chiropractic=True)
    return out


def _massage(f: dict[str, Any]) -> list[tuple[str, str]]:
    out = [(MASSAGE_LIMIT, _check(True, _le(f["total"], f["total_least"], 6), SUPPORT))]
    if f["care_stage"] == "ongoing_care":
        out.append((MASSAGE_ONGOING, FAIL))
    return out  # type: ignore[return-value]


def _physical_therapy(region: str, groups: set[str], f: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    period = f["period"]
    outside = None if period == ND else period == NOT_WITHIN  # postsurgical_period: not_within
    total, least = f["total"], f["total_least"]
    weeks, per_week = f["weeks"], f["per_week"]
    improvement = _yes(f["improvement"])
    home_program = _yes(f["home_program_insufficient"])

    kind = _applies(outside, SUPPORT)
    if kind:
        out.append((PM_RECOMMENDED, kind))

    # The count that applies: CRPS, else neuralgia / neuritis / radiculitis, else myalgia.
    if "crps" in groups:
        count = PM_COUNTS["crps"]
    elif groups & NEURITIS_GROUPS:
        count = PM_COUNTS["neuritis"]
    else:
        count = PM_COUNTS["myalgia"]
    visits, max_weeks, within_id, improvement_id, home_id, weeks_id = count
    mtus_count_fired = False
    if outside is not False:
        kind = _applies(_and(outside, _le(total, least, visits)), SUPPORT)
        if kind:
            out.append((within_id, kind))
        beyond = _and(outside, _gt(total, least, visits))
        kind = _check(beyond, improvement, MET)
        if kind:
            out.append((improvement_id, kind))
            mtus_count_fired = True  # the ODG rows on physical_medicine.visit_count step aside
        kind = _check(beyond, home_program, MET)
        if kind:
            out.append((home_id, kind))
        if weeks is not None and weeks > max_weeks:
            out.append((weeks_id, FAIL))  # not recommended, or undetermined: both fail
        if per_week is not None and per_week > 3:
            out.append((PM_FADING, FAIL))

        # ODG
        kind = _check(_and(outside, _ge(f["prior"], f["prior_least"], 6)), improvement, MET)
        if kind:
            out.append((ODG_PT_TRIAL, kind))
        if not mtus_count_fired:
            within_10 = _le(total, least, 10)
            for rule, wanted_groups, regions in (
                (ODG_PT_DISC, ("disc_disorder",), SPINE_LOW),
                (ODG_PT_SPRAIN, ("sprain_strain",), LOW_BACK_AND_NECK),
                (ODG_PT_CERVICAL_DISC, ("disc_disorder",), ("cervical",)),
                (ODG_PT_SHOULDER, ("sprain_strain", "rotator_cuff"), ("shoulder",)),
            ):
                if not any(g in groups for g in wanted_groups):
                    continue
                in_region = None if region == NS else region in regions
                kind = _check(_and(in_region, outside), within_10, SUPPORT)
                if kind:
                    out.append((rule, kind))

    # The postsurgical schedule
    if period != NOT_WITHIN:
        within = None if period == ND else True
        kind = _applies(within, SUPPORT)
        if kind:
            out.append((POSTSURGICAL_RECOMMENDED, kind))
        schedule = POSTSURGICAL.get(f["surgery"])
        if schedule is not None:
            general, initial, max_weeks, _, general_id, initial_id, weeks_id = schedule
            kind = _check(within, _le(total, least, general), SUPPORT)
            if kind:
                out.append((general_id, kind))
            kind = _check(_and(within, _gt(total, least, initial)), improvement, MET)
            if kind:
                out.append((initial_id, kind))
            if weeks is not None and weeks > max_weeks:
                out.append((weeks_id, FAIL))
    _cap(out, f)
    return out


def _cap(out: list[tuple[str, str]], f: dict[str, Any], chiropractic: bool = False) -> None:
    """Labor Code 4604.5, after every guideline rule (statute.yaml sorts after them). It
    bars only what the record shows: an unknown count or period decides nothing. The
    postsurgical exemption is physical medicine's; chiropractic is capped in any period."""
    if f["injury_year"] < CAP_FROM_YEAR:
        return
    over = _gt(f["injury_total"], f["injury_least"], 24)
    if not chiropractic:
        period = f["period"]
        if period == WITHIN:
            return
        over = _and(None if period == ND else True, over)
    if over is True:
        out.append((CHIRO_CAP if chiropractic else CAP, _check(True, _yes(f["cap_authorization"]), MET)))


def _traction(region: str) -> list[tuple[str, str]]:
    out = []
    if region == NS or region in SPINE_LOW:
        out.append((TRACTION, FAIL))  # not recommended, or undetermined
    if region == NS or region == "cervical":
        out.append((NECK_TRACTION, FAIL))
    return out


# -- items -----------------------------------------------------------------------


def _shared_facts(case: Any) -> dict[str, Any]:
    """The facts that are the same for every item of a case."""
    return {
        "care_stage": _care_stage(case),
        "period": _postsurgical_period(case),
        "surgery": case.surgery.procedure.value if case.surgery else "none",
        "injury_year": case.date_of_injury.year,
        "work_status": case.work_status.value,
        "cap_authorization": case.cap_authorization.value,
        "home_program_insufficient": case.home_program_insufficient.value,
    }


def _item_facts(case: Any, item: Any, treatment: str, shared: dict[str, Any]) -> dict[str, Any]:
    family = FAMILY.get(treatment, (treatment,))
    courses = [c for c in case.treatment_history if c.treatment.value in family]
    since_last = _months_since_last_visit(courses, case.request_date)
    if treatment == "physical_therapy" and shared["period"] == WITHIN:
        # Within the postsurgical period only the visits from the surgery on count.
        if case.surgery.date is None:
            inside, undated = [], courses
        else:
            inside, _, undated = _split_by_period(case, courses)
        prior, prior_least = _visits(inside, undated)
        courses = inside + undated
    else:
        prior, prior_least = _visits(courses)
    capped = CAP_FAMILY.get(treatment)
    if capped is None:
        injury_prior, injury_prior_least = 0, 0
    elif case.surgery is None or treatment == "manipulation":
        # No surgery, or chiropractic (never postsurgical physical medicine): the cap
        # counts the same courses as the guidelines (the capped family is the family).
        injury_prior, injury_prior_least = prior, prior_least
    else:
        _, outside, undated = _split_by_period(case, [c for c in case.treatment_history if c.treatment.value in capped])
        injury_prior, injury_prior_least = _visits(outside, undated)

    quantity = item.quantity
    per_week = weeks = None
    if quantity == NS:
        requested, requested_least = None, 0
    else:
        kind = type(quantity).__name__
        if kind == "Visits":
            requested = requested_least = quantity.visits
        elif kind == "Frequency":
            per_week, weeks = quantity.per_week, quantity.weeks
            requested = requested_least = per_week * weeks
        else:  # Hours: sessions, or at least the sessions the hours must take
            requested, requested_least = item.visits, item.visits_at_least
    # Hours that do not say how many sessions leave the total open.
    sessions_unknown = requested is None and requested_least > 0
    asked = requested if requested is not None else requested_least
    return {
        **shared,
        "purpose": item.purpose.value,
        "prior": prior,
        "prior_least": prior_least,
        "improvement": _improvement(courses),
        "requested": requested,
        "requested_least": requested_least,
        "total": None if prior is None or sessions_unknown else prior + (requested or 0),
        "total_least": prior_least + asked,
        "injury_total": None if injury_prior is None or sessions_unknown else injury_prior + (requested or 0),
        "injury_least": injury_prior_least + asked,
        "per_week": per_week,
        "weeks": weeks,
        "months_since_last_visit": since_last,
    }


def decide_items(case: Any) -> list[tuple[str, list[str]]]:
    """(outcome, deciding rule ids) for each requested item of a validated Case."""
    if not PACK_START <= case.request_date <= PACK_END:
        return [(NO_GUIDELINE, []) for _ in case.requested_items]
    shared = None
    results = []
    for item in case.requested_items:
        treatment = item.treatment.value
        if treatment in COUNTED:
            if shared is None:
                shared = _shared_facts(case)
            facts = _item_facts(case, item, treatment, shared)
        any_fail = False
        all_support = True
        failing: list[str] = []
        deciding: list[str] = []
        for region in _regions(case, item):
            if treatment == "manipulation" or treatment == "physical_therapy":
                if region == NS:
                    groups = {d.group.value for d in case.diagnoses if d.group}
                else:
                    groups = {
                        d.group.value for d in case.diagnoses if d.group and (not d.body_regions or region in d.body_regions)
                    }
                if treatment == "manipulation":
                    fired = _manipulation(region, groups, facts)
                else:
                    fired = _physical_therapy(region, groups, facts)
            elif treatment == "massage" or treatment == "myofascial_release":
                fired = _massage(facts)
            elif treatment == "mechanical_traction":
                fired = _traction(region)
            elif treatment == "nmes":
                fired = NMES_FIRED
            else:
                fired = []  # not mirrored: generate.py does not request it
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
