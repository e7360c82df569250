"""Valid cases as a claims system sends them: the strategies behind
`mtus_rules.testing.case_dicts` and `cases` (the public module, with the
invalid cases, is testing.py). Needs hypothesis."""

from __future__ import annotations

import datetime as _dt
from enum import Enum
from typing import Any

from hypothesis import strategies as st

from .case.model import (
    Case,
    Claimant,
    Diagnosis,
    Frequency,
    PriorTreatment,
    RequestedItem,
    Surgery,
    Visits,
)
from .vocabulary import (
    NOT_DOCUMENTED,
    NOT_SPECIFIED,
    BodyRegion,
    CareStage,
    DiagnosisGroup,
    Documented,
    PainPhase,
    SurgicalProcedure,
    Purpose,
    Treatment,
    WorkStatus,
    counted_with,
)

#: The effective period of the bundled mtus-2009 pack (first and last day).
PACK_PERIOD: tuple[_dt.date, _dt.date] = (_dt.date(2009, 7, 18), _dt.date(2017, 11, 30))

_EARLIEST = _dt.date(1990, 1, 1)
_LATEST = _dt.date(2030, 12, 31)

#: Every field name of every model in the case format: an "unknown field" must
#: not be any of them (in any model, or a quantity could change its form).
_KNOWN_FIELDS = frozenset(
    name
    for model in (Case, Claimant, Diagnosis, PriorTreatment, Surgery, RequestedItem, Visits, Frequency)
    for name in model.model_fields
)


def _coin(draw: st.DrawFn) -> bool:
    return draw(st.booleans())


def _values(enum: type[Enum]) -> list[str]:
    return [member.value for member in enum]


def _iso(day: _dt.date) -> str:
    return day.isoformat()


# -- pieces of a valid case --------------------------------------------------------


