"""Properties that must hold for every shipped rule pack, on generated cases.

The cases come from `mtus_rules.testing`, the strategies rule-pack authors use
for their own packs. Each property is one a reviewer relies on: documenting
more of what a guideline asks for never turns a necessary request into an
unnecessary one, asking for less never does either, the same case gets the
same decision, and bad input is reported at the field that is wrong.

The default run is bounded (a few seconds per property). For a long run:

    MTUS_HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/test_properties.py

The profiles are applied to these tests only, through the environment variable,
so they do not change the settings of any other test module.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from mtus_rules import CaseError, Decision, Engine, Outcome, Treatment, apply_alternative
from mtus_rules.case import Hours
from mtus_rules.testing import case_dicts, invalid_case_dicts
from mtus_rules.vocabulary import NOT_DOCUMENTED, NOT_SPECIFIED, counted_with

settings.register_profile(
    "mtus-quick",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile(os.environ.get("MTUS_HYPOTHESIS_PROFILE", "mtus-quick"))

# Compiled once; evaluate is thread-safe and deterministic.
ENGINE = Engine()
# A second engine with no memo: its decisions must be the same, byte for byte.
SECOND_ENGINE = Engine(cache_size=0)

UPHELD, OVERTURNED = Outcome.UPHELD, Outcome.OVERTURNED


# -- helpers -------------------------------------------------------------------------


def family(case: dict[str, Any], index: int) -> set[str]:
    """The treatments whose prior visits count with the item's treatment."""
    return {t.value for t in counted_with(Treatment(case["requested_items"][index]["treatment"]))}


