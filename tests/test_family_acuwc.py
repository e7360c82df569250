"""Acupuncture (8 CCR 9792.24.1) and work conditioning / work hardening (CPMTG p. 125, ODG).

What the YAML rule tests cannot assert: the kind of finding each fact value gives
(a documented "no" is *criterion not met*, "not documented" is *insufficient
documentation*, never the same words), how the acupuncture indication is derived
from its two case facts, and that months_since_injury comes from the dates.
"""

from __future__ import annotations

from typing import Any

import pytest

from mtus_rules import CaseError, Outcome
from mtus_rules.case import parse_case
from mtus_rules.evaluation.facets import facets

from .helpers import make_case

INDICATION = "mtus.acupuncture.indication"
TRIAL = "mtus.acupuncture.trial"
WC = "mtus.cpmtg.work_conditioning"


def findings_of(engine, case: dict[str, Any], rule: str) -> list:
    return [f for f in engine.evaluate(case).items[0].findings if f.rule == rule]


def kinds_of(engine, case: dict[str, Any], rule: str) -> set[str]:
    return {f.kind for f in findings_of(engine, case, rule)}


def failing_rules(engine, case: dict[str, Any]) -> set[str]:
    failing = {"not_recommended", "exceeds_limit", "criterion_not_met", "insufficient_documentation"}
    return {f.rule for f in engine.evaluate(case).items[0].findings if f.kind in failing}


# -- acupuncture -------------------------------------------------------------------------


def acupuncture(visits: int = 6, history: list | None = None, region: str = "lumbar", **facts: Any) -> dict[str, Any]:
    item = {"description": f"acupuncture x{visits}", "treatment": "acupuncture", "body_regions": [region],
            "quantity": {"visits": visits}}
    return make_case(item, history=history, **facts)


@pytest.mark.parametrize("fact", ["pain_medication_reduced_or_not_tolerated", "adjunct_to_rehabilitation"])
@pytest.mark.parametrize(
    "value,kind,result",
    [
        ("yes", "criterion_met", Outcome.OVERTURNED),
        ("no", "criterion_not_met", Outcome.UPHELD),
        ("not_documented", "insufficient_documentation", Outcome.UPHELD),
    ],
)
def test_each_indication_fact_decides_the_indication(engine, fact, value, kind, result):
    # The other indication is a documented "no", so this fact alone decides.
    other = ({"pain_medication_reduced_or_not_tolerated", "adjunct_to_rehabilitation"} - {fact}).pop()
    case = acupuncture(**{fact: value, other: "no"})
    item = engine.evaluate(case).items[0]
    assert item.outcome is result
    assert kinds_of(engine, case, INDICATION) == {kind}
    if result is Outcome.UPHELD:
        assert item.rules == [INDICATION]


@pytest.mark.parametrize(
    "medication,adjunct,kind",
    [
        ("yes", "no", "criterion_met"),
        ("no", "yes", "criterion_met"),
        ("yes", "not_documented", "criterion_met"),  # any one suffices
        ("no", "no", "criterion_not_met"),  # a documented "no" to both
        ("no", "not_documented", "insufficient_documentation"),  # the unknown one may still hold
        ("not_documented", "no", "insufficient_documentation"),
        ("not_documented", "not_documented", "insufficient_documentation"),
    ],
)
def test_the_indication_is_any_one_of_its_two_facts(engine, medication, adjunct, kind):
    case = acupuncture(pain_medication_reduced_or_not_tolerated=medication, adjunct_to_rehabilitation=adjunct)
    assert kinds_of(engine, case, INDICATION) == {kind}


def test_an_undocumented_indication_names_what_the_record_needs(engine):
    case = acupuncture(pain_medication_reduced_or_not_tolerated="no")
    (finding,) = findings_of(engine, case, INDICATION)
    assert finding.kind == "insufficient_documentation"
    assert any("pain medication is reduced or not tolerated" in n for n in finding.needed)
    assert "not met" not in finding.text


def test_a_first_trial_of_six_with_the_indication_is_overturned(engine):
    case = acupuncture(6, history=[], adjunct_to_rehabilitation="yes")
    item = engine.evaluate(case).items[0]
    assert item.outcome is Outcome.OVERTURNED
    assert set(item.rules) == {"mtus.acupuncture.recommended", INDICATION}
    assert not {f.kind for f in item.findings} & {"criterion_not_met", "insufficient_documentation", "not_recommended"}
    assert kinds_of(engine, case, TRIAL) == set()  # 6 is within the trial


