"""Cases given as RFA lines with codes and free-text quantities."""

from __future__ import annotations

import pytest

from mtus_rules import CaseError, load_case

from ..helpers import EXAMPLES

PAIRS = [(p, next(EXAMPLES.glob(f"{p.name[:8]}-*.yaml"))) for p in sorted((EXAMPLES / "rfa").glob("seed-*.yaml"))]


@pytest.mark.parametrize("rfa,original", PAIRS, ids=lambda p: p.name[:8])
def test_rfa_seeds_decide_as_the_originals(engine, rfa, original):
    from_rfa, plain = engine.evaluate(load_case(rfa)), engine.evaluate(load_case(original))
    assert [(i.outcome, i.rules) for i in from_rfa.items] == [(i.outcome, i.rules) for i in plain.items]


def test_all_five_seeds_have_an_rfa_form():
    assert [p.name[:8] for p, _ in PAIRS] == [f"seed-00{i}" for i in range(5)]


def test_the_mapping_is_in_the_decision(engine):
    case = load_case(EXAMPLES / "rfa" / "seed-002-rfa.yaml")
    traction, nmes, myofascial = engine.evaluate(case).items
    assert (traction.rfa.code, traction.rfa.treatment.value, traction.rfa.resolved_by, traction.rfa.visits) == (
        "97012", "mechanical_traction", "code", 8)
    assert [r.value for r in traction.rfa.diagnosis_regions] == ["lumbar"]
    assert (myofascial.rfa.treatment.value, myofascial.rfa.resolved_by) == ("myofascial_release", "wording")
    assert "Read from RFA line 3: code 97140 -> myofascial_release (by the service's wording)" in myofascial.rationale.case
    assert nmes.rfa.quantity_text is None and nmes.rfa.visits is None


def _rfa(**line) -> dict:
    base = {"icd10": "S33.5XXA", "service": "Massage", "code": "97124", "quantity": "x 4"}
    return {"date_of_injury": "2013-01-10", "request_date": "2014-03-01", "care_stage": "first_evaluation",
            "rfa_lines": [{**base, **line}]}


def _problems(data: dict) -> dict[str, str]:
    from mtus_rules.case import parse_case

    with pytest.raises(CaseError) as info:
        parse_case(data)
    return {p.location: p.message for p in info.value.problems}


def test_an_ambiguous_code_is_reported_not_guessed():
    problems = _problems(_rfa(code="97140", service="Manual therapy"))
    assert list(problems) == ["rfa_lines[0].code"]
    assert "97140" in problems["rfa_lines[0].code"] and "manipulation" in problems["rfa_lines[0].code"]


def test_bad_codes_and_quantities_are_each_reported_at_their_field():
    data = _rfa(icd10="M99.999", quantity="1-2 times a week for 6 weeks")
    data["rfa_lines"].append({"icd10": "S33.5XXA", "service": "Therapy", "code": "12345", "quantity": "x 4"})
    problems = _problems(data)
    assert set(problems) == {"rfa_lines[0].icd10", "rfa_lines[0].quantity", "rfa_lines[1].code"}
    assert "'1-2 times a week for 6 weeks'" in problems["rfa_lines[0].quantity"]


def test_an_unmapped_diagnosis_code_needs_the_regions_on_the_line(engine):
    assert set(_problems(_rfa(icd10="M25.571"))) == {"rfa_lines[0].icd10"}
    decision = engine.evaluate(_rfa(icd10="M25.571", body_regions=["ankle"]))
    assert decision.items[0].body_regions == ["ankle"] and decision.items[0].outcome.value == "overturned"


