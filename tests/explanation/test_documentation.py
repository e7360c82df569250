"""Unknown is not false: "not documented" and "no" are different findings."""

from __future__ import annotations

import pytest

from ..helpers import kinds, make_case, outcome

TRIAL = "mtus.cpmtg.manipulation.trial"


def _manipulation(visits, improvement, requested=4, regions=("lumbar",)):
    item = {"description": "chiropractic", "treatment": "manipulation", "quantity": {"visits": requested}}
    if regions is not None:
        item["body_regions"] = list(regions)
    return make_case(item, history=[{"treatment": "manipulation", "visits": visits, "functional_improvement": improvement}])


def test_improvement_not_documented_is_a_documentation_finding(engine):
    case = _manipulation(6, "not_documented")
    item = engine.evaluate(case).items[0]
    assert item.outcome.value == "upheld"
    (finding,) = [f for f in item.findings if f.rule == TRIAL]
    assert finding.kind == "insufficient_documentation"
    assert any("functional improvement" in n for n in finding.needed)
    assert "not met" not in finding.text and "over the limit" not in finding.text


def test_improvement_no_is_a_criterion_not_met(engine):
    case = _manipulation(6, "no")
    assert outcome(engine, case) == "upheld"
    assert kinds(engine, case, TRIAL) == {"criterion_not_met"}


def test_improvement_yes_extends_past_the_trial(engine):
    case = _manipulation(6, "yes")
    assert outcome(engine, case) == "overturned"
    assert kinds(engine, case, TRIAL) == {"criterion_met"}


def test_prior_visits_not_documented_upholds_and_names_the_missing_count(engine):
    case = _manipulation("not_documented", "yes", requested=2)
    item = engine.evaluate(case).items[0]
    assert item.outcome.value == "upheld"
    needed = {n for f in item.findings for n in f.needed}
    assert "the number of visits of manipulation already completed" in needed
    assert not any(f.kind == "exceeds_limit" for f in item.findings)


def test_no_prior_course_is_a_first_course_not_an_unknown_count(engine):
    case = make_case({"description": "chiropractic", "treatment": "manipulation", "body_regions": ["lumbar"], "quantity": {"visits": 6}})
    assert outcome(engine, case) == "overturned"


def test_body_region_not_specified_is_a_documentation_finding(engine):
    case = _manipulation(0, "not_documented", requested=4, regions=None)
    case["diagnoses"] = []  # nothing to take a region from
    item = engine.evaluate(case).items[0]
    assert item.outcome.value == "upheld"
    assert item.body_regions == ["not_specified"]
    assert any("body region" in n for f in item.findings for n in f.needed)


def test_region_is_taken_from_diagnoses_only_when_they_agree(engine):
    case = _manipulation(0, "not_documented", requested=4, regions=None)
    assert engine.evaluate(case).items[0].body_regions == ["lumbar"]
    case["diagnoses"].append({"description": "Neck sprain", "body_regions": ["cervical"]})
    assert engine.evaluate(case).items[0].body_regions == ["not_specified"]


def _massage(stage):
    return make_case({"description": "massage", "treatment": "massage", "quantity": {"visits": 4}}, care_stage=stage)


def test_massage_stage_of_care_first_evaluation_is_supported(engine):
    assert outcome(engine, _massage("first_evaluation")) == "overturned"


def test_massage_in_ongoing_care_is_not_recommended(engine):
    case = _massage("ongoing_care")
    assert outcome(engine, case) == "upheld"
    assert "not_recommended" in kinds(engine, case, "mtus.cpmtg.massage.ongoing_care")


def _notes(engine, case) -> list[str]:
    return [f.text for f in engine.evaluate(case).items[0].findings if f.kind == "note"]


@pytest.mark.parametrize("stage", [None, "not_documented"])
def test_stage_of_care_not_stated_is_derived_as_a_first_course(engine, stage):
    """No prior course and no home program: a first course, and the decision says it derived that."""
    case = _massage(stage)
    if stage is None:
        del case["care_stage"]
    assert outcome(engine, case) == "overturned"
    assert any(n.startswith("Stage of care: a first course (derived") for n in _notes(engine, case))


@pytest.mark.parametrize(
    "history,home_exercise",
    [([{"treatment": "physical_therapy", "visits": 6}], "not_documented"), ([], "yes")],
)
def test_stage_of_care_is_derived_as_ongoing_from_established_treatment(engine, history, home_exercise):
    case = _massage(None)
    case.update(treatment_history=history, home_exercise=home_exercise)
    assert outcome(engine, case) == "upheld"
    assert "not_recommended" in kinds(engine, case, "mtus.cpmtg.massage.ongoing_care")
    assert any(n.startswith("Stage of care: ongoing care (derived") for n in _notes(engine, case))


def test_a_stated_stage_of_care_overrides_the_derivation(engine):
    first = _massage("first_evaluation")
    first["home_exercise"] = "yes"  # would derive ongoing care
    assert outcome(engine, first) == "overturned"
    assert "Stage of care: first evaluation (as stated in the record)." in _notes(engine, first)
    ongoing = _massage("ongoing_care")  # would derive a first course
    assert outcome(engine, ongoing) == "upheld"
    assert "Stage of care: ongoing care (as stated in the record)." in _notes(engine, ongoing)


def test_quantity_not_specified_is_decided_against_visits_so_far(engine):
    item = {"description": "massage", "treatment": "massage"}
    assert outcome(engine, make_case(item)) == "overturned"
    used_up = make_case(item, history=[{"treatment": "massage", "visits": 7}])
    assert outcome(engine, used_up) == "upheld"