def test_a_first_trial_of_seven_is_past_the_trial(engine):
    case = acupuncture(7, history=[], adjunct_to_rehabilitation="yes")
    assert engine.evaluate(case).items[0].outcome is Outcome.UPHELD
    assert kinds_of(engine, case, TRIAL) == {"criterion_not_met"}


@pytest.mark.parametrize(
    "improvement,kind,result",
    [
        ("yes", "criterion_met", Outcome.OVERTURNED),
        ("no", "criterion_not_met", Outcome.UPHELD),
        ("not_documented", "insufficient_documentation", Outcome.UPHELD),
    ],
)
def test_extension_beyond_the_trial_turns_on_functional_improvement(engine, improvement, kind, result):
    history = [{"treatment": "acupuncture", "visits": 6, "functional_improvement": improvement}]
    case = acupuncture(4, history=history, adjunct_to_rehabilitation="yes")
    assert engine.evaluate(case).items[0].outcome is result
    assert kinds_of(engine, case, TRIAL) == {kind}


def test_only_acupuncture_visits_count_against_the_trial(engine):
    history = [
        {"treatment": t, "visits": 12, "functional_improvement": "no"}
        for t in ("physical_therapy", "manipulation", "massage", "tens")
    ]
    case = acupuncture(6, history=history, adjunct_to_rehabilitation="yes")
    assert engine.evaluate(case).items[0].outcome is Outcome.OVERTURNED
    assert kinds_of(engine, case, TRIAL) == set()


@pytest.mark.parametrize(
    "per_week,weeks,rule",
    [(4, 1, "mtus.acupuncture.frequency"), (1, 9, "mtus.acupuncture.duration")],
)
def test_frequency_and_duration_past_the_figures_are_not_recommended(engine, per_week, weeks, rule):
    history = [{"treatment": "acupuncture", "visits": 6, "functional_improvement": "yes"}]
    item = {"description": "acupuncture", "treatment": "acupuncture", "body_regions": ["lumbar"],
            "quantity": {"per_week": per_week, "weeks": weeks}}
    case = make_case(item, history=history, adjunct_to_rehabilitation="yes")
    assert engine.evaluate(case).items[0].rules == [rule]
    assert kinds_of(engine, case, rule) == {"not_recommended"}


def test_the_shoulder_is_left_to_acoem_chapter_9(engine):
    case = acupuncture(6, region="shoulder", adjunct_to_rehabilitation="yes")
    item = engine.evaluate(case).items[0]
    assert item.outcome is Outcome.NO_APPLICABLE_GUIDELINE
    assert item.rules == []
    assert not [f for f in item.findings if f.rule and f.rule.startswith("mtus.acupuncture.")]


# -- work conditioning / work hardening -----------------------------------------------------

ADMITTED = {
    "job_demands_unmet": "yes",
    "therapy_plateau": "yes",
    "surgery_candidate": "no",
    "program_participation": "yes",
    "return_to_work_goal": "yes",
}
# fact -> (the rule that reads it, the value that fails it)
ADMISSION = {
    "job_demands_unmet": (f"{WC}.job_demands", "no"),
    "therapy_plateau": (f"{WC}.therapy_plateau", "no"),
    "surgery_candidate": (f"{WC}.surgery_candidate", "yes"),
    "program_participation": (f"{WC}.participation", "no"),
    "return_to_work_goal": (f"{WC}.return_to_work_goal", "no"),
}


def program(treatment: str = "work_conditioning", visits: int = 10, history: list | None = None, **facts: Any) -> dict[str, Any]:
    item = {"description": f"{treatment} x{visits}", "treatment": treatment, "quantity": {"visits": visits}}
    return make_case(item, history=history, **{**ADMITTED, **facts})


def test_a_first_program_meeting_every_criterion_is_overturned(engine):
    for treatment in ("work_conditioning", "work_hardening"):
        case = program(treatment)
        item = engine.evaluate(case).items[0]
        assert item.outcome is Outcome.OVERTURNED, item.rationale
        for rule, _ in ADMISSION.values():
            assert kinds_of(engine, case, rule) == {"criterion_met"}


@pytest.mark.parametrize("treatment", ["work_conditioning", "work_hardening"])
@pytest.mark.parametrize("fact", sorted(ADMISSION))
def test_each_admission_fact_failing_is_criterion_not_met(engine, treatment, fact):
    rule, failing = ADMISSION[fact]
    case = program(treatment, **{fact: failing})
    item = engine.evaluate(case).items[0]
    assert item.outcome is Outcome.UPHELD
    assert item.rules == [rule]
    assert kinds_of(engine, case, rule) == {"criterion_not_met"}