def courses_of(case: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """The item's prior courses (shared with items of the same or a counted-together treatment)."""
    names = family(case, index)
    return [c for c in case.get("treatment_history", []) if c["treatment"] in names]


def outcome(case: dict[str, Any], index: int) -> Outcome:
    return ENGINE.evaluate(case).items[index].outcome


def requested_total(quantity: Any) -> int | None:
    if quantity == NOT_SPECIFIED:
        return None
    if "visits" in quantity:
        return quantity["visits"]
    if "per_week" in quantity:
        return quantity["per_week"] * quantity["weeks"]
    return Hours.model_validate(quantity).total  # None: hours that do not say how many sessions


def compare(before: dict[str, Any], after: dict[str, Any], index: int) -> tuple[Outcome, Outcome]:
    first, second = ENGINE.evaluate(before), ENGINE.evaluate(after)
    note(f"before: {first.items[index].outcome} {first.items[index].rules}\n{first.items[index].rationale}")
    note(f"after:  {second.items[index].outcome} {second.items[index].rules}\n{second.items[index].rationale}")
    return first.items[index].outcome, second.items[index].outcome


item_case = st.tuples(case_dicts(), st.data())


def draw_index(case: dict[str, Any], data: st.DataObject) -> int:
    return data.draw(st.integers(0, len(case["requested_items"]) - 1), label="item index")


# -- a. every valid case is decided -------------------------------------------------


@PROFILE
@given(case_dicts(), st.booleans())
def test_every_valid_case_is_decided_item_by_item(case, what_if):
    decision = ENGINE.evaluate(case, what_if=what_if)
    items = case["requested_items"]
    assert len(decision.items) == len(items)
    for index, (decided, item) in enumerate(zip(decision.items, items)):
        assert decided.index == index
        assert decided.description == item["description"]
        assert decided.treatment == item["treatment"]
        assert decided.outcome in set(Outcome)
        assert (decided.what_if is not None) is what_if


# -- b. documenting functional improvement never hurts ------------------------------


@PROFILE
@given(case_dicts(), st.data())
def test_documenting_functional_improvement_never_upholds_an_overturned_item(case, data):
    index = draw_index(case, data)
    before = copy.deepcopy(case)
    if not courses_of(before, index):
        # Give the item a prior course whose improvement is not (yet) shown.
        before.setdefault("treatment_history", []).append(
            {
                "treatment": before["requested_items"][index]["treatment"],
                "visits": data.draw(st.one_of(st.integers(0, 24), st.just(NOT_DOCUMENTED)), label="visits"),
                "functional_improvement": data.draw(st.sampled_from(["no", NOT_DOCUMENTED]), label="improvement"),
            }
        )
    after = copy.deepcopy(before)
    for course in courses_of(after, index):
        course["functional_improvement"] = "yes"
    was, now = compare(before, after, index)
    assert not (was is OVERTURNED and now is UPHELD)


# -- c. more prior visits never makes an item necessary -----------------------------


@PROFILE
@given(case_dicts(), st.data())
def test_more_prior_visits_never_overturns_an_upheld_item(case, data):
    index = draw_index(case, data)
    before = copy.deepcopy(case)
    counted = [c for c in courses_of(before, index) if isinstance(c.get("visits"), int)]
    if not counted:
        course = {
            "treatment": data.draw(st.sampled_from(sorted(family(before, index))), label="course treatment"),
            "visits": data.draw(st.integers(0, 24), label="visits"),
        }
        before.setdefault("treatment_history", []).append(course)
    after = copy.deepcopy(before)
    counted = [c for c in courses_of(after, index) if isinstance(c.get("visits"), int)]
    course = data.draw(st.sampled_from(counted), label="course raised")
    course["visits"] = min(course["visits"] + data.draw(st.integers(1, 30), label="more visits"), 1000)
    was, now = compare(before, after, index)
    assert not (was is UPHELD and now is OVERTURNED)


# -- d. asking for fewer visits never makes an item unnecessary ---------------------


@PROFILE
@given(case_dicts(), st.data())
def test_fewer_requested_visits_never_upholds_an_overturned_item(case, data):
    index = draw_index(case, data)
    before = copy.deepcopy(case)
    item = before["requested_items"][index]
    total = requested_total(item.get("quantity", NOT_SPECIFIED))
    if total is None or total < 2:
        total = data.draw(st.integers(2, 30), label="requested visits")
        item["quantity"] = {"visits": total}
    after = copy.deepcopy(before)
    fewer = data.draw(st.integers(1, min(total - 1, 1000)), label="fewer visits")  # a request is at most 1000
    after["requested_items"][index]["quantity"] = {"visits": fewer}
    was, now = compare(before, after, index)
    assert not (was is OVERTURNED and now is UPHELD)


# -- e. same input, same output --------------------------------------------------------


@PROFILE
@given(case_dicts(), st.booleans())
def test_same_case_same_decision(case, what_if):
    first = ENGINE.evaluate(case, what_if=what_if).model_dump_json()
    assert ENGINE.evaluate(copy.deepcopy(case), what_if=what_if).model_dump_json() == first
    assert SECOND_ENGINE.evaluate(copy.deepcopy(case), what_if=what_if).model_dump_json() == first


# -- f. a decision survives JSON ------------------------------------------------------


@PROFILE
@given(case_dicts(), st.booleans())
def test_decision_survives_a_json_round_trip(case, what_if):
    decision = ENGINE.evaluate(case, what_if=what_if)
    assert Decision.model_validate_json(decision.model_dump_json()) == decision


# -- g. bad input names the field that is wrong ---------------------------------------


@PROFILE
@given(invalid_case_dicts())
def test_invalid_case_is_reported_at_its_field(bad):
    data, location = bad
    note(f"expected a problem at {location!r}")
    with pytest.raises(CaseError) as info:  # any other exception fails the test
        ENGINE.evaluate(data)
    locations = [p.location for p in info.value.problems]
    assert location in locations, f"no problem at {location!r}; got {info.value}"


# -- h. what would be supported is supported -------------------------------------------


@PROFILE
@given(case_dicts())
def test_what_if_answers_are_supported(case):
    decision = ENGINE.evaluate(case, what_if=True)
    in_force = ENGINE.pack_for(decision.request_date) is not None
    for index, item in enumerate(decision.items):
        assert item.what_if is not None
        if item.outcome is UPHELD:
            for alternative in item.what_if.alternatives:
                changed = apply_alternative(case, index, alternative)
                after = ENGINE.evaluate(changed).items[index]
                note(f"item {index} alternative: {alternative.text}")
                assert after.outcome is OVERTURNED, (
                    f"item {index}: applying {alternative.text!r} gives {after.outcome}: {after.rationale}"
                )
        supported = item.what_if.supported_visits
        if in_force and supported is not None and supported >= 1:
            changed = copy.deepcopy(case)
            changed["requested_items"][index]["quantity"] = {"visits": supported}
            after = ENGINE.evaluate(changed).items[index]
            note(f"item {index} supported_visits: {supported}")
            assert after.outcome is OVERTURNED, (
                f"item {index}: {supported} visits (supported_visits) gives {after.outcome}: {after.rationale}"
            )


# -- i. the explain trace is a second evaluator ----------------------------------------


@PROFILE
@given(case_dicts())
def test_explain_trace_reaches_the_engines_decision(case):
    """The trace is computed in plain Python from the rule pack, without
    durable_rules; its deciding rules and outcome must equal the engine's."""
    decision, trace = ENGINE.evaluate(case), ENGINE.explain(case)
    assert [(i.outcome, i.rules) for i in decision.items] == [(t.outcome, t.deciding_rules) for t in trace.items]
