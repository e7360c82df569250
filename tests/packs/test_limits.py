"""Every numeric limit in the bundled pack, at the limit and one past it."""

from __future__ import annotations

import pytest

from ..helpers import make_case, outcome


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


@pytest.mark.parametrize(
    "prior,requested,expected",
    [
        (0, 10, "overturned"),  # a first course within the MTUS count of 10
        (0, 11, "upheld"),  # one past it: no prior visits whose improvement could be shown
        (5, 1, "overturned"),  # the ODG six-visit trial is not yet complete
        (6, 1, "upheld"),  # it is: further visits need documented improvement
        (5, 6, "upheld"),  # 11 in all: past the MTUS count
    ],
)
def test_physical_therapy_count_is_ten_and_the_trial_six_without_improvement(engine, prior, requested, expected):
    assert outcome(engine, _pt(prior, requested, "not_documented")) == expected


@pytest.mark.parametrize("prior,requested,expected", [(6, 4, "overturned"), (6, 5, "upheld")])
def test_odg_disc_disorder_count_is_ten_visits(engine, prior, requested, expected):
    assert outcome(engine, _pt(prior, requested, "yes")) == expected


@pytest.mark.parametrize("group", ["disc_disorder", "sprain_strain"])
def test_past_the_count_the_mtus_governs_the_odg_disc_row(engine, group):
    """Past 10 visits the MTUS count decides: with improvement and a reason a home program
    cannot carry on, an eleventh visit is supported for a disc disorder as for a sprain."""
    case = _pt(6, 5, "yes", group=group)
    assert outcome(engine, case) == "upheld"  # no reason why a home program cannot carry on
    case["home_program_insufficient"] = "yes"
    assert outcome(engine, case) == "overturned"


def test_frequency_times_weeks_is_counted(engine):
    case = _massage(0, 1)
    case["requested_items"][0]["quantity"] = {"per_week": 2, "weeks": 3}
    assert outcome(engine, case) == "overturned"
    case["requested_items"][0]["quantity"] = {"per_week": 2, "weeks": 4}
    assert outcome(engine, case) == "upheld"
