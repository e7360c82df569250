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
from enum import Enum
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    from ._resources import install_command

    raise ImportError(
        f"mtus_rules.testing needs hypothesis, which mtus-rules installs only for tests: {install_command('test')}"
    ) from exc

from .case.model import (
    Case,
    Diagnosis,
    PriorTreatment,
    RequestedItem,
)
from .vocabulary import (
    BodyRegion,
    CareStage,
    DiagnosisGroup,
    Documented,
    Purpose,
    Treatment,
    WorkStatus,
)
from ._strategies import (  # noqa: F401 - PACK_PERIOD and YES_NO_FIELDS are public here
    _KNOWN_FIELDS,
    PACK_PERIOD,
    YES_NO_FIELDS,
    _iso,
    _text,
    _values,
    body_regions,
    case_dicts,
    cases,
    documented,
)

__all__ = [
    "PACK_PERIOD",
    "case_dicts",
    "cases",
    "invalid_case_dicts",
]


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
        quantity: dict[str, Any] = {"visits": 8} if field == "visits" else {"per_week": 2, "weeks": 4}
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
        choices: list[tuple[str, type[Enum]]] = [("care_stage", CareStage), ("work_status", WorkStatus), ("home_exercise", Documented)]
        name, enum = draw(st.sampled_from(choices))
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
