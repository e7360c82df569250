"""Physical medicine under the MTUS (issue 9, point 2): the facts its rules read, each with
"no" and "not documented" told apart, and the ODG rows the MTUS count governs."""

from __future__ import annotations

import pytest

from .helpers import make_case

MYALGIA = [{"description": "Myalgia", "body_regions": ["cervical"], "group": "myalgia_myositis"}]


def _pt(requested: int, history=(), treatment: str = "physical_therapy", region: str = "cervical", **fields):
    item = {"description": f"{treatment} x{requested}", "treatment": treatment, "body_regions": [region],
            "quantity": {"visits": requested}}
    fields.setdefault("diagnoses", MYALGIA)
    return make_case(item, history=list(history), **fields)


def _kinds(engine, case, rule: str) -> list[str]:
    return [f.kind for f in engine.evaluate(case).items[0].findings if f.rule == rule]


@pytest.mark.parametrize(
    "answer,kind",
    [("no", "criterion_not_met"), ("not_documented", "insufficient_documentation"), ("yes", "criterion_met")],
)
def test_a_reason_a_home_program_cannot_carry_on(engine, answer, kind):
    """Beyond the count of 10 (10 prior with improvement + 2), a documented reason why a home
    program cannot carry on: "no" fails it, "not documented" asks for it."""
    case = _pt(2, [{"treatment": "physical_therapy", "visits": 10, "functional_improvement": "yes"}],
               home_program_insufficient=answer, cap_authorization="yes")
    assert _kinds(engine, case, "mtus.cpmtg.physical_medicine.myalgia.home_program") == [kind]
    assert engine.evaluate(case).items[0].outcome.value == ("overturned" if answer == "yes" else "upheld")


@pytest.mark.parametrize(
    "answer,kind",
    [("no", "criterion_not_met"), ("not_documented", "insufficient_documentation"), ("yes", "criterion_met")],
)
def test_reduced_weight_bearing_for_aquatic_therapy(engine, answer, kind):
    case = _pt(6, treatment="aquatic_therapy", reduced_weight_bearing=answer)
    assert _kinds(engine, case, "mtus.cpmtg.aquatic_therapy.reduced_weight_bearing") == [kind]
    decided = engine.evaluate(case).items[0]
    assert decided.outcome.value == ("overturned" if answer == "yes" else "upheld")
    if answer == "not_documented":
        (finding,) = [f for f in decided.findings if f.rule == "mtus.cpmtg.aquatic_therapy.reduced_weight_bearing"]
        assert finding.needed == ("whether reduced weight bearing is indicated",)


@pytest.mark.parametrize(
    "group,region,odg_number",
    [
        ("sprain_strain", "knee", 12),  # ODG knee sprain 12 over 8 weeks
        ("radiculopathy", "lumbar", 12),  # ODG sciatica, lumbosacral radiculitis 10-12 over 8 weeks
        ("carpal_tunnel", "wrist", 3),  # ODG carpal tunnel syndrome (medical) 1-3 over 3-5 weeks
        ("sprain_strain", "ankle", 9),  # ODG ankle/foot sprain 9 over 8 weeks
    ],
)
def test_odg_rows_that_differ_from_the_mtus_count_never_decide(engine, group, region, odg_number):
    """ODG may fill a gap, never override the MTUS (9792.25; sheet 10.7). Where an ODG row
    differs from the MTUS count, the MTUS count decides at the ODG number and one past it."""
    diagnoses = [{"description": group, "body_regions": [region], "group": group}]
    mtus_count = 10
    for visits in (odg_number, odg_number + 1):
        decided = engine.evaluate(_pt(visits, region=region, diagnoses=diagnoses)).items[0]
        assert not any(r.startswith("odg.") for r in decided.rules), decided.rules
        expected = "overturned" if visits <= mtus_count else "upheld"
        assert decided.outcome.value == expected, (visits, decided.rules)
        assert any(r.startswith("mtus.cpmtg.physical_medicine.") for r in decided.rules)


def test_an_odg_weeks_figure_never_overrides_the_mtus_span(engine):
    """ODG gives lumbar sprain 10 visits over 8 weeks; the MTUS span for musculoskeletal pain
    is also 8 weeks, and a request stating 9 is past it, decided by the MTUS rule."""
    diagnoses = [{"description": "Lumbar sprain", "body_regions": ["lumbar"], "group": "sprain_strain"}]
    item = {"description": "PT 1x9", "treatment": "physical_therapy", "body_regions": ["lumbar"],
            "quantity": {"per_week": 1, "weeks": 9}}
    decided = engine.evaluate(make_case(item, history=[], diagnoses=diagnoses)).items[0]
    assert decided.outcome.value == "upheld" and decided.rules == ["mtus.cpmtg.physical_medicine.myalgia.weeks"]


def test_odg_carpal_tunnel_weeks_never_override_the_mtus_span(engine):
    """ODG: carpal tunnel syndrome (medical) 1-3 visits over 3-5 weeks (sheet 10.7). The MTUS
    span for musculoskeletal pain (8 weeks) decides instead, at 5 weeks and one past it."""
    diagnoses = [{"description": "Carpal tunnel syndrome", "body_regions": ["wrist"], "group": "carpal_tunnel"}]
    for weeks in (5, 6):
        item = {"description": f"PT 1x{weeks}", "treatment": "physical_therapy", "body_regions": ["wrist"],
                "quantity": {"per_week": 1, "weeks": weeks}}
        decided = engine.evaluate(make_case(item, history=[], diagnoses=diagnoses)).items[0]
        assert decided.outcome.value == "overturned" and not any(r.startswith("odg.") for r in decided.rules)


def test_odg_work_conditioning_weeks_never_override_the_mtus_program_length(engine):
    """ODG: work conditioning 10 visits over 8 weeks (sheet 10.4). The MTUS program of 4 weeks
    or less governs: at 8 weeks and one past, the MTUS rule decides, not the ODG row."""
    for weeks in (8, 9):
        item = {"description": f"Work conditioning 1x{weeks}", "treatment": "work_conditioning",
                "quantity": {"per_week": 1, "weeks": weeks}}
        decided = engine.evaluate(make_case(item, history=[])).items[0]
        assert decided.outcome.value == "upheld"
        assert "mtus.cpmtg.work_conditioning.four_weeks" in decided.rules
        assert "odg.work_conditioning.visits" not in decided.rules
