"""Every numeric limit in the bundled pack, at the limit and one past it."""

from __future__ import annotations

import pytest

from .conftest import make_case, outcome


def _manipulation(prior: int, requested: int, improvement: str, region: str = "lumbar") -> dict:
    return make_case(
        {"description": "chiropractic", "treatment": "manipulation", "body_regions": [region], "quantity": {"visits": requested}},
        history=[{"treatment": "manipulation", "visits": prior, "functional_improvement": improvement}] if prior else [],
    )


@pytest.mark.parametrize(
    "prior,requested,expected",
    [(0, 6, "overturned"), (0, 7, "upheld"), (4, 2, "overturned"), (4, 3, "upheld")],
)
def test_manipulation_trial_is_six_visits_without_improvement(engine, prior, requested, expected):
    assert outcome(engine, _manipulation(prior, requested, "not_documented")) == expected


@pytest.mark.parametrize("prior,requested,expected", [(6, 12, "overturned"), (6, 13, "upheld"), (18, 1, "upheld")])
def test_low_back_manipulation_total_is_eighteen_with_improvement(engine, prior, requested, expected):
    assert outcome(engine, _manipulation(prior, requested, "yes")) == expected


def test_eighteen_visit_maximum_is_for_the_low_back_only(engine):
    # The neck has the trial rule but no 18-visit number in the pack.
    case = _manipulation(6, 13, "yes", region="cervical")
    assert outcome(engine, case) == "overturned"
    assert "mtus.cpmtg.manipulation.low_back.maximum" not in engine.evaluate(case).items[0].rules


def _massage(prior: int, requested: int, stage: str = "first_evaluation") -> dict:
    return make_case(
        {"description": "massage", "treatment": "massage", "quantity": {"visits": requested}},
        history=[{"treatment": "massage", "visits": prior}] if prior else [],
        care_stage=stage,
    )


@pytest.mark.parametrize("prior,requested,expected", [(0, 6, "overturned"), (0, 7, "upheld"), (4, 2, "overturned"), (4, 3, "upheld")])
def test_massage_is_limited_to_six_visits(engine, prior, requested, expected):
    assert outcome(engine, _massage(prior, requested)) == expected


def test_myofascial_release_and_massage_share_one_allowance(engine):
    case = make_case(
        {"description": "myofascial release", "treatment": "myofascial_release", "quantity": {"visits": 2}},
        history=[{"treatment": "massage", "visits": 5}],
        care_stage="first_evaluation",
    )
    assert outcome(engine, case) == "upheld"
    case["requested_items"][0]["quantity"] = {"visits": 1}
    assert outcome(engine, case) == "overturned"


def _pt(prior: int, requested: int, improvement: str, group: str = "disc_disorder") -> dict:
    return make_case(
        {"description": "PT", "treatment": "physical_therapy", "body_regions": ["lumbar"], "quantity": {"visits": requested}},
        history=[{"treatment": "physical_therapy", "visits": prior, "functional_improvement": improvement}] if prior else [],
        diagnoses=[{"description": "Lumbar disc disorder", "body_regions": ["lumbar"], "group": group}],
    )


@pytest.mark.parametrize("prior,requested,expected", [(0, 6, "overturned"), (0, 7, "upheld"), (5, 1, "overturned"), (5, 2, "upheld")])
def test_physical_therapy_trial_is_six_visits_without_improvement(engine, prior, requested, expected):
    assert outcome(engine, _pt(prior, requested, "not_documented")) == expected


@pytest.mark.parametrize("prior,requested,expected", [(6, 4, "overturned"), (6, 5, "upheld")])
def test_odg_disc_disorder_count_is_ten_visits(engine, prior, requested, expected):
    assert outcome(engine, _pt(prior, requested, "yes")) == expected


def test_odg_disc_count_does_not_apply_to_other_diagnoses(engine):
    assert outcome(engine, _pt(6, 5, "yes", group="sprain_strain")) == "overturned"


def test_frequency_times_weeks_is_counted(engine):
    case = _massage(0, 1)
    case["requested_items"][0]["quantity"] = {"per_week": 2, "weeks": 3}
    assert outcome(engine, case) == "overturned"
    case["requested_items"][0]["quantity"] = {"per_week": 2, "weeks": 4}
    assert outcome(engine, case) == "upheld"
