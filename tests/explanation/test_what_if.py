"""What the rules would support, and the changes that would overturn an upheld item."""

from __future__ import annotations

import json

import pytest

from mtus_rules import Outcome, apply_alternative, load_case
from mtus_rules.cli import main

from ..helpers import EXAMPLES, make_case

SEEDS = sorted(EXAMPLES.glob("seed-*.yaml"))
# No change of what the rules read helps: traction and NMES are not recommended
# whatever the facts, and seed 001's six documented massage visits already use
# the whole 4-6 visit allowance (a documented count is never rewritten).
NOTHING_HELPS = {("seed-001", 2), ("seed-002", 0), ("seed-002", 1)}


def _seed_items(engine):
    for path in SEEDS:
        case = load_case(path)
        for item in engine.evaluate(case, what_if=True).items:
            yield path.name[:8], case, item


def test_every_seed_item_reports_a_supported_quantity(engine):
    for _, _, item in _seed_items(engine):
        assert item.what_if is not None
        supported = item.what_if.supported_visits
        assert supported is None or supported >= 0
        if item.outcome is Outcome.OVERTURNED:
            assert item.what_if.alternatives == []


def test_each_alternative_really_overturns_its_seed_item(engine):
    checked = 0
    for prefix, case, item in _seed_items(engine):
        if item.outcome is not Outcome.UPHELD:
            continue
        if (prefix, item.index) in NOTHING_HELPS:
            assert item.what_if.alternatives == []
            continue
        assert item.what_if.alternatives, f"{prefix} item {item.index} has no alternative"
        for alternative in item.what_if.alternatives:
            assert alternative.rules and alternative.changes
            changed = apply_alternative(case, item.index, alternative)
            assert engine.evaluate(changed).items[item.index].outcome is Outcome.OVERTURNED, alternative.text
            checked += 1
    assert checked >= 5


def test_seed_002_myofascial_release_is_supported_up_to_six_visits(engine):
    case = load_case(next(p for p in SEEDS if p.name.startswith("seed-002")))
    assert engine.evaluate(case, what_if=True).items[2].what_if.supported_visits == 6


@pytest.mark.parametrize(
    "treatment,prior,improvement,expected",
    [
        ("massage", 2, "not_documented", 4),
        ("massage", 6, "not_documented", 0),
        ("manipulation", 6, "yes", 12),  # low back: 18 in total
        ("manipulation", 3, "no", 3),  # the 6-visit trial
        ("manipulation", "not_documented", "yes", 0),  # nothing without the prior count
        ("mechanical_traction", 0, "not_documented", 0),  # not recommended
        ("acupuncture", 0, "not_documented", 0),  # its indication (9792.24.1(a)(1)) is not documented
    ],
)
def test_supported_visits(engine, treatment, prior, improvement, expected):
    history = [{"treatment": treatment, "visits": prior, "functional_improvement": improvement}]
    case = make_case(
        {"description": "x", "treatment": treatment, "body_regions": ["lumbar"], "quantity": {"visits": 20}},
        history=history,
    )
    assert engine.evaluate(case, what_if=True).items[0].what_if.supported_visits == expected


def test_no_upper_bound_is_said_as_none(engine):
    # Physical therapy past the count with everything the count asks for documented, and the
    # statutory cap lifted in writing: no rule sets an upper bound.
    case = make_case(
        {"description": "PT", "treatment": "physical_therapy", "body_regions": ["lumbar"], "quantity": {"visits": 30}},
        history=[{"treatment": "physical_therapy", "visits": 6, "functional_improvement": "yes"}],
        home_program_insufficient="yes",
        cap_authorization="yes",
    )
    item = engine.evaluate(case, what_if=True).items[0]
    assert item.outcome is Outcome.OVERTURNED and item.what_if.supported_visits is None


def test_over_the_limit_suggests_the_supported_quantity(engine):
    case = make_case({"description": "massage x 10", "treatment": "massage", "quantity": {"visits": 10}})
    item = engine.evaluate(case, what_if=True).items[0]
    assert item.outcome is Outcome.UPHELD
    (first, *_) = item.what_if.alternatives
    assert [(c.fact, c.value) for c in first.changes] == [("visits_requested", 6)]
    assert engine.evaluate(apply_alternative(case, 0, first)).items[0].outcome is Outcome.OVERTURNED


def test_what_if_is_off_unless_asked(engine):
    case = make_case({"description": "massage", "treatment": "massage", "quantity": {"visits": 4}})
    assert engine.evaluate(case).items[0].what_if is None


def test_what_if_does_not_change_the_decision(engine):
    for path in SEEDS:
        case = load_case(path)
        plain = engine.evaluate(case).model_dump()
        full = engine.evaluate(case, what_if=True).model_dump()
        for item in full["items"]:
            item["what_if"] = None
        assert plain == full


def test_cli_json_carries_what_if_unless_turned_off(capsys):
    path = str(next(p for p in SEEDS if p.name.startswith("seed-004")))
    assert main(["evaluate", path, "--format", "json"]) == 0
    item = json.loads(capsys.readouterr().out)[0]["decision"]["items"][0]
    assert item["what_if"]["supported_visits"] == 0
    assert item["what_if"]["alternatives"][0]["changes"][0] == {
        "fact": "care_stage",
        "value": "first_evaluation",
        "text": "stage of care documented as first evaluation",
    }
    assert main(["evaluate", path, "--format", "json", "--no-what-if"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["decision"]["items"][0]["what_if"] is None


def test_what_if_answers_do_not_leak_between_cases_with_the_same_total(engine):
    """Two cases whose prior and requested visits add up to the same total read
    alike to the rules but not to the search: each gets its own answer."""
    def case(prior, requested):
        return make_case(
            {"description": "massage", "treatment": "massage", "quantity": {"visits": requested}},
            history=[{"treatment": "massage", "visits": prior}],
        )

    few_prior, many_prior = case(1, 7), case(7, 1)
    first = engine.evaluate(few_prior, what_if=True).items[0].what_if
    second = engine.evaluate(many_prior, what_if=True).items[0].what_if
    assert (first.supported_visits, second.supported_visits) == (5, 0)
    for changed_case, what_if in ((few_prior, first), (many_prior, second)):
        for alternative in what_if.alternatives:
            assert engine.evaluate(apply_alternative(changed_case, 0, alternative)).items[0].outcome is Outcome.OVERTURNED
