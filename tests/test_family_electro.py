"""The electrical stimulation family (rules/mtus-2009/electrotherapy.yaml): what the
YAML rule tests cannot assert.

For every case fact the device rules read, a documented "no" is a `criterion_not_met`
finding of the rule that reads it and "not documented" an `insufficient_documentation`
finding naming what the record needs; the derived facts (the pain phase, the
interferential indication) are read as electrotherapy.yaml says, and a stated pain phase
wins over the dates, the decision saying which was used. The numbers of guideline sheet
10.3 (one month = 4 weeks, 3 months of pain, 2 leads) are tested at the number and one
past it.
"""

from __future__ import annotations

import pytest

from .helpers import make_case, outcome

NEUROPATHIC = [{"description": "Lumbar radiculopathy with neuropathic pain", "body_regions": ["lumbar"], "group": "neuropathic_pain"}]
# Every criterion of every device holds: chronic (injury 2013-01-10, request 2014-03-01),
# neuropathic pain, conservative care failed, an adjunct to functional restoration, goals,
# and (for interferential current) one selection criterion.
MET = {
    "diagnoses": NEUROPATHIC,
    "other_modalities_failed": "yes",
    "functional_restoration": "yes",
    "treatment_goals": "yes",
    "medication_side_effects": "yes",
}
INDICATION_FIELDS = (
    "medication_ineffective",
    "medication_side_effects",
    "substance_abuse_history",
    "postoperative_pain_limits_therapy",
    "unresponsive_to_conservative_care",
)


def _device(treatment: str, purpose: str = "trial", **item_fields) -> dict:
    return {"description": f"{treatment} unit", "treatment": treatment, "body_regions": ["lumbar"], "purpose": purpose, **item_fields}


def _case(treatment: str, purpose: str = "trial", item: dict | None = None, **fields) -> dict:
    return make_case(_device(treatment, purpose, **(item or {})), **{**MET, **fields})


def _findings(engine, case: dict, rule: str) -> list:
    return [f for f in engine.evaluate(case).items[0].findings if f.rule == rule]


def _notes(engine, case: dict) -> list[str]:
    return [f.text for f in engine.evaluate(case).items[0].findings if f.kind == "note"]


@pytest.mark.parametrize("treatment", ["tens", "interferential_current", "h_wave"])
def test_a_trial_meeting_every_criterion_is_overturned(engine, treatment):
    assert outcome(engine, _case(treatment)) == "overturned"


# -- each case fact: "no" is not met, "not documented" is insufficient documentation ---------

# (treatment, purpose, case fact, rule that reads it, the item's extra fields)
FACT_RULES = [
    ("tens", "trial", "other_modalities_failed", "mtus.cpmtg.tens.other_modalities", {}),
    ("tens", "trial", "functional_restoration", "mtus.cpmtg.tens.functional_restoration", {}),
    ("tens", "trial", "treatment_goals", "mtus.cpmtg.tens.treatment_goals", {}),
    ("tens", "purchase", "device_trial_benefit", "mtus.cpmtg.tens.beyond_trial", {}),
    ("tens", "rental", "device_trial_benefit", "mtus.cpmtg.tens.beyond_trial", {}),
    ("tens", "trial", "four_lead_justified", "mtus.cpmtg.tens.leads", {"device_leads": 4}),
    ("interferential_current", "trial", "functional_restoration", "mtus.cpmtg.interferential.isolated_intervention", {}),
    ("interferential_current", "purchase", "device_trial_benefit", "mtus.cpmtg.interferential.beyond_trial", {}),
    ("interferential_current", "rental", "device_trial_benefit", "mtus.cpmtg.interferential.beyond_trial", {}),
    ("h_wave", "trial", "functional_restoration", "mtus.cpmtg.h_wave.functional_restoration", {}),
    ("h_wave", "trial", "other_modalities_failed", "mtus.cpmtg.h_wave.conservative_care", {}),
    ("h_wave", "purchase", "device_trial_benefit", "mtus.cpmtg.h_wave.beyond_trial", {}),
    ("h_wave", "rental", "device_trial_benefit", "mtus.cpmtg.h_wave.beyond_trial", {}),
]


