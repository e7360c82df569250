"""From a case to the facts each rule is tested against.

An item is decided region by region (a request is medically necessary only if
it is for every region it covers), so each item becomes one "facet" per body
region. A facet's facts are plain values, with None for a count the record
does not give.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple, cast

from ..case import derived
from ..case.model import Case, Frequency, Hours, PriorTreatment, RequestedItem, Visits
from ..packs.conditions import AT_LEAST_SUFFIX
from ..vocabulary import (
    NO_PRIOR_VISITS,
    NOT_DOCUMENTED,
    NOT_SPECIFIED,
    HOME_DEVICES,
    BodyRegion,
    POSTSURGICAL_PERIOD_MONTHS,
    DiagnosisGroup,
    Documented,
    PostsurgicalPeriod,
    Treatment,
    counted_with,
    label,
)

#: Treatments Labor Code 4604.5 caps at 24 visits per injury, each counted on
#: its own (chiropractic is manipulation here; aquatic therapy is physical
#: therapy; guidelines.md 1.4, 10.6).
CAPPED = frozenset({Treatment.MANIPULATION, Treatment.PHYSICAL_THERAPY, Treatment.AQUATIC_THERAPY, Treatment.OCCUPATIONAL_THERAPY})

#: The physical medicine the postsurgical schedule governs within a period
#: (8 CCR 9792.24.3, guidelines.md 10.6): only for these do the counts start at
#: the surgery. Any other treatment is decided by the other MTUS rules, which
#: count every prior visit.
POSTSURGICAL_TREATMENTS = frozenset({Treatment.PHYSICAL_THERAPY, Treatment.AQUATIC_THERAPY, Treatment.OCCUPATIONAL_THERAPY})


@dataclass
class Facet:
    item_index: int
    body_region: str
    facts: dict[str, Any]
    diagnosis_groups: frozenset[str]
    notes: list[str] = field(default_factory=list)
    key: tuple = ()  # the facts the rules read, set when the facet is matched
    derived_notes: dict[str, derived.Derived] = field(default_factory=dict)  # fact -> how it was derived


def item_regions(case: Case, item: RequestedItem) -> tuple[list[str], str | None]:
    """The item's regions, and a note when they were taken from the diagnoses.

    An item that names no region takes the region of the diagnoses only when
    every diagnosis names the same single region (seed 002: all diagnoses are
    lumbar, so "myofascial release" is for the lumbar spine); otherwise the
    region stays not specified.
    """
    if item.body_regions != NOT_SPECIFIED:
        return [_REGION_NAMES[r] for r in item.body_regions], None
    regions = {_REGION_NAMES[r] for d in case.diagnoses for r in d.body_regions}
    if len(regions) == 1 and case.diagnoses and all(d.body_regions for d in case.diagnoses):
        (region,) = regions
        return [region], f"The request names no body region; every diagnosis is of the {label(region)}, so the item is taken as for the {label(region)}."
    return [NOT_SPECIFIED], None


def prior_courses(case: Case, treatment: Treatment) -> list[PriorTreatment]:
    """The prior courses whose visits count against `treatment`'s limits
    (massage and myofascial release share one count)."""
    family = counted_with(treatment)
    return [c for c in case.treatment_history if c.treatment in family]


def documented_prior_visits(courses: list[PriorTreatment]) -> int:
    """The visits these courses document, leaving out counts not documented."""
    return sum(c.visits for c in courses if c.visits != NOT_DOCUMENTED)  # type: ignore[misc]


def _visits(courses: list[PriorTreatment], uncertain: Sequence[PriorTreatment] = ()) -> tuple[int | None, int]:
    """The visits of `courses` (None when any count is not documented, or when
    `uncertain` courses may or may not belong), and the least they can be."""
    if not courses and not uncertain:  # the usual case: nothing to count
        return 0, 0
    least = documented_prior_visits(courses)
    unknown = any(c.visits == NOT_DOCUMENTED for c in courses) or any(c.visits != 0 for c in uncertain)
    return (None if unknown else least), least


def _split_by_period(case: Case, courses: list[PriorTreatment]) -> tuple[list, list, list]:
    """Courses that started within the postsurgical period of the case's listed
    surgery, those that did not, and those whose start date cannot tell."""
    surgery = case.surgery
    if surgery is None or surgery.date is None or surgery.procedure not in POSTSURGICAL_PERIOD_MONTHS:
        return [], list(courses), []
    end = derived.add_months(surgery.date, POSTSURGICAL_PERIOD_MONTHS[surgery.procedure])
    inside, outside, undated = [], [], []
    for course in courses:
        if course.start_date is None:
            undated.append(course)
        elif surgery.date <= course.start_date <= end:
            inside.append(course)
        else:
            outside.append(course)
    return inside, outside, undated


def prior_course(case: Case, item: RequestedItem, postsurgical: bool = False) -> tuple[int | None, int, str]:
    """Visits of this treatment already completed (None: not documented), the
    least they can be, and whether they produced objective functional
    improvement. Within a postsurgical period only visits from the surgery on
    count; a course with no start date may be either, so its visits make the
    count a range."""
    return _prior_course(case, prior_courses(case, item.treatment), postsurgical)


def _prior_course(case: Case, courses: list[PriorTreatment], postsurgical: bool) -> tuple[int | None, int, str]:
    if postsurgical:
        if case.surgery is not None and case.surgery.date is None:
            # Within the period as the record states it, but the surgery has no
            # date: any prior course may have followed it, as an undated course may.
            inside: list[PriorTreatment] = []
            undated = courses
        else:
            inside, _, undated = _split_by_period(case, courses)
        visits, least = _visits(inside, undated)
        courses = inside + undated
    else:
        visits, least = _visits(courses)
    answers = {c.functional_improvement for c in courses}
    if not courses:
        improvement = NO_PRIOR_VISITS
    elif Documented.YES in answers:
        improvement = _YES
    elif Documented.NO in answers:
        improvement = _NO
    else:
        improvement = NOT_DOCUMENTED
    return visits, least, improvement


_YES, _NO = Documented.YES.value, Documented.NO.value


def injury_visits(case: Case, item: RequestedItem) -> tuple[int | None, int]:
    """Prior visits of this treatment for the injury that count against the
    statutory cap: all of them but postsurgical physical medicine within a
    postsurgical period. Chiropractic is not postsurgical physical medicine:
    every visit of it counts."""
    if item.treatment not in CAPPED:
        return 0, 0
    family = counted_with(item.treatment) & CAPPED
    return _injury_visits(case, item.treatment, [c for c in case.treatment_history if c.treatment in family])


def _injury_visits(case: Case, treatment: Treatment, courses: list[PriorTreatment]) -> tuple[int | None, int]:
    """As injury_visits, from the courses of the capped family already picked out."""
    if treatment not in POSTSURGICAL_TREATMENTS:
        return _visits(courses)
    _, outside, undated = _split_by_period(case, courses)
    return _visits(outside, undated)


class _Counted(NamedTuple):
    """What the facets read of a treatment's place in the counts, worked out
    once per treatment rather than once per item."""

    family: frozenset[Treatment]  # prior_courses: the treatments counted with it
    capped: frozenset[Treatment] | None  # injury_visits: those of them the statute caps; None when it is not capped
    same: bool  # whether the capped courses are the family's courses
    postsurgical: bool  # whether the postsurgical schedule governs it


_COUNTED = {
    t: _Counted(
        counted_with(t),
        counted_with(t) & CAPPED if t in CAPPED else None,
        t in CAPPED and counted_with(t) <= CAPPED,
        t in POSTSURGICAL_TREATMENTS,
    )
    for t in Treatment
}


def diagnosis_groups(case: Case, region: str) -> frozenset[str]:
    """Diagnosis groups that bear on a region: diagnoses of that region or of
    none in particular (all of them when the region is not specified)."""
    found = set()
    for d in case.diagnoses:
        if d.group and (region == NOT_SPECIFIED or not d.body_regions or region in d.body_regions):
            found.add(_GROUP_NAMES[d.group])
    return frozenset(found)


# The plain value of each group and region (str() of the member, without a call per diagnosis).
_GROUP_NAMES = {g: str(g) for g in DiagnosisGroup}
_REGION_NAMES = {r: str(r) for r in BodyRegion}


#: label() of each treatment, looked up once here: the note it goes in is on most requests.
_LABELS = {t: label(t) for t in Treatment}

#: The note on an item with no prior course, by treatment and whether the
#: request is within a postsurgical period (counted from the surgery).
_FIRST_COURSE = {
    (t, postsurgical): f"No prior {_LABELS[t]}{' since the surgery' if postsurgical else ''} is documented; "
    "the request is assessed as a first course."
    for t in Treatment
    for postsurgical in (False, True)
}

#: Facts read straight from the case's field of the same name.
CASE_FIELDS = (
    "home_exercise",
    "work_status",
    "cap_authorization",
    "home_program_insufficient",
    "reduced_weight_bearing",
    "other_modalities_failed",
    "functional_restoration",
    "treatment_goals",
    "device_trial_benefit",
    "four_lead_justified",
    "job_demands_unmet",
    "therapy_plateau",
    "surgery_candidate",
    "program_participation",
    "return_to_work_goal",
    "program_completed",
)


_read_case_fields = operator.attrgetter(*CASE_FIELDS)


class _Plan(NamedTuple):
    """Which of the case-wide facts a set of needs asks for (see _case_facts)."""

    fields: tuple[str, ...]  # read straight from the case (CASE_FIELDS)
    care_stage: bool
    pain_phase: bool
    postsurgical_period: bool
    surgery: bool
    weeks_since_injury: bool
    months_since_injury: bool
    injury_year: bool
    indications: tuple[str, ...]  # derived.INDICATIONS


_EVERY = _Plan(CASE_FIELDS, True, True, True, True, True, True, True, tuple(derived.INDICATIONS))


@lru_cache(maxsize=1024)
def _plan(needs: frozenset[str]) -> _Plan:
    # Worked out once per set of needs (one per mix of treatments), not per case.
    return _Plan._make((
        tuple(name for name in CASE_FIELDS if name in needs),
        *(name in needs for name in _Plan._fields[1:-1]),
        tuple(name for name in derived.INDICATIONS if name in needs),
    ))


def _case_facts(case: Case, needs: frozenset[str] | None = None) -> tuple[dict, dict[str, derived.Derived], bool]:
    """The facts that are the same for every item of a case, the notes on how
    the derived ones were reached, and whether the request falls in a
    postsurgical period. With `needs`, only the facts in it are there: the
    others are not worked out (most treatments read few of them)."""
    plan = _EVERY if needs is None else _plan(needs)
    period = derived.postsurgical_period(case)  # it also decides which prior visits count
    if needs is None:
        facts = dict(zip(CASE_FIELDS, _read_case_fields(case)))
    else:
        facts = {name: getattr(case, name) for name in plan.fields}
    notes: dict[str, derived.Derived] = {}
    if plan.care_stage:
        stage = derived.care_stage(case)
        facts["care_stage"] = stage.value
        notes["care_stage"] = stage
    if plan.pain_phase:
        phase = derived.pain_phase(case)
        facts["pain_phase"] = phase.value
        notes["pain_phase"] = phase
    if plan.postsurgical_period:
        facts["postsurgical_period"] = period.value
    if plan.surgery:
        facts["surgery"] = case.surgery.procedure.value if case.surgery else "none"
    if plan.weeks_since_injury:
        facts["weeks_since_injury"] = (case.request_date - case.date_of_injury).days // 7
    if plan.months_since_injury:
        facts["months_since_injury"] = derived.months_between(case.date_of_injury, case.request_date)
    if plan.injury_year:
        facts["injury_year"] = case.date_of_injury.year
    for name in plan.indications:
        found = derived.indication(case, name)
        facts[name] = found.value
        notes[name] = found
    if case.surgery is not None:
        notes["postsurgical_period"] = notes["surgery"] = period
    return facts, notes, period.value == PostsurgicalPeriod.WITHIN


# The names of the counts' lower bounds, made once: a name built per call is a
# new string, hashed again at every dict lookup.
_LEAST_PRIOR = "visits_to_date" + AT_LEAST_SUFFIX
_LEAST_REQUESTED = "visits_requested" + AT_LEAST_SUFFIX
_LEAST_CAPPED = "prior_injury_visits" + AT_LEAST_SUFFIX
_LEAST_TOTAL = "total_visits" + AT_LEAST_SUFFIX
_LEAST_INJURY = "injury_visits" + AT_LEAST_SUFFIX
_TOTALS = tuple(
    (total, prior, total + AT_LEAST_SUFFIX, prior + AT_LEAST_SUFFIX)
    for total, prior in (("total_visits", "visits_to_date"), ("injury_visits", "prior_injury_visits"))
)


def visit_counts(facts: dict[str, Any]) -> dict[str, Any]:
    """The count facts that sum prior and requested visits, from their parts.

    Used when a case becomes facts and again whenever a what-if changes a part,
    so a total and its lower bound never disagree with what they sum. A request
    with no quantity is measured by the visits already used; one in hours that
    do not say how many sessions is at least the sessions the hours must take."""
    requested, least_requested = facts["visits_requested"], facts[_LEAST_REQUESTED]
    sessions_unknown = requested is None and least_requested > 0
    asked = requested if requested is not None else least_requested
    out = {}
    for total, prior, least_total, least_prior in _TOTALS:
        known = facts[prior]
        out[total] = None if known is None or sessions_unknown else known + (requested or 0)
        out[least_total] = facts[least_prior] + asked
    return out


def facets(case: Case, needs: frozenset[str] | None = None) -> list[Facet]:
    """One facet per item and region. With `needs` (the facts the items' rules
    read), the facts of the case as a whole are only those in it; the item's
    own counts are always there. Without, every fact is there."""
    out: list[Facet] = []
    shared, derived_notes, within = _case_facts(case, needs)
    groups: dict[str, frozenset[str]] = {}  # by region: items of a case often share one
    history = case.treatment_history
    for index, item in enumerate(case.requested_items):
        treatment = item.treatment
        counted = _COUNTED[treatment]
        postsurgical = within and counted.postsurgical
        regions, region_note = item_regions(case, item)
        if history:
            # As prior_courses and injury_visits, in one pass over the history.
            family, capped = counted.family, counted.capped
            courses = [c for c in history if c.treatment in family]
            visits_to_date, least_prior, improvement = _prior_course(case, courses, postsurgical)
            capped_prior: int | None
            if capped is None:
                capped_prior, least_capped = 0, 0
            else:
                mine = courses if counted.same else [c for c in courses if c.treatment in capped]
                capped_prior, least_capped = _injury_visits(case, treatment, mine)
            since_last = derived.months_since_last_visit(courses, case.request_date)
        else:  # what the three above give when nothing is counted (a first course), the usual case
            visits_to_date, least_prior, improvement = 0, 0, NO_PRIOR_VISITS
            capped_prior, least_capped, since_last = 0, 0, None
        # As item.visits and item.visits_at_least, with one look at the quantity's type.
        quantity = item.quantity
        kind = type(quantity)
        hours = kind is Hours
        if kind is str or isinstance(quantity, str):
            requested, least_requested = None, 0
        elif hours:
            spent = cast(Hours, quantity)
            requested, least_requested = spent.total, spent.at_least
        else:
            requested = cast("Visits | Frequency", quantity).total
            least_requested = requested or 0
        # Hours that do not say how many sessions: the total is unknown, but
        # at least the sessions the hours must take. No quantity at all: the
        # item is measured by the visits already used.
        sessions_unknown = requested is None and hours
        notes = [item.rfa.describe()] if item.rfa else []
        if hours:
            notes.append(cast(Hours, quantity).describe())
        if region_note:
            notes.append(region_note)
        if postsurgical and case.surgery is not None and case.surgery.date is None and visits_to_date is None:
            notes.append(
                f"The date of the {label(case.surgery.procedure)} is not documented, so whether the prior "
                f"{label(item.treatment)} followed it cannot be told; those visits make the count since the surgery a range."
            )
        if improvement == NO_PRIOR_VISITS:
            notes.append(_FIRST_COURSE[treatment, postsurgical])
        if requested is None and not sessions_unknown and item.treatment not in HOME_DEVICES:
            notes.append("The request states no quantity; only visits within the guideline are supported.")
        frequency = cast(Frequency, quantity) if kind is Frequency else None
        facts = {
            # Enum members are str subclasses: they compare, hash and
            # serialise as their values, so no `.value` lookups here.
            "treatment": item.treatment,
            "visits_to_date": visits_to_date,
            _LEAST_PRIOR: least_prior,
            "visits_requested": requested,
            _LEAST_REQUESTED: least_requested,
            "prior_injury_visits": capped_prior,
            _LEAST_CAPPED: least_capped,
            "functional_improvement": improvement,
            "purpose": item.purpose,
            "visits_per_week": frequency.per_week if frequency else None,
            "weeks_requested": frequency.weeks if frequency else None,
            "device_leads": item.device_leads,
            "months_since_last_visit": since_last,
            **shared,
        }
        # visit_counts(facts), written out: it runs for every item, and a call
        # and a dict merged in cost more than the sums. test_facets_totals holds
        # the two equal.
        asked = requested if requested is not None else least_requested
        added = requested or 0
        open_total = requested is None and least_requested > 0
        facts["total_visits"] = None if visits_to_date is None or open_total else visits_to_date + added
        facts[_LEAST_TOTAL] = least_prior + asked
        facts["injury_visits"] = None if capped_prior is None or open_total else capped_prior + added
        facts[_LEAST_INJURY] = least_capped + asked
        last = len(regions) - 1
        for number, region in enumerate(regions):
            if region not in groups:
                groups[region] = diagnosis_groups(case, region)
            own = facts if number == last else facts.copy()  # the last region takes the item's dict itself
            own["body_region"] = region
            out.append(Facet(index, region, own, groups[region], notes, (), derived_notes))
    return out
