"""The postsurgical family: the MTUS Postsurgical Treatment Guidelines (8 CCR 9792.24.3,
rules/mtus-2009/postsurgical.yaml) and the Labor Code 4604.5 visit cap
(rules/mtus-2009/statute.yaml).

The YAML rule tests (rules/mtus-2009/tests/postsurgical.yaml, statute.yaml) hold the
visit and weeks boundaries; here is what they cannot assert: the period boundaries of
every listed surgery through dates, finding kinds and their wording, the derived
period against a stated one, the citations' confirmation, and the what-if under the cap.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest

from mtus_rules import Engine, Outcome, apply_alternative, bundled_pack_dirs, load_case, load_pack
from mtus_rules.case.derived import add_months
from mtus_rules.vocabulary import POSTSURGICAL_PERIOD_MONTHS, SurgicalProcedure

from .helpers import EXAMPLES, make_case

PACK = load_pack(bundled_pack_dirs()[0])
RULES = {rule.id: rule for rule in PACK.rules}
STATUTE = "lc4604.5.chiropractic_cap"  # most cap tests use chiropractic (_chiro)
PT_CAP = "lc4604.5.visit_cap"
RECOMMENDED = "mtus.postsurgical.recommended"
GENERAL_PT = "mtus.cpmtg.physical_medicine.recommended"

#: Guideline sheet 10.6: (general course visits, weeks, period in months, initial course).
#: Carpal tunnel release is 3-8 visits over 3-5 weeks: the upper figures.
SCHEDULE = {
    "lumbar_discectomy_laminectomy": (16, 8, 6, 8),
    "lumbar_fusion": (34, 16, 6, 17),
    "rotator_cuff_repair_arthroscopic": (24, 14, 6, 12),
    "rotator_cuff_repair_open": (30, 18, 6, 15),
    "carpal_tunnel_release": (8, 5, 3, 4),
    "meniscectomy": (12, 12, 6, 6),
    "acl_repair": (24, 16, 6, 12),
    "total_knee_arthroplasty": (24, 10, 4, 12),
}


def _pt(visits: int = 4, region: str = "knee", treatment: str = "physical_therapy") -> dict:
    return {"description": f"PT x{visits}", "treatment": treatment, "body_regions": [region], "quantity": {"visits": visits}}


def _case(item: dict, history: list | None = None, **fields) -> dict:
    fields.setdefault("date_of_injury", "2013-01-10")
    fields.setdefault("care_stage", "ongoing_care")
    return make_case(item, history or [], **fields)


def _item(engine: Engine, case: dict, what_if: bool = False):
    return engine.evaluate(case, what_if=what_if).items[0]


def _kinds(item, rule: str) -> set[str]:
    return {f.kind for f in item.findings if f.rule == rule}


# -- every figure of sheet 10.6 is the one encoded ------------------------------------


def test_every_listed_surgery_has_its_figures():
    assert set(SCHEDULE) == {p.value for p in SurgicalProcedure if p is not SurgicalProcedure.OTHER}
    for surgery, (visits, weeks, months, half) in SCHEDULE.items():
        general = RULES[f"mtus.postsurgical.{surgery}.general_course"]
        initial = RULES[f"mtus.postsurgical.{surgery}.initial_course"]
        span = RULES[f"mtus.postsurgical.{surgery}.weeks"]
        assert general.limit.visits == visits and general.limit.counts == "total_visits"
        assert [(t.fact, t.op, t.value) for t in initial.conditions if t.fact == "total_visits"] == [("total_visits", "gt", half)]
        assert half == visits // 2 and half * 2 == visits  # every half is whole: no rounding needed
        assert initial.requirement.fact == "functional_improvement" and initial.requirement.value == "yes"
        assert [(t.fact, t.op, t.value) for t in span.conditions if t.fact == "weeks_requested"] == [("weeks_requested", "gt", weeks)]
        assert span.effect == "not_recommended"
        assert POSTSURGICAL_PERIOD_MONTHS[SurgicalProcedure(surgery)] == months
        for rule in (general, initial, span):
            assert rule.applies_to.treatment == ["physical_therapy", "aquatic_therapy", "occupational_therapy"]
            assert {(t.fact, t.value) for t in rule.conditions} >= {("surgery", surgery), ("postsurgical_period", "within")}


def test_meniscectomy_is_secondary_and_the_rest_attested():
    for rule in PACK.rules:
        if not rule.id.startswith("mtus.postsurgical."):
            continue
        assert rule.citation.source == "MTUS" and rule.citation.guideline == "MTUS Postsurgical Treatment Guidelines (2009)"
        assert rule.citation.pages is None
        secondary = rule.id in ("mtus.postsurgical.meniscectomy.general_course", "mtus.postsurgical.meniscectomy.weeks")
        assert rule.citation.confirmed_by == ("secondary_summary" if secondary else "attested"), rule.id
        assert ("FRIEDMAN" if secondary else "10.6") in rule.citation.evidence


@pytest.mark.parametrize("rule_id", [STATUTE, PT_CAP])
def test_the_statute_is_cited_as_a_statute(rule_id):
    c = RULES[rule_id].citation
    assert (c.source, c.guideline, c.section, c.pages, c.confirmed_by) == (
        "statute", "California Labor Code", "4604.5 (24-visit cap per industrial injury)", None, "secondary_summary",
    )
    assert "1.4" in c.evidence


def test_the_cap_rules_split_chiropractic_from_postsurgical_physical_medicine():
    """Postsurgical physical medicine (PT, aquatic, OT) within a period is outside the cap;
    chiropractic is never postsurgical physical medicine, so its cap has no period test."""
    therapy, chiro = RULES[PT_CAP], RULES[STATUTE]
    assert therapy.applies_to.treatment == ["physical_therapy", "aquatic_therapy", "occupational_therapy"]
    assert {(t.fact, t.op, t.value) for t in therapy.conditions} == {
        ("injury_year", "ge", 2004), ("postsurgical_period", "is", "not_within"), ("injury_visits", "gt", 24),
    }
    assert chiro.applies_to.treatment == ["manipulation"]
    assert {(t.fact, t.op, t.value) for t in chiro.conditions} == {("injury_year", "ge", 2004), ("injury_visits", "gt", 24)}


# -- the period: the day N months after the surgery is within, the day after is not --


_PERIOD_CASES = [
    (surgery, start, inside)
    for surgery in SCHEDULE
    for start in ("2013-09-15", "2013-08-31")  # a mid-month and a month-end date (clamped: 08-31 + 6 months = 02-28)
    for inside in (True, False)
]


@pytest.mark.parametrize("surgery,start,inside", _PERIOD_CASES, ids=lambda v: str(v))
def test_period_ends_the_day_n_months_after_the_surgery(engine, surgery, start, inside):
    months = SCHEDULE[surgery][2]
    last = add_months(_dt.date.fromisoformat(start), months)
    day = last if inside else last + _dt.timedelta(days=1)
    case = _case(_pt(4), surgery={"procedure": surgery, "date": start}, request_date=day.isoformat())
    item = _item(engine, case)
    assert item.outcome is Outcome.OVERTURNED
    if inside:
        assert item.rules == [RECOMMENDED, f"mtus.postsurgical.{surgery}.general_course"]
        words = f"Postsurgical period: within the {months} months after the"
    else:
        assert GENERAL_PT in item.rules and not any(r.startswith("mtus.postsurgical.") for r in item.rules)
        words = f"Postsurgical period: past the {months} months after the"
    assert any(f.kind == "note" and f.text.startswith(words) for f in item.findings)


def test_month_end_clamping_is_as_stated():
    assert add_months(_dt.date(2013, 8, 31), 6) == _dt.date(2014, 2, 28)
    assert add_months(_dt.date(2013, 8, 31), 3) == _dt.date(2013, 11, 30)
    assert add_months(_dt.date(2013, 8, 31), 4) == _dt.date(2013, 12, 31)


# -- a stated period overrides the derived one, and the decision says so ----------------


def test_stated_not_within_overrides_dates_within_the_period(engine):
    case = _case(_pt(6), surgery={"procedure": "meniscectomy", "date": "2014-01-15", "postsurgical_period": "not_within"})
    item = _item(engine, case)
    assert item.outcome is Outcome.OVERTURNED and GENERAL_PT in item.rules
    assert not any(r.startswith("mtus.postsurgical.") for r in item.rules)
    notes = [f.text for f in item.findings if f.kind == "note"]
    assert "Postsurgical period of the meniscectomy: not within (as stated in the record)." in notes


def test_stated_within_overrides_dates_past_the_period(engine):
    case = _case(_pt(7), surgery={"procedure": "meniscectomy", "date": "2013-01-15", "postsurgical_period": "within"})
    item = _item(engine, case)
    # 7 visits with none since the surgery: past the initial course of 6, nothing to show improvement.
    assert item.outcome is Outcome.UPHELD and item.rules == ["mtus.postsurgical.meniscectomy.initial_course"]
    assert "criterion_not_met" in _kinds(item, "mtus.postsurgical.meniscectomy.initial_course")
    notes = [f.text for f in item.findings if f.kind == "note"]
    assert "Postsurgical period of the meniscectomy: within (as stated in the record)." in notes


def test_a_surgery_not_listed_is_never_within_even_when_stated(engine):
    case = _case(_pt(6, "ankle"), surgery={"procedure": "other", "description": "Ankle ORIF", "postsurgical_period": "within"})
    item = _item(engine, case)
    assert item.outcome is Outcome.OVERTURNED and GENERAL_PT in item.rules
    assert not any(r.startswith("mtus.postsurgical.") for r in item.rules)
    assert any("not one the postsurgical schedule lists" in f.text and "within its period or not" in f.text
               for f in item.findings if f.kind == "note")


# -- findings: what each fact the family reads gives -----------------------------------


def test_listed_surgery_without_date_is_insufficient_documentation_naming_the_date(engine):
    case = _case(_pt(6), surgery={"procedure": "meniscectomy", "description": "Right knee meniscectomy"})
    item = _item(engine, case)
    assert item.outcome is Outcome.UPHELD
    for rule in (RECOMMENDED, GENERAL_PT):
        found = [f for f in item.findings if f.rule == rule]
        assert [f.kind for f in found] == ["insufficient_documentation"], rule
        assert found[0].needed == ("the date of surgery",)
    assert any("The date of the meniscectomy is not documented" in f.text for f in item.findings if f.kind == "note")
    # 6 visits are within the general course of 12 either way: that limit cannot fail, so it
    # asks for nothing. 13 visits could be past it, so it asks for the date too.
    assert not [f for f in item.findings if f.rule == "mtus.postsurgical.meniscectomy.general_course"]
    past = _item(engine, _case(_pt(13), surgery={"procedure": "meniscectomy"}))
    found = [f for f in past.findings if f.rule == "mtus.postsurgical.meniscectomy.general_course"]
    assert [f.kind for f in found] == ["insufficient_documentation"] and found[0].needed == ("the date of surgery",)


@pytest.mark.parametrize(
    "history,kind",
    [
        ([], "criterion_not_met"),  # no prior visits since the surgery: nothing to have improved
        ([{"treatment": "physical_therapy", "visits": 6, "functional_improvement": "no", "start_date": "2014-01-20"}], "criterion_not_met"),
        ([{"treatment": "physical_therapy", "visits": 6, "functional_improvement": "not_documented", "start_date": "2014-01-20"}],
         "insufficient_documentation"),
        ([{"treatment": "physical_therapy", "visits": 6, "functional_improvement": "yes", "start_date": "2014-01-20"}], "criterion_met"),
    ],
)
def test_past_the_initial_course_needs_documented_improvement(engine, history, kind):
    visits = 7 if not history else 6  # 7 in all, or 12 in all: both past the initial 6
    case = _case(_pt(visits), history, surgery={"procedure": "meniscectomy", "date": "2014-01-15"})
    item = _item(engine, case)
    assert _kinds(item, "mtus.postsurgical.meniscectomy.initial_course") == {kind}
    assert item.outcome is (Outcome.OVERTURNED if kind == "criterion_met" else Outcome.UPHELD)


def test_more_weeks_than_the_general_course_is_not_recommended(engine):
    item = _item(engine, _case({"description": "PT 1x6", "treatment": "physical_therapy", "body_regions": ["wrist"],
                                "quantity": {"per_week": 1, "weeks": 6}},
                               [{"treatment": "physical_therapy", "visits": 2, "functional_improvement": "yes", "start_date": "2014-01-20"}],
                               surgery={"procedure": "carpal_tunnel_release", "date": "2014-01-15"}))
    assert item.outcome is Outcome.UPHELD and item.rules == ["mtus.postsurgical.carpal_tunnel_release.weeks"]
    (finding,) = [f for f in item.findings if f.rule == "mtus.postsurgical.carpal_tunnel_release.weeks"]
    assert finding.kind == "not_recommended" and "weeks requested: 6" in finding.text


def test_within_the_period_the_region_operated_on_is_not_required(engine):
    # The period is a fact of the case: lumbar therapy after a knee surgery is decided by the schedule too.
    item = _item(engine, _case(_pt(6, "lumbar"), surgery={"procedure": "meniscectomy", "date": "2014-01-15"}))
    assert item.rules == [RECOMMENDED, "mtus.postsurgical.meniscectomy.general_course"]


def test_undated_surgery_stated_within_makes_prior_courses_a_range(engine):
    history = [{"treatment": "physical_therapy", "visits": 6, "functional_improvement": "not_documented", "start_date": "2014-01-20"}]
    case = _case(_pt(6), history, surgery={"procedure": "meniscectomy", "postsurgical_period": "within"})
    item = _item(engine, case)
    # 6 requested: at most the initial course if none of the 6 prior followed the surgery, past it otherwise.
    assert item.outcome is Outcome.UPHELD
    assert _kinds(item, "mtus.postsurgical.meniscectomy.initial_course") == {"insufficient_documentation"}
    assert any("whether the prior physical therapy followed it cannot be told" in f.text for f in item.findings if f.kind == "note")
    # With no prior course at all it is simply a first course.
    first = _item(engine, _case(_pt(6), [], surgery={"procedure": "meniscectomy", "postsurgical_period": "within"}))
    assert first.outcome is Outcome.OVERTURNED


def test_within_the_period_manipulation_still_counts_every_prior_visit(engine):
    # The schedule governs physical, aquatic and occupational therapy only: 18 low back
    # manipulations before a knee surgery still count against the CPMTG's 18.
    history = [{"treatment": "manipulation", "visits": 18, "functional_improvement": "yes", "start_date": "2013-06-01"}]
    case = _case({"description": "chiro x2", "treatment": "manipulation", "body_regions": ["lumbar"], "quantity": {"visits": 2}},
                 history, surgery={"procedure": "meniscectomy", "date": "2014-01-15"})
    item = _item(engine, case)
    assert item.outcome is Outcome.UPHELD and item.rules == ["mtus.cpmtg.manipulation.low_back.maximum"]
    assert any("18 prior + 2 requested = 20 visits" in f.text for f in item.findings)


@pytest.mark.parametrize(
    "surgery",
    [{"procedure": "meniscectomy", "date": "2014-01-15"}, {"procedure": "meniscectomy", "postsurgical_period": "within"}],
)
def test_what_if_never_proposes_counting_courses_that_cannot_be_placed_after_the_surgery(engine, surgery):
    # Documenting the visits of a course that may or may not have followed the surgery
    # leaves the count since the surgery a range, so that is not offered as a change.
    for history in ([{"treatment": "physical_therapy", "visits": "not_documented"}],
                    [{"treatment": "physical_therapy", "visits": 3}]):
        case = _case(_pt(4), history, surgery=surgery)
        item = _item(engine, case, what_if=True)
        assert item.outcome is Outcome.UPHELD
        for alternative in item.what_if.alternatives:
            assert "visits_to_date" not in {c.fact for c in alternative.changes}
            assert engine.evaluate(apply_alternative(case, 0, alternative)).items[0].outcome is Outcome.OVERTURNED


def test_what_if_memo_tells_dated_from_undated_courses():
    # Same facts for the rules (a count not documented), but only the dated course can be
    # settled by documenting its visits: a memo shared by the two must not mix them up.
    surgery = {"procedure": "meniscectomy", "date": "2014-01-15"}
    dated = _case(_pt(4), [{"treatment": "physical_therapy", "visits": "not_documented", "start_date": "2014-01-20"},
                           {"treatment": "physical_therapy", "visits": "not_documented", "start_date": "2013-08-01"}], surgery=surgery)
    undated = _case(_pt(4), [{"treatment": "physical_therapy", "visits": "not_documented"}], surgery=surgery)
    shared = Engine()
    first = shared.evaluate(dated, what_if=True).items[0].what_if
    assert any("visits_to_date" in {c.fact for c in a.changes} for a in first.alternatives)
    assert shared.evaluate(undated, what_if=True) == Engine(cache_size=0).evaluate(undated, what_if=True)


# -- the statutory cap -------------------------------------------------------------------


def _chiro(requested: int, prior: int = 20, **fields) -> dict:
    return _case(
        {"description": f"chiro neck x{requested}", "treatment": "manipulation", "body_regions": ["cervical"],
         "quantity": {"visits": requested}},
        [{"treatment": "manipulation", "visits": prior, "functional_improvement": "yes"}],
        diagnoses=[{"description": "Neck sprain", "body_regions": ["cervical"], "group": "sprain_strain"}],
        **fields,
    )


@pytest.mark.parametrize(
    "authorization,kind,outcome",
    [("no", "exceeds_statutory_cap", Outcome.UPHELD),
     ("not_documented", "insufficient_documentation", Outcome.UPHELD),
     ("yes", "criterion_met", Outcome.OVERTURNED)],
)
def test_cap_authorization_findings(engine, authorization, kind, outcome):
    item = _item(engine, _chiro(5, cap_authorization=authorization))
    assert _kinds(item, STATUTE) == {kind}
    assert item.outcome is outcome
    (finding,) = [f for f in item.findings if f.rule == STATUTE]
    assert "20 prior + 5 requested = 25 visits" in finding.text
    if kind == "insufficient_documentation":
        assert finding.needed == ("whether the claims administrator authorized visits beyond the 24-visit cap in writing",)
    if kind == "exceeds_statutory_cap":
        assert finding.text.endswith("over the statutory cap.")
    if kind == "criterion_met":
        assert finding.text.endswith("the cap is lifted.")


def test_the_cap_upholds_manipulation_the_guidelines_support(engine):
    # 20 neck manipulations with objective improvement: the CPMTG sets no total for the neck,
    # so the guidelines support 5 more; Labor Code 4604.5 does not.
    item = _item(engine, _chiro(5, cap_authorization="no"))
    assert item.outcome is Outcome.UPHELD and item.rules == [STATUTE]
    assert "recommended" in _kinds(item, "mtus.cpmtg.manipulation.recommended")
    assert "criterion_met" in _kinds(item, "mtus.cpmtg.manipulation.trial")
    assert _item(engine, _chiro(4, cap_authorization="no")).outcome is Outcome.OVERTURNED  # 24: at the cap


def test_the_statute_is_never_worded_as_a_guideline_limit(engine):
    for authorization in ("no", "not_documented", "yes"):
        item = _item(engine, _chiro(5, cap_authorization=authorization))
        texts = [f.text for f in item.findings if f.rule == STATUTE]
        texts.append(item.rationale.case)
        for text in texts:
            assert "guideline" not in text.lower() and "limit of" not in text
        assert all(c.source != "statute" or c.guideline == "California Labor Code" for c in item.citations)
    upheld = _item(engine, _chiro(5, cap_authorization="no"))
    assert [c.source for c in upheld.citations] == ["statute"]
    assert "Labor Code 4604.5" in upheld.rationale.guideline


@pytest.mark.parametrize("injury,capped", [("2003-12-31", False), ("2004-01-01", True)])
def test_the_cap_starts_with_injuries_of_2004(engine, injury, capped):
    item = _item(engine, _chiro(10, date_of_injury=injury, cap_authorization="no"))
    assert (STATUTE in item.rules) is capped
    assert item.outcome is (Outcome.UPHELD if capped else Outcome.OVERTURNED)


def test_chiropractic_is_capped_whatever_the_postsurgical_period(engine):
    """Chiropractic is not postsurgical physical medicine: past 24 visits it is capped even
    with a listed surgery whose date, and so whose period, is not documented."""
    item = _item(engine, _chiro(5, cap_authorization="no", surgery={"procedure": "acl_repair"}))
    assert _kinds(item, STATUTE) == {"exceeds_statutory_cap"} and item.outcome is Outcome.UPHELD


def test_a_listed_surgery_without_date_leaves_the_physical_therapy_cap_unshown(engine):
    """Physical therapy past 24 visits after a listed surgery with no date: whether the
    visits are postsurgical (outside the cap) is open, and the cap bars only what the record
    shows. The item is still upheld: the schedules ask for the date of surgery."""
    case = _case(_pt(5, "knee"), [{"treatment": "physical_therapy", "visits": 20, "functional_improvement": "yes"}],
                 cap_authorization="no", surgery={"procedure": "acl_repair"})
    item = _item(engine, case)
    assert not [f for f in item.findings if f.rule == PT_CAP]
    assert item.outcome is Outcome.UPHELD
    assert any("the date of surgery" in n for f in item.findings for n in f.needed)


def test_postsurgical_visits_past_24_are_not_capped(engine):
    history = [
        {"treatment": "physical_therapy", "visits": 24, "functional_improvement": "no", "start_date": "2013-03-01"},
        {"treatment": "physical_therapy", "visits": 20, "functional_improvement": "yes", "start_date": "2014-01-20"},
    ]
    case = _case(_pt(10, "lumbar"), history, cap_authorization="no",
                 surgery={"procedure": "lumbar_fusion", "date": "2014-01-15"})
    item = _item(engine, case)
    assert item.outcome is Outcome.OVERTURNED and PT_CAP not in item.rules
    assert not [f for f in item.findings if f.rule == PT_CAP]


def test_what_if_under_the_cap_supports_up_to_24(engine):
    case = _chiro(5, cap_authorization="no")
    item = _item(engine, case, what_if=True)
    assert item.what_if.supported_visits == 4
    texts = [a.text for a in item.what_if.alternatives]
    assert "the request reduced to 4 visits" in texts
    assert "written authorization beyond the statutory cap documented as yes" in texts
    for alternative in item.what_if.alternatives:
        assert engine.evaluate(apply_alternative(case, 0, alternative)).items[0].outcome is Outcome.OVERTURNED
    # Within the cap the answer is the cap too, not "no upper bound".
    assert _item(engine, _chiro(2, cap_authorization="no"), what_if=True).what_if.supported_visits == 4


def test_the_cap_bars_only_a_count_the_record_shows_past_24(engine):
    """Prior chiropractic visits not documented: the cap is the claims administrator's to
    apply from its own records, not a documentation burden of the patient, so it raises no
    finding until the record shows the count past 24 (4 requested + at least 21 prior)."""
    def chiro(prior):
        return _case(
            {"description": "chiro neck x4", "treatment": "manipulation", "body_regions": ["cervical"],
             "quantity": {"visits": 4}},
            [{"treatment": "manipulation", "visits": prior, "functional_improvement": "yes"}],
            cap_authorization="no",
        )
    unknown = _item(engine, chiro("not_documented"))
    assert unknown.outcome is Outcome.OVERTURNED and not [f for f in unknown.findings if f.rule == STATUTE]
    shown = _item(engine, chiro(21))
    assert shown.outcome is Outcome.UPHELD and _kinds(shown, STATUTE) == {"exceeds_statutory_cap"}


# -- the engine copes with many rules naming several treatments ---------------------------


def test_many_rules_for_several_treatments_fit_the_engine(tmp_path: Path):
    """durable_rules keeps at most 64 pending nodes while matching a fact; an `$or` of
    treatments repeated in every rule overflowed it (error 303)."""
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "pack.yaml").write_text("name: many\nversion: 1.0.0\ntitle: many\neffective: {start: 2009-07-18}\n")
    rules = ["rules:"]
    for n in range(120):
        rules.append(
            f"  - id: mtus.many.r{n}\n    title: rule {n}\n    citation: {{source: MTUS, guideline: G, section: S, "
            f"confirmed_by: guideline_text, evidence: e}}\n    question: many.q{n}\n"
            f"    applies_to: {{treatment: [physical_therapy, aquatic_therapy, occupational_therapy]}}\n"
            f"    when: {{total_visits: {{gt: {n % 30}}}}}\n    effect: requires\n    requires: {{functional_improvement: yes}}\n"
            f"    statement: s\n"
        )
    (folder / "rules.yaml").write_text("\n".join(rules))
    engine = Engine([load_pack(folder)])
    case = _case(_pt(12), [{"treatment": "physical_therapy", "visits": "not_documented"}])
    item = engine.evaluate(case).items[0]
    assert item.outcome is Outcome.UPHELD and len(item.rules) == 120


# -- the example ------------------------------------------------------------------------------


def test_example_postsurgical_meniscectomy(engine):
    decision = engine.evaluate(load_case(EXAMPLES / "postsurgical-meniscectomy.yaml"))
    first, second = decision.items
    assert first.outcome is Outcome.OVERTURNED
    assert first.rules == [RECOMMENDED, "mtus.postsurgical.meniscectomy.general_course", "mtus.postsurgical.meniscectomy.initial_course"]
    assert second.outcome is Outcome.UPHELD and second.rules == ["mtus.postsurgical.meniscectomy.general_course"]
    assert "6 prior + 8 requested = 14 visits" in second.rationale.case
