"""Hypothesis strategies for rule-pack authors and integrators.

A rule pack is easy to get subtly wrong: a limit that a smaller request breaks,
a requirement that documenting more makes harder to meet. Property-based tests
catch that by deciding thousands of generated cases and checking what must hold
for every one of them. This module gives the generators::

    from hypothesis import given
    from mtus_rules import Engine
    from mtus_rules.testing import case_dicts, cases, invalid_case_dicts

    engine = Engine(["path/to/my-pack"])

    @given(cases())
    def test_every_item_is_decided(case):
        decision = engine.evaluate(case)
        assert len(decision.items) == len(case.requested_items)

    @given(invalid_case_dicts())
    def test_bad_input_names_its_field(bad):
        data, location = bad
        with pytest.raises(CaseError) as info:
            engine.evaluate(data)
        assert location in [p.location for p in info.value.problems]

Strategies:

- `case_dicts()`: valid cases as a claims system sends them, plain JSON-like
  values (dates as ``"YYYY-MM-DD"`` strings, enum values as their strings).
- `cases()`: the same, validated into `mtus_rules.Case` objects.
- `invalid_case_dicts()`: ``(data, location)`` pairs: a case dict with exactly
  one deliberate defect (a wrong type, an unknown field, a missing required
  field, a bad date, an unknown vocabulary value, a request dated before the
  injury) and the dotted location (``requested_items[0].quantity.visits``) the
  `CaseError` must name.

Every vocabulary value is drawn from the enums in `mtus_rules.vocabulary`, so a
treatment, region or diagnosis group added there is generated without changing
this module. Request dates fall mostly inside the bundled pack's period
(`PACK_PERIOD`) and sometimes outside it; the date of injury is never after the
request date. Counts cluster around the small numbers guideline limits use.

Hypothesis is needed only here, not by the library: install it with
``pip install 'mtus-rules[test]'``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "mtus_rules.testing needs hypothesis, which mtus-rules installs only for tests: "
        "pip install 'mtus-rules[test]'"
    ) from exc

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

__all__ = [
    "PACK_PERIOD",
    "case_dicts",
    "cases",
    "invalid_case_dicts",
]

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


def _values(enum: type) -> list[str]:
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
    if regions or draw(st.booleans()):
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
    if diagnoses or draw(st.booleans()):
        data["diagnoses"] = diagnoses

    items = draw(st.lists(_requested_item(), min_size=1, max_size=3))
    requested = [item["treatment"] for item in items]
    counted = sorted({t.value for r in requested for t in counted_with(Treatment(r))})
    # Prior courses mostly of what is requested or counted with it (that is what
    # the rules count), sometimes of anything else.
    history_treatment = st.one_of(st.sampled_from(requested), st.sampled_from(counted), treatments)
    history = draw(st.lists(_prior_course(history_treatment, injury, request), max_size=4))
    if history or draw(st.booleans()):
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


# -- one defect ----------------------------------------------------------------------


def _unknown_value(valid: list[str]) -> st.SearchStrategy[str]:
    near = [v.upper() for v in valid] + [v.replace("_", " ") for v in valid if "_" in v] + [v + "s" for v in valid]
    return st.one_of(
        st.sampled_from(sorted(set(near) - set(valid))),
        st.text(max_size=12).filter(lambda s: s not in valid),
    )


def _unknown_field(fields: list[str]) -> st.SearchStrategy[str]:
    """A misspelling of one of `fields` (a letter dropped), or any other name."""
    misspelt = sorted({f[:i] + f[i + 1 :] for f in fields for i in range(len(f))} - _KNOWN_FIELDS)
    other = st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True).filter(lambda s: s not in _KNOWN_FIELDS)
    return st.one_of(st.sampled_from(misspelt), other)


_BAD_DATES = st.one_of(
    st.sampled_from(["2014-02-30", "2013-13-01", "03/01/2014", "2014/03/01", "1 March 2014", "", "2014-3-1x"]),
    st.dates().map(lambda d: d.strftime("%m/%d/%Y")),
    st.datetimes(min_value=_dt.datetime(1990, 1, 1)).map(lambda d: d.isoformat(timespec="seconds")),
    st.integers(19900101, 20301231),
)
# Wrong types for a whole number of visits ("8" is the classic: a number in quotes).
_NOT_AN_INT = st.one_of(
    st.integers(1, 40).map(str),
    st.floats(min_value=0.5, max_value=40, allow_nan=False).filter(lambda f: not f.is_integer()),
    st.booleans(),
    st.lists(st.integers(1, 9), min_size=1, max_size=2),
)


def _defects(data: dict[str, Any]) -> list[str]:
    kinds = [
        "requested_visits_type",
        "history_visits_type",
        "unknown_field_case",
        "unknown_field_item",
        "unknown_field_course",
        "missing_case_field",
        "missing_item_field",
        "bad_date",
        "unknown_treatment",
        "unknown_item_region",
        "unknown_case_choice",
        "unknown_purpose",
        "unknown_improvement",
        "request_before_injury",
    ]
    if data.get("diagnoses"):
        kinds += ["unknown_field_diagnosis", "unknown_group", "missing_diagnosis_description"]
    if data.get("treatment_history"):
        kinds += ["missing_course_treatment"]
    return kinds


def _course_index(draw: st.DrawFn, data: dict[str, Any]) -> int:
    """An existing prior course, or a new one added for the defect to live in."""
    history = data.setdefault("treatment_history", [])
    if not history:
        history.append({"treatment": data["requested_items"][0]["treatment"], "visits": 4})
    return draw(st.integers(0, len(history) - 1))


@st.composite
def invalid_case_dicts(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """``(data, location)``: a case dict with exactly one defect, and the dotted
    location every `CaseError` for it must name (``request_date``,
    ``requested_items[1].quantity.visits``, ``treatment_history[0].functional_improvment``
    for an unknown field: the location is the field itself)."""
    data = draw(case_dicts())
    kind = draw(st.sampled_from(_defects(data)))
    items = data["requested_items"]
    i = draw(st.integers(0, len(items) - 1))
    item = items[i]

    if kind == "requested_visits_type":
        field = draw(st.sampled_from(["visits", "per_week", "weeks"]))
        quantity = {"visits": 8} if field == "visits" else {"per_week": 2, "weeks": 4}
        quantity[field] = draw(_NOT_AN_INT)
        item["quantity"] = quantity
        return data, f"requested_items[{i}].quantity.{field}"
    if kind == "history_visits_type":
        c = _course_index(draw, data)
        data["treatment_history"][c]["visits"] = draw(st.one_of(_NOT_AN_INT, st.integers(-50, -1), st.integers(1001, 5000)))
        return data, f"treatment_history[{c}].visits"
    if kind == "unknown_field_case":
        name = draw(_unknown_field(list(Case.model_fields)))
        data[name] = draw(st.one_of(st.integers(), _text, st.booleans()))
        return data, name
    if kind == "unknown_field_item":
        name = draw(_unknown_field(list(RequestedItem.model_fields)))
        item[name] = draw(st.one_of(st.integers(), _text))
        return data, f"requested_items[{i}].{name}"
    if kind == "unknown_field_course":
        c = _course_index(draw, data)
        name = draw(_unknown_field(list(PriorTreatment.model_fields)))
        data["treatment_history"][c][name] = draw(st.one_of(documented, st.integers()))
        return data, f"treatment_history[{c}].{name}"
    if kind == "unknown_field_diagnosis":
        d = draw(st.integers(0, len(data["diagnoses"]) - 1))
        name = draw(_unknown_field(list(Diagnosis.model_fields)))
        data["diagnoses"][d][name] = draw(_text)
        return data, f"diagnoses[{d}].{name}"
    if kind == "missing_case_field":
        name = draw(st.sampled_from(["date_of_injury", "request_date", "requested_items"]))
        del data[name]
        return data, name
    if kind == "missing_item_field":
        name = draw(st.sampled_from(["description", "treatment"]))
        del item[name]
        return data, f"requested_items[{i}].{name}"
    if kind == "missing_course_treatment":
        c = draw(st.integers(0, len(data["treatment_history"]) - 1))
        del data["treatment_history"][c]["treatment"]
        return data, f"treatment_history[{c}].treatment"
    if kind == "missing_diagnosis_description":
        d = draw(st.integers(0, len(data["diagnoses"]) - 1))
        del data["diagnoses"][d]["description"]
        return data, f"diagnoses[{d}].description"
    if kind == "bad_date":
        name = draw(st.sampled_from(["date_of_injury", "request_date"]))
        data[name] = draw(_BAD_DATES)
        return data, name
    if kind == "unknown_treatment":
        item["treatment"] = draw(_unknown_value(_values(Treatment)))
        return data, f"requested_items[{i}].treatment"
    if kind == "unknown_item_region":
        regions = item.get("body_regions")
        regions = list(regions) if isinstance(regions, list) else [draw(body_regions)]
        r = draw(st.integers(0, len(regions)))
        regions.insert(r, draw(_unknown_value(_values(BodyRegion))))
        item["body_regions"] = regions
        return data, f"requested_items[{i}].body_regions[{r}]"
    if kind == "unknown_case_choice":
        name, enum = draw(
            st.sampled_from([("care_stage", CareStage), ("work_status", WorkStatus), ("home_exercise", Documented)])
        )
        # null is a wrong type for a fact with a default, but for care_stage it
        # means "not stated": the engine derives it.
        wrong = [_unknown_value(_values(enum)), st.booleans()] + ([] if name == "care_stage" else [st.none()])
        data[name] = draw(st.one_of(wrong))
        return data, name
    if kind == "unknown_purpose":
        item["purpose"] = draw(_unknown_value(_values(Purpose)))
        return data, f"requested_items[{i}].purpose"
    if kind == "unknown_improvement":
        c = _course_index(draw, data)
        # YAML 1.1 reads a bare yes as True: the classic mistake.
        data["treatment_history"][c]["functional_improvement"] = draw(
            st.one_of(st.booleans(), _unknown_value(_values(Documented)))
        )
        return data, f"treatment_history[{c}].functional_improvement"
    if kind == "unknown_group":
        d = draw(st.integers(0, len(data["diagnoses"]) - 1))
        data["diagnoses"][d]["group"] = draw(_unknown_value(_values(DiagnosisGroup)))
        return data, f"diagnoses[{d}].group"
    assert kind == "request_before_injury", kind
    injury = _dt.date.fromisoformat(data["date_of_injury"])
    days = draw(st.integers(1, 3000))
    data["request_date"] = _iso(injury - _dt.timedelta(days=days))  # the same day would be allowed
    return data, "request_date"