@pytest.mark.parametrize("treatment,purpose,fact,rule,item", FACT_RULES)
def test_a_documented_no_is_a_criterion_not_met(engine, treatment, purpose, fact, rule, item):
    case = _case(treatment, purpose, item, **{fact: "no"})
    decision = engine.evaluate(case).items[0]
    assert decision.outcome.value == "upheld"
    assert decision.rules == [rule]
    assert [f.kind for f in _findings(engine, case, rule)] == ["criterion_not_met"]


@pytest.mark.parametrize("treatment,purpose,fact,rule,item", FACT_RULES)
def test_not_documented_is_insufficient_documentation(engine, treatment, purpose, fact, rule, item):
    case = _case(treatment, purpose, item, **{fact: "not_documented"})
    decision = engine.evaluate(case).items[0]
    assert decision.outcome.value == "upheld"
    assert decision.rules == [rule]
    (finding,) = _findings(engine, case, rule)
    assert finding.kind == "insufficient_documentation"
    assert finding.needed, "an insufficient-documentation finding names what the record needs"


@pytest.mark.parametrize("treatment,purpose,fact,rule,item", FACT_RULES)
def test_yes_meets_the_criterion(engine, treatment, purpose, fact, rule, item):
    case = _case(treatment, purpose, item, **{fact: "yes"})
    assert outcome(engine, case) == "overturned"
    assert [f.kind for f in _findings(engine, case, rule)] == ["criterion_met"]


# -- the interferential indication: any one of five suffices --------------------------------


def _interferential(**answers: str) -> dict:
    fields = {name: "not_documented" for name in INDICATION_FIELDS}
    fields.update(answers)
    return _case("interferential_current", **fields)


RULE_ICS = "mtus.cpmtg.interferential.patient_selection"


@pytest.mark.parametrize("name", INDICATION_FIELDS)
def test_any_one_interferential_criterion_suffices(engine, name):
    others = {n: "no" for n in INDICATION_FIELDS if n != name}
    case = _interferential(**others, **{name: "yes"})
    assert outcome(engine, case) == "overturned"
    assert [f.kind for f in _findings(engine, case, RULE_ICS)] == ["criterion_met"]


def test_every_interferential_criterion_documented_absent_is_not_met(engine):
    case = _interferential(**{n: "no" for n in INDICATION_FIELDS})
    assert outcome(engine, case) == "upheld"
    assert [f.kind for f in _findings(engine, case, RULE_ICS)] == ["criterion_not_met"]


@pytest.mark.parametrize("documented_no", [0, 1, 4])
def test_interferential_criteria_partly_undocumented_are_insufficient_documentation(engine, documented_no):
    # Some criteria a documented no, the rest not documented: one of those may still hold.
    case = _interferential(**{n: "no" for n in INDICATION_FIELDS[:documented_no]})
    assert outcome(engine, case) == "upheld"
    (finding,) = _findings(engine, case, RULE_ICS)
    assert finding.kind == "insufficient_documentation"
    assert any("poorly controlled" in need for need in finding.needed)


# -- pain of at least 3 months: derived from the dates, a stated phase overrides --------------

RULE_PAIN = "mtus.cpmtg.tens.pain_duration"


@pytest.mark.parametrize(
    "request_date,expected,kind",
    [
        ("2013-04-10", "overturned", "criterion_met"),  # exactly 3 months after the injury (at the count)
        ("2013-04-09", "upheld", "criterion_not_met"),  # one day less (one past)
    ],
)
def test_tens_needs_three_months_of_pain_counted_from_the_injury(engine, request_date, expected, kind):
    case = _case("tens", request_date=request_date)
    assert outcome(engine, case) == expected
    assert [f.kind for f in _findings(engine, case, RULE_PAIN)] == [kind]
    (note,) = [n for n in _notes(engine, case) if n.startswith("Pain phase")]
    assert "derived" in note and "from the injury on 2013-01-10" in note