@pytest.mark.parametrize("treatment", ["work_conditioning", "work_hardening"])
@pytest.mark.parametrize("fact", sorted(ADMISSION))
def test_each_admission_fact_not_documented_is_insufficient_documentation(engine, treatment, fact):
    rule, _ = ADMISSION[fact]
    case = program(treatment, **{fact: "not_documented"})
    item = engine.evaluate(case).items[0]
    assert item.outcome is Outcome.UPHELD
    assert item.rules == [rule]
    (finding,) = findings_of(engine, case, rule)
    assert finding.kind == "insufficient_documentation" and finding.needed


def test_a_completed_program_is_not_repeated_and_not_documented_reads_as_no_repeat(engine):
    rule = f"{WC}.no_repeat"
    case = program("work_hardening", program_completed="yes")
    assert engine.evaluate(case).items[0].rules == [rule]
    assert kinds_of(engine, case, rule) == {"not_recommended"}
    for value in ("no", "not_documented"):
        case = program("work_hardening", program_completed=value)
        assert engine.evaluate(case).items[0].outcome is Outcome.OVERTURNED
        assert kinds_of(engine, case, rule) == set()


@pytest.mark.parametrize(
    "improvement,kind,result",
    [
        ("yes", "criterion_met", Outcome.OVERTURNED),
        ("no", "criterion_not_met", Outcome.UPHELD),
        ("not_documented", "insufficient_documentation", Outcome.UPHELD),
    ],
)
def test_continuing_a_program_needs_documented_gains(engine, improvement, kind, result):
    rule = f"{WC}.continuation"
    history = [{"treatment": "work_hardening", "visits": 5, "functional_improvement": improvement}]
    case = program("work_conditioning", 5, history=history)
    assert engine.evaluate(case).items[0].outcome is result
    assert kinds_of(engine, case, rule) == {kind}
    # A first program is not a continuation.
    assert kinds_of(engine, program("work_conditioning", 5), rule) == set()
    # A listed course is a continuation whatever its count, even one not documented: the
    # finding is about the gains, never about the count.
    history = [{"treatment": "work_hardening", "visits": "not_documented", "functional_improvement": improvement}]
    (finding,) = findings_of(engine, program("work_hardening", 5, history=history), rule)
    assert finding.kind == kind
    assert not any("number of visits" in n for n in finding.needed)


def test_work_hardening_and_work_conditioning_count_together_against_odg(engine):
    rule = "odg.work_conditioning.visits"
    history = [{"treatment": "work_hardening", "visits": 5, "functional_improvement": "yes"}]
    assert kinds_of(engine, program("work_conditioning", 5, history=history), rule) == {"within_limit"}
    assert kinds_of(engine, program("work_conditioning", 6, history=history), rule) == {"exceeds_limit"}
    # The sheet gives ODG's count for work conditioning only.
    assert kinds_of(engine, program("work_hardening", 12), rule) == set()


# -- months since the injury: from the dates ---------------------------------------------


def _months(injury: str, request_day: str) -> float:
    case = parse_case(program(date_of_injury=injury, request_date=request_day))
    return facets(case)[0].facts["months_since_injury"]


@pytest.mark.parametrize(
    "injury,request_day,months,result",
    [
        ("2012-03-15", "2014-03-15", 24.0, Outcome.OVERTURNED),  # the day 24 months on: within
        ("2012-03-15", "2014-03-16", 24 + 1 / 32, Outcome.UPHELD),  # the day after: past
        ("2012-01-31", "2014-01-31", 24.0, Outcome.OVERTURNED),
        ("2012-01-31", "2014-02-01", 24 + 1 / 32, Outcome.UPHELD),
        ("2013-01-10", "2014-03-01", 13 + 19 / 32, Outcome.OVERTURNED),
    ],
)
def test_months_since_injury_derives_from_the_dates(engine, injury, request_day, months, result):
    assert _months(injury, request_day) == months
    rule = f"{WC}.two_years"
    case = program(date_of_injury=injury, request_date=request_day)
    assert engine.evaluate(case).items[0].outcome is result
    if result is Outcome.UPHELD:
        (finding,) = findings_of(engine, case, rule)
        assert finding.kind == "not_recommended" and "24 months and 1 day" in finding.text
    else:
        assert findings_of(engine, case, rule) == []


def test_months_since_injury_cannot_be_stated(engine):
    # There is no case field for it: a stated value is rejected, never silently used.
    with pytest.raises(CaseError):
        engine.evaluate(program(months_since_injury=3))