def _maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A value from `strategy`, or None meaning "leave the optional field out"."""
    return st.one_of(st.none(), strategy)


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        data[key] = value


# Mostly the small numbers guideline limits are about; sometimes anything allowed.
_small_visits = st.integers(min_value=1, max_value=24)
_requested_visits = st.one_of(_small_visits, _small_visits, st.integers(min_value=1, max_value=1000))
_prior_visits = st.one_of(st.integers(min_value=0, max_value=24), st.integers(min_value=0, max_value=1000))

treatments = st.sampled_from(_values(Treatment))
body_regions = st.sampled_from(_values(BodyRegion))
documented = st.sampled_from(_values(Documented))

_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
    min_size=1,
    max_size=40,
)


@st.composite
def _dates(draw: st.DrawFn) -> tuple[str, str]:
    """(date_of_injury, request_date): the request mostly inside the pack period."""
    start, end = PACK_PERIOD
    outside = draw(st.integers(min_value=0, max_value=9)) == 9  # shrinks towards inside
    if outside:
        request = draw(
            st.one_of(
                st.dates(min_value=_EARLIEST + _dt.timedelta(days=4000), max_value=start - _dt.timedelta(days=1)),
                st.dates(min_value=end + _dt.timedelta(days=1), max_value=_LATEST),
            )
        )
    else:
        request = draw(st.dates(min_value=start, max_value=end))
    # Days from injury to request: the same day, weeks, or years (chronic care).
    gap = draw(st.one_of(st.integers(0, 120), st.integers(0, 400), st.integers(0, 4000)))
    injury = max(request - _dt.timedelta(days=gap), _EARLIEST)
    return _iso(injury), _iso(request)


@st.composite
def _quantity(draw: st.DrawFn) -> Any:
    form = draw(st.sampled_from(["visits", "frequency", "hours", NOT_SPECIFIED]))
    if form == "visits":
        return {"visits": draw(_requested_visits)}
    if form == "hours":
        if draw(st.booleans()):
            return {"hours": draw(st.integers(1, 160))}
        return {"sessions": draw(st.integers(1, 20)), "hours_per_session": draw(st.integers(1, 8))}
    if form == "frequency":
        per_week = draw(st.one_of(st.integers(1, 3), st.integers(1, 14)))
        weeks = draw(st.one_of(st.integers(1, 8), st.integers(1, 104)))
        return {"per_week": per_week, "weeks": weeks}
    return NOT_SPECIFIED


_regions = st.one_of(st.just(NOT_SPECIFIED), st.lists(body_regions, min_size=1, max_size=3, unique=True))


@st.composite
def _requested_item(draw: st.DrawFn) -> dict[str, Any]:
    treatment = draw(treatments)
    description = draw(st.one_of(st.just(treatment.replace("_", " ").capitalize()), _text))
    item: dict[str, Any] = {"description": description, "treatment": treatment}
    regions = draw(_regions)
    if regions != NOT_SPECIFIED or draw(st.booleans()):  # not_specified written out or left to the default
        item["body_regions"] = regions
    quantity = draw(_quantity())
    if quantity != NOT_SPECIFIED or draw(st.booleans()):
        item["quantity"] = quantity
    _put(item, "purpose", draw(_maybe(st.sampled_from(_values(Purpose)))))
    _put(item, "device_leads", draw(_maybe(st.sampled_from([2, 4]))))
    return item


_ICD10 = st.sampled_from(["M54.5", "M54.2", "S33.5XXA", "M51.26", "M79.1", "G56.00", "S13.4", "M75.1", "M541"])


@st.composite
def _diagnosis(draw: st.DrawFn) -> dict[str, Any]:
    diagnosis: dict[str, Any] = {"description": draw(st.one_of(st.just("Diagnosis"), _text))}
    _put(diagnosis, "icd10", draw(_maybe(_ICD10)))
    regions = draw(st.lists(body_regions, max_size=2, unique=True))
    # Also an empty list, sometimes (drawn apart: mypy reads `x or draw(...)` as one type).
    if regions or _coin(draw):
        diagnosis["body_regions"] = regions
    _put(diagnosis, "group", draw(_maybe(st.sampled_from(_values(DiagnosisGroup)))))
    return diagnosis


@st.composite
def _prior_course(draw: st.DrawFn, treatment: st.SearchStrategy, injury: str, request: str) -> dict[str, Any]:
    course: dict[str, Any] = {"treatment": draw(treatment)}
    visits = draw(st.one_of(_prior_visits, _prior_visits, st.just(NOT_DOCUMENTED), st.none()))
    _put(course, "visits", visits)  # left out: not documented by default
    _put(course, "functional_improvement", draw(_maybe(documented)))
    _put(course, "body_regions", draw(_maybe(_regions)))
    if draw(st.integers(0, 3)) == 3:
        first, last = _dt.date.fromisoformat(injury), _dt.date.fromisoformat(request)
        start = draw(st.dates(min_value=first, max_value=last))
        course["start_date"] = _iso(start)
        if draw(st.booleans()):
            course["end_date"] = _iso(draw(st.dates(min_value=start, max_value=last)))
    _put(course, "note", draw(_maybe(_text)))
    return course


@st.composite
def case_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Valid case dicts, as a claims system sends them (plain JSON-like values).

    1-3 requested items of every treatment; regions not specified or 1-3 of
    them; quantities as visits, as frequency and duration, or not specified;
    treatment histories that are empty, or hold courses of the requested
    treatments (and of treatments counted with them) with visit counts and
    functional improvement documented or not; diagnoses with and without a
    group and regions; stage of care, home exercise and work status including
    not documented; request dates mostly inside `PACK_PERIOD`.
    """
    injury, request = draw(_dates())
    data: dict[str, Any] = {}
    _put(data, "case_id", draw(_maybe(st.from_regex(r"[a-z0-9][a-z0-9-]{0,15}", fullmatch=True))))
    if draw(st.integers(0, 3)) == 3:
        claimant: dict[str, Any] = {}
        _put(claimant, "age", draw(_maybe(st.integers(16, 90))))
        _put(claimant, "sex", draw(_maybe(st.sampled_from(["female", "male", "other"]))))
        data["claimant"] = claimant
    data["date_of_injury"] = injury
    data["request_date"] = request

    diagnoses = draw(st.lists(_diagnosis(), max_size=3))
    if diagnoses or _coin(draw):
        data["diagnoses"] = diagnoses

    items = draw(st.lists(_requested_item(), min_size=1, max_size=3))
    requested = [item["treatment"] for item in items]
    counted = sorted({t.value for r in requested for t in counted_with(Treatment(r))})
    # Prior courses mostly of what is requested or counted with it (that is what
    # the rules count), sometimes of anything else.
    history_treatment = st.one_of(st.sampled_from(requested), st.sampled_from(counted), treatments)
    history = draw(st.lists(_prior_course(history_treatment, injury, request), max_size=4))
    if history or _coin(draw):
        data["treatment_history"] = history

    if draw(st.integers(0, 4)) == 4:
        surgery: dict[str, Any] = {"procedure": draw(st.sampled_from(_values(SurgicalProcedure)))}
        _put(surgery, "date", draw(_maybe(st.dates(min_value=_dt.date.fromisoformat(injury), max_value=_dt.date.fromisoformat(request)).map(_iso))))
        _put(surgery, "postsurgical_period", draw(_maybe(st.sampled_from(["within", "not_within"]))))
        data["surgery"] = surgery
    _put(data, "work_status", draw(_maybe(st.sampled_from(_values(WorkStatus)))))
    _put(data, "home_exercise", draw(_maybe(documented)))
    _put(data, "care_stage", draw(_maybe(st.sampled_from(_values(CareStage)))))
    _put(data, "pain_phase", draw(_maybe(st.sampled_from(_values(PainPhase)))))
    _put(data, "onset_date", draw(_maybe(st.dates(min_value=_dt.date.fromisoformat(injury), max_value=_dt.date.fromisoformat(request)).map(_iso))))
    # The yes/no facts the rules read (documented or not), a few per case.
    for name in draw(st.lists(st.sampled_from(YES_NO_FIELDS), max_size=6, unique=True)):
        data[name] = draw(documented)
    data["requested_items"] = items
    return data


#: Case fields that take yes / no / not_documented beside home_exercise.
YES_NO_FIELDS = tuple(
    name
    for name, field in Case.model_fields.items()
    if field.annotation is Documented and name != "home_exercise"
)


def cases() -> st.SearchStrategy[Case]:
    """Valid cases as validated `mtus_rules.Case` objects."""
    return case_dicts().map(Case.model_validate)