@pytest.mark.parametrize(
    "request_date,expected",
    [("2014-03-15", "overturned"), ("2014-03-14", "upheld")],  # onset 2013-12-15: 3 months, and a day less
)
def test_three_months_count_from_a_later_onset(engine, request_date, expected):
    case = _case("tens", onset_date="2013-12-15", request_date=request_date)
    assert outcome(engine, case) == expected
    assert any("from the onset on 2013-12-15" in n for n in _notes(engine, case))


def test_a_stated_chronic_phase_overrides_dates_that_say_acute(engine):
    derived = _case("tens", request_date="2013-02-10")
    assert outcome(engine, derived) == "upheld"
    assert [f.kind for f in _findings(engine, derived, RULE_PAIN)] == ["criterion_not_met"]

    stated = _case("tens", request_date="2013-02-10", pain_phase="chronic")
    assert outcome(engine, stated) == "overturned"
    assert [f.kind for f in _findings(engine, stated, RULE_PAIN)] == ["criterion_met"]
    notes = [n for n in _notes(engine, stated) if n.startswith("Pain phase")]
    assert notes == ["Pain phase: chronic (as stated in the record)."]


def test_a_stated_acute_phase_overrides_dates_that_say_chronic(engine):
    stated = _case("tens", pain_phase="acute")
    assert outcome(engine, stated) == "upheld"
    assert [f.kind for f in _findings(engine, stated, RULE_PAIN)] == ["criterion_not_met"]
    assert "Pain phase: acute (as stated in the record)." in _notes(engine, stated)


def test_the_pain_phase_is_explained_only_where_the_rules_read_it(engine):
    # Interferential current and H-wave do not read the pain phase: no note about it.
    for treatment in ("interferential_current", "h_wave"):
        assert not [n for n in _notes(engine, _case(treatment)) if n.startswith("Pain phase")]


# -- the one-month trial, read as 4 weeks -----------------------------------------------------


@pytest.mark.parametrize(
    "treatment,rule",
    [
        ("tens", "mtus.cpmtg.tens.trial_length"),
        ("interferential_current", "mtus.cpmtg.interferential.trial_length"),
        ("h_wave", "mtus.cpmtg.h_wave.trial_length"),
    ],
)
@pytest.mark.parametrize("weeks,expected", [(4, "overturned"), (5, "upheld")])
def test_the_trial_is_one_month_read_as_four_weeks(engine, treatment, rule, weeks, expected):
    case = _case(treatment, item={"quantity": {"per_week": 7, "weeks": weeks}})
    decision = engine.evaluate(case).items[0]
    assert decision.outcome.value == expected
    kinds = [f.kind for f in _findings(engine, case, rule)]
    assert kinds == ([] if weeks == 4 else ["not_recommended"])


@pytest.mark.parametrize("treatment", ["tens", "interferential_current", "h_wave"])
def test_the_four_week_limit_is_on_the_trial_only(engine, treatment):
    case = _case(treatment, "rental", item={"quantity": {"per_week": 7, "weeks": 12}}, device_trial_benefit="yes")
    assert outcome(engine, case) == "overturned"


@pytest.mark.parametrize("treatment", ["tens", "interferential_current", "h_wave"])
@pytest.mark.parametrize("purpose", ["course_of_treatment", "maintenance", "flare_up"])
def test_any_purpose_but_the_trial_needs_the_trial_result(engine, treatment, purpose):
    rule = {"tens": "mtus.cpmtg.tens.beyond_trial", "interferential_current": "mtus.cpmtg.interferential.beyond_trial",
            "h_wave": "mtus.cpmtg.h_wave.beyond_trial"}[treatment]
    case = _case(treatment, purpose)
    assert outcome(engine, case) == "upheld"
    assert [f.kind for f in _findings(engine, case, rule)] == ["insufficient_documentation"]
    assert outcome(engine, _case(treatment, purpose, device_trial_benefit="yes")) == "overturned"


