"""From a case to the facts each rule is tested against.

An item is decided region by region (a request is medically necessary only if
it is for every region it covers), so each item becomes one "facet" per body
region. A facet's facts are plain values, with None for a count the record
does not give.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .case import Case, PriorTreatment, RequestedItem
from .vocabulary import NOT_DOCUMENTED, NOT_SPECIFIED, Documented, Treatment, counted_with, label


@dataclass
class Facet:
    item_index: int
    body_region: str
    facts: dict[str, Any]
    diagnosis_groups: frozenset[str]
    notes: list[str] = field(default_factory=list)
    key: tuple = ()  # the facts the rules read, set when the facet is matched


def item_regions(case: Case, item: RequestedItem) -> tuple[list[str], str | None]:
    """The item's regions, and a note when they were taken from the diagnoses.

    An item that names no region takes the region of the diagnoses only when
    every diagnosis names the same single region (seed 002: all diagnoses are
    lumbar, so "myofascial release" is for the lumbar spine); otherwise the
    region stays not specified.
    """
    if item.body_regions != NOT_SPECIFIED:
        return [str(r) for r in item.body_regions], None
    regions = {str(r) for d in case.diagnoses for r in d.body_regions}
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


def prior_course(case: Case, item: RequestedItem) -> tuple[int | None, str]:
    """Visits of this treatment already completed (None: not documented), and
    whether they produced objective functional improvement."""
    courses = prior_courses(case, item.treatment)
    if any(c.visits == NOT_DOCUMENTED for c in courses):
        visits = None
    else:
        visits = sum(c.visits for c in courses)  # type: ignore[misc]
    answers = {c.functional_improvement for c in courses}
    if Documented.YES in answers:
        improvement = Documented.YES.value
    elif Documented.NO in answers:
        improvement = Documented.NO.value
    else:
        improvement = NOT_DOCUMENTED
    return visits, improvement


def diagnosis_groups(case: Case, region: str) -> frozenset[str]:
    """Diagnosis groups that bear on a region: diagnoses of that region or of
    none in particular (all of them when the region is not specified)."""
    return frozenset(
        str(d.group)
        for d in case.diagnoses
        if d.group and (region == NOT_SPECIFIED or not d.body_regions or region in d.body_regions)
    )


def facets(case: Case) -> list[Facet]:
    out: list[Facet] = []
    weeks = (case.request_date - case.date_of_injury).days // 7
    for index, item in enumerate(case.requested_items):
        regions, region_note = item_regions(case, item)
        visits_to_date, improvement = prior_course(case, item)
        requested = item.visits
        notes = [item.rfa.describe()] if item.rfa else []
        if region_note:
            notes.append(region_note)
        if visits_to_date == 0 and not prior_courses(case, item.treatment):
            notes.append(f"No prior {label(item.treatment)} is documented; the request is assessed as a first course.")
        if requested is None:
            notes.append("The request states no quantity; only visits within the guideline are supported.")
        total = None if visits_to_date is None else visits_to_date + (requested or 0)
        for region in regions:
            groups = diagnosis_groups(case, region)
            out.append(
                Facet(
                    item_index=index,
                    body_region=region,
                    # Enum members are str subclasses: they compare, hash and
                    # serialise as their values, so no `.value` lookups here.
                    facts={
                        "treatment": item.treatment,
                        "body_region": region,
                        "visits_to_date": visits_to_date,
                        "visits_requested": requested,
                        "total_visits": total,
                        "functional_improvement": improvement,
                        "care_stage": case.care_stage,
                        "home_exercise": case.home_exercise,
                        "work_status": case.work_status,
                        "purpose": item.purpose,
                        "weeks_since_injury": weeks,
                    },
                    diagnosis_groups=groups,
                    notes=notes,
                )
            )
    return out