def test_rfa_problems_in_a_file_have_lines(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(
        "date_of_injury: 2013-01-10\nrequest_date: 2014-03-01\nrfa_lines:\n"
        "  - icd10: S33.5XXA\n    service: Manual therapy\n    code: '97140'\n"
    )
    with pytest.raises(CaseError) as info:
        load_case(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.location) == (str(path), 6, "rfa_lines[0].code")


def test_codes_are_recorded_normalized_and_any_existing_code_is_accepted(engine):
    # Regression: a lower-case code, or an existing U code, passed the code table
    # and then escaped as a raw ValidationError from the case model, whose ICD-10
    # pattern differed from the code table's.
    decision = engine.evaluate(_rfa(icd10="s33.5xxa"))
    assert decision.items[0].rfa.icd10 == "S33.5XXA" and decision.items[0].body_regions == ["lumbar"]
    decision = engine.evaluate(_rfa(icd10="U07.1", body_regions=["lumbar"]))
    assert decision.items[0].rfa.icd10 == "U07.1"


# --------------------------------------------------------------------------- new treatments


def test_tens_trial_example_reads_its_lines(engine):
    case = load_case(EXAMPLES / "rfa" / "tens-trial-rfa.yaml")
    tens, therapy = case.requested_items
    assert (tens.treatment.value, tens.purpose.value, tens.device_leads, tens.quantity) == ("tens", "trial", 2, "not_specified")
    assert (tens.rfa.resolved_by, tens.rfa.diagnosis_group.value, tens.rfa.diagnosis_regions) == ("code", "crps", [])
    assert [r.value for r in tens.body_regions] == ["wrist", "hand"]
    assert (therapy.treatment.value, therapy.rfa.resolved_by, therapy.visits) == ("occupational_therapy", "wording", 8)
    assert [d.group.value for d in case.diagnoses] == ["crps"]  # one diagnosis, read once
    decision = engine.evaluate(case)
    assert "code E0720 -> tens; ICD-10 G90.511 -> no particular region, crps; no quantity; a unit with 2 leads." in (
        decision.items[0].rationale.case)


@pytest.mark.parametrize(
    "code, service, treatment",
    [
        ("97113", "Aquatic therapy", "aquatic_therapy"),
        ("97110", "PT 2x4", "physical_therapy"),
        ("97530", "OT, therapeutic activities", "occupational_therapy"),
        ("97166", "Evaluation", "occupational_therapy"),
        ("97545", "Work hardening program", "work_hardening"),
        ("97545", "Work conditioning program", "work_conditioning"),
        ("97014", "H-wave in clinic", "h_wave"),
        ("G0283", "Galvanic stimulation", "galvanic_stimulation"),
        ("S8130", "Interferential unit", "interferential_current"),
        ("97813", "Electroacupuncture", "acupuncture"),
    ],
)
def test_rfa_lines_of_the_new_treatments(code, service, treatment):
    from mtus_rules.case import parse_case

    case = parse_case(_rfa(code=code, service=service))
    assert case.requested_items[0].treatment.value == treatment


@pytest.mark.parametrize("code, service", [("97110", "Therapeutic exercise"), ("97545", "Work program, first two hours")])
def test_a_shared_code_without_the_profession_or_program_is_reported(code, service):
    problems = _problems(_rfa(code=code, service=service))
    assert list(problems) == ["rfa_lines[0].code"] and code in problems["rfa_lines[0].code"]


def test_the_unit_code_gives_the_leads_and_a_stated_number_must_agree():
    from mtus_rules.case import parse_case

    def leads(**line):
        return parse_case(_rfa(service="TENS unit", quantity=None, purpose="trial", **line)).requested_items[0].device_leads

    assert leads(code="E0720") == 2
    assert leads(code="E0730") == 4  # "four or more": the least it can mean
    assert leads(code="E0730", device_leads=6) == 6
    assert leads(code="97014", device_leads=4) == 4  # the code fixes none: the line's number
    assert leads(code="97014") is None
    problems = _problems(_rfa(code="E0720", service="TENS unit", quantity=None, device_leads=4))
    assert list(problems) == ["rfa_lines[0].device_leads"]
    assert "4 leads" in problems["rfa_lines[0].device_leads"] and "E0720" in problems["rfa_lines[0].device_leads"]
    assert "4 or more" in _problems(_rfa(code="E0730", service="TENS unit", quantity=None, device_leads=2))[
        "rfa_lines[0].device_leads"]


@pytest.mark.parametrize(
    "icd10, group, regions",
    [("E11.42", "neuropathic_pain", []), ("G54.6", "phantom_limb", []), ("S14.115S", "spinal_cord_injury", ["cervical"]),
     ("G35.A", "multiple_sclerosis", []), ("M77.11", "soft_tissue_inflammation", ["elbow"])],
)
def test_rfa_diagnoses_of_the_new_groups(icd10, group, regions):
    from mtus_rules.case import parse_case

    case = parse_case(_rfa(icd10=icd10, body_regions=regions or ["lumbar"]))
    (diagnosis,) = case.diagnoses
    assert (diagnosis.group.value, [r.value for r in diagnosis.body_regions]) == (group, regions or ["lumbar"])
    assert case.requested_items[0].rfa.diagnosis_group.value == group


def test_work_hardening_example_reads_hours_as_sessions(engine):
    case = load_case(EXAMPLES / "rfa" / "work-hardening-rfa.yaml")
    (item,) = case.requested_items
    assert (item.treatment.value, item.rfa.resolved_by, item.visits) == ("work_hardening", "wording", 10)
    assert (item.rfa.diagnosis_group.value, [r.value for r in item.body_regions]) == ("disc_disorder", ["lumbar"])
    decision = engine.evaluate(case)
    assert "code 97545 -> work_hardening (by the service's wording)" in decision.items[0].rationale.case
    assert "'10 sessions x 6 hours' -> 10 visits" in decision.items[0].rationale.case


@pytest.mark.parametrize(
    "fields, visits",
    [
        ({"quantity": "10 sessions x 4 hours"}, 10),
        ({"quantity": "5x/week for 2 weeks, 4 hours a day"}, 10),
        ({"frequency": "5 days/week", "duration": "2 weeks"}, 10),
        ({"quantity": "x 10 sessions"}, 10),
    ],
)
def test_a_per_hour_code_needs_its_sessions_named(fields, visits):
    from mtus_rules.case import parse_case

    line = {"code": "97546", "service": "Work hardening, each additional hour", "quantity": None, **fields}
    assert parse_case(_rfa(**line)).requested_items[0].visits == visits


@pytest.mark.parametrize("quantity", ["x 40", "qty 40", "#40"])
def test_a_bare_count_on_a_per_hour_code_is_not_read_as_sessions(quantity):
    problems = _problems(_rfa(code="97546", service="Work hardening, each additional hour", quantity=quantity))
    assert list(problems) == ["rfa_lines[0].quantity"]
    assert "billed per hour" in problems["rfa_lines[0].quantity"] and repr(quantity) in problems["rfa_lines[0].quantity"]


def test_a_count_on_the_first_two_hours_code_is_sessions():
    from mtus_rules.case import parse_case

    item = parse_case(_rfa(code="97545", service="Work conditioning", quantity="x 10")).requested_items[0]
    assert (item.treatment.value, item.visits) == ("work_conditioning", 10)


def test_hours_alone_are_read_as_hours_and_the_decision_says_how():
    from mtus_rules import Engine
    from mtus_rules.case import Hours, parse_case

    case = parse_case(_rfa(code="97545", service="Work hardening", quantity="80 hours"))
    item = case.requested_items[0]
    assert item.quantity == Hours(hours=80) and item.visits is None and item.visits_at_least == 10
    notes = [f.text for f in Engine().evaluate(case).items[0].findings if f.kind == "note"]
    assert any("80 hours with no session length" in n and "at least 10 sessions" in n for n in notes)


def test_hours_alone_in_the_separate_quantity_field_are_refused():
    problems = _problems(_rfa(code="97545", service="Work hardening", frequency="5x/week", duration="2 weeks", quantity="80 hours"))
    assert list(problems) == ["rfa_lines[0].quantity"]
    assert "hours alone (80 hours) give no number of sessions" in problems["rfa_lines[0].quantity"]


def test_the_schema_lists_the_new_vocabulary_and_the_lead_count():
    import mtus_rules

    defs = mtus_rules.case_json_schema()["$defs"]
    assert {"occupational_therapy", "h_wave", "galvanic_stimulation", "work_hardening"} <= set(defs["Treatment"]["enum"])
    assert {"neuropathic_pain", "phantom_limb", "spinal_cord_injury", "multiple_sclerosis", "soft_tissue_inflammation"} <= set(
        defs["DiagnosisGroup"]["enum"])
    assert defs["RfaLine"]["properties"]["device_leads"]["anyOf"][0] == {"maximum": 16, "minimum": 1, "type": "integer"}


@pytest.mark.parametrize("quantity,visits", [("8", 8), (" 12 ", 12), ("1,000", 1000)])
def test_a_bare_number_in_the_quantity_column_is_a_visit_count(quantity, visits):
    from mtus_rules.case import Visits, parse_case

    item = parse_case(_rfa(quantity=quantity)).requested_items[0]
    assert item.quantity == Visits(visits=visits)
    assert item.rfa.visits == visits and item.rfa.quantity_text == quantity


@pytest.mark.parametrize(
    "quantity,reason",
    [("0", "zero or negative"), ("-3", "zero or negative"), ("1001", "more than 1000 visits"), ("8.5", "not a whole number")],
)
def test_a_bare_number_that_is_not_a_visit_count_is_refused_at_its_column(quantity, reason):
    problems = _problems(_rfa(quantity=quantity))
    assert list(problems) == ["rfa_lines[0].quantity"]
    assert reason in problems["rfa_lines[0].quantity"] and repr(quantity) in problems["rfa_lines[0].quantity"]


def test_a_bare_number_refused_in_a_file_names_its_line(tmp_path):
    from mtus_rules.case import load_case as load

    path = tmp_path / "rfa.yaml"
    path.write_text(
        "date_of_injury: 2013-01-10\nrequest_date: 2014-03-01\nrfa_lines:\n"
        "  - icd10: S33.5XXA\n    service: Massage\n    code: '97124'\n    quantity: '0'\n"
    )
    with pytest.raises(CaseError) as info:
        load(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.location) == (str(path), 7, "rfa_lines[0].quantity")


def test_a_bare_number_in_the_duration_column_stays_ambiguous():
    problems = _problems(_rfa(quantity=None, duration="8"))
    assert "rfa_lines[0].duration" in problems