# -- leads: 2, unless more are justified ------------------------------------------------------

RULE_LEADS = "mtus.cpmtg.tens.leads"


@pytest.mark.parametrize(
    "leads,expected,kinds",
    [
        (None, "overturned", []),  # not stated: nothing to be over
        (2, "overturned", []),  # at the count
        (3, "upheld", ["insufficient_documentation"]),  # one past
        (4, "upheld", ["insufficient_documentation"]),
    ],
)
def test_tens_leads_beyond_two_need_a_reason(engine, leads, expected, kinds):
    item = {"device_leads": leads} if leads is not None else {}
    case = _case("tens", item=item)
    assert outcome(engine, case) == expected
    assert [f.kind for f in _findings(engine, case, RULE_LEADS)] == kinds


# -- the conditions each device may be considered for -------------------------------------------


@pytest.mark.parametrize(
    "group,tens,h_wave",
    [
        ("neuropathic_pain", "overturned", "overturned"),
        ("crps", "overturned", "upheld"),
        ("phantom_limb", "overturned", "upheld"),
        ("spinal_cord_injury", "overturned", "upheld"),
        ("multiple_sclerosis", "overturned", "upheld"),
        ("soft_tissue_inflammation", "upheld", "overturned"),
        ("sprain_strain", "upheld", "upheld"),
        ("disc_disorder", "upheld", "upheld"),
        (None, "upheld", "upheld"),
    ],
)
def test_the_listed_conditions(engine, group, tens, h_wave):
    diagnosis = {"description": "Diagnosis", "body_regions": ["lumbar"], **({"group": group} if group else {})}
    for treatment, expected, rule in (
        ("tens", tens, "mtus.cpmtg.tens.conditions"),
        ("h_wave", h_wave, "mtus.cpmtg.h_wave.conditions"),
    ):
        case = _case(treatment, diagnoses=[diagnosis])
        assert outcome(engine, case) == expected, (treatment, group)
        assert [f.kind for f in _findings(engine, case, rule)] == ([] if expected == "overturned" else ["not_recommended"])
    # Interferential current lists no conditions: its selection criteria decide.
    assert outcome(engine, _case("interferential_current", diagnoses=[diagnosis])) == "overturned"


def test_galvanic_stimulation_is_not_recommended_whatever_is_documented(engine):
    case = _case("galvanic_stimulation", "course_of_treatment", device_trial_benefit="yes")
    assert outcome(engine, case) == "upheld"
    assert [f.kind for f in _findings(engine, case, "mtus.cpmtg.galvanic.not_recommended")] == ["not_recommended"]


def test_every_region_is_decided_for_every_device(engine):
    regions = ["cervical", "thoracic", "lumbar", "shoulder", "elbow", "forearm", "wrist", "hand", "hip", "knee",
               "ankle", "foot", "head"]
    diagnoses = [{"description": "Neuropathic pain", "group": "neuropathic_pain"}]
    for treatment, expected in (("tens", "overturned"), ("interferential_current", "overturned"),
                                ("h_wave", "overturned"), ("galvanic_stimulation", "upheld")):
        for region in regions:
            case = make_case({**_device(treatment), "body_regions": [region]}, **{**MET, "diagnoses": diagnoses})
            assert outcome(engine, case) == expected, (treatment, region)


def test_a_home_unit_is_not_said_to_lack_a_visit_count(engine):
    """A TENS unit is not measured in visits: no note that the request "states no quantity",
    which a course of visits without a quantity does get."""
    from .helpers import make_case

    unit = make_case({"description": "TENS unit, one-month trial", "treatment": "tens", "purpose": "trial"})
    visits = make_case({"description": "massage", "treatment": "massage"})
    def notes(case):
        return [f.text for f in engine.evaluate(case).items[0].findings if f.kind == "note"]
    assert not any("states no quantity" in n for n in notes(unit))
    assert any("states no quantity" in n for n in notes(visits))
