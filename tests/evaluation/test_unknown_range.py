"""Unknown is a range, not a blank (issue 9, point 10).

A count the record does not give is at least what it does give: prior visits
not documented and 12 requested is at least 12 visits. What that lower bound
already settles is decided and worded as the criterion it fails; only what it
leaves open is "insufficient documentation". And a first course is never asked
for improvement "measured during the prior visits": there are none.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from mtus_rules import Engine
from mtus_rules.testing import case_dicts
from mtus_rules.vocabulary import NOT_DOCUMENTED, Treatment, counted_with

from ..helpers import make_case

ENGINE = Engine()
PROFILE = settings(
    max_examples=5000 if os.environ.get("MTUS_HYPOTHESIS_PROFILE") == "thorough" else 150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

MYALGIA = [{"description": "Myofascial pain", "body_regions": ["cervical"], "group": "myalgia_myositis"}]


def _pt(requested: int, history: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    item = {"description": f"PT x{requested}", "treatment": "physical_therapy", "body_regions": ["cervical"],
            "quantity": {"visits": requested}}
    return make_case(item, history=history, diagnoses=MYALGIA, **fields)


def _findings(case: dict[str, Any]):
    return ENGINE.evaluate(case).items[0].findings


def test_twelve_visits_with_prior_visits_unknown_fail_the_count_as_a_criterion():
    """PT x 12, prior visits not documented, improvement "no": 12 alone is past the count of
    10, and "no" fails its requirement. That is the finding, not "number of visits unknown"."""
    case = _pt(12, [{"treatment": "physical_therapy", "visits": "not_documented", "functional_improvement": "no"}])
    item = ENGINE.evaluate(case).items[0]
    assert item.outcome.value == "upheld"
    by_rule = {f.rule: f for f in item.findings if f.rule}
    count = by_rule["mtus.cpmtg.physical_medicine.myalgia.improvement"]
    assert count.kind == "criterion_not_met"
    assert "at least 12" in count.text and "not met" in count.text
    assert not any(f.kind == "insufficient_documentation" and f.rule == count.rule for f in item.findings)


def test_a_lower_bound_under_the_count_leaves_it_open():
    """PT x 4 with prior visits unknown: 4 in all is within 10, but the unknown part may not
    be. The count cannot be applied yet: insufficient documentation, naming the prior visits."""
    case = _pt(4, [{"treatment": "physical_therapy", "visits": "not_documented", "functional_improvement": "no"}])
    findings = [f for f in _findings(case) if f.rule == "mtus.cpmtg.physical_medicine.myalgia.improvement"]
    assert [f.kind for f in findings] == ["insufficient_documentation"]
    assert any("visits" in n for n in findings[0].needed)


def test_documented_courses_raise_the_lower_bound():
    """Two courses, one of 9 visits and one not documented, and 2 requested: at least 11."""
    history = [
        {"treatment": "physical_therapy", "visits": 9, "functional_improvement": "no"},
        {"treatment": "physical_therapy", "visits": "not_documented", "functional_improvement": "no"},
    ]
    findings = {f.rule: f for f in _findings(_pt(2, history)) if f.rule}
    assert findings["mtus.cpmtg.physical_medicine.myalgia.improvement"].kind == "criterion_not_met"
    assert "not documented (at least 11)" in findings["mtus.cpmtg.physical_medicine.myalgia.improvement"].text


def test_a_first_course_is_not_asked_for_improvement_from_prior_visits():
    """Manipulation x 8 with no prior treatment: past the 6-visit trial there is no trial
    whose improvement could be documented, so the trial requirement is not met; nothing is
    "measured during the prior visits"."""
    item = {"description": "Chiropractic x8", "treatment": "manipulation", "body_regions": ["lumbar"],
            "quantity": {"visits": 8}}
    decided = ENGINE.evaluate(make_case(item, history=[])).items[0]
    trial = [f for f in decided.findings if f.rule == "mtus.cpmtg.manipulation.trial"]
    assert [f.kind for f in trial] == ["criterion_not_met"]
    assert "no prior visits" in trial[0].text
    assert not any("prior visits" in n for f in decided.findings for n in f.needed)


def test_a_first_course_of_physical_therapy_within_the_count_is_medically_necessary():
    decided = ENGINE.evaluate(_pt(8, [])).items[0]
    assert decided.outcome.value == "overturned"
    assert not [f for f in decided.findings if f.kind == "insufficient_documentation"]


# -- properties ----------------------------------------------------------------------


def _family(case: dict[str, Any]) -> set[str]:
    return {t.value for t in counted_with(Treatment(case["requested_items"][0]["treatment"]))}


@st.composite
def _unknown_and_documented(draw) -> tuple[dict, dict]:
    """A case whose item 0 has a prior course of its family with visits not documented, and
    the same case with that count documented (any number)."""
    case = draw(case_dicts())
    treatment = case["requested_items"][0]["treatment"]
    history = case.setdefault("treatment_history", [])
    history.append({"treatment": treatment, "visits": NOT_DOCUMENTED,
                    "functional_improvement": draw(st.sampled_from(["yes", "no", NOT_DOCUMENTED]))})
    documented = copy.deepcopy(case)
    documented["treatment_history"][-1]["visits"] = draw(st.integers(0, 40))
    return case, documented


@PROFILE
@given(_unknown_and_documented())
def test_what_a_lower_bound_settles_stays_settled_when_the_count_is_documented(pair):
    """Soundness of the range: every rule the unknown count already settles (applies, passes,
    fails, or does not apply) comes out the same whatever the count turns out to be. Only
    what was left open (unknown, undetermined) may go either way."""
    unknown, documented = pair
    before = ENGINE.explain(unknown).items[0]
    after = ENGINE.explain(documented).items[0]
    for facet_before, facet_after in zip(before.facets, after.facets):
        settled_after = {r.rule: r.outcome for r in facet_after.rules}
        verdict_after = {r.rule: r.verdict for r in facet_after.rules}
        for rule in facet_before.rules:
            note(f"{rule.rule}: {rule.status}")
            if rule.in_scope and rule.when == "unknown" and rule.source == "statute":
                continue  # a statute bars only what the record shows: left open, not settled
            if rule.in_scope and rule.when == "unknown" and rule.outcome is None:
                # "Met whether or not it applies": it may apply or not once documented,
                # but it can never fail.
                assert verdict_after[rule.rule] != "fail", rule.rule
                continue
            if rule.outcome in ("unknown", "undetermined"):
                continue
            assert settled_after[rule.rule] == rule.outcome, rule.rule


@PROFILE
@given(case_dicts())
def test_no_first_course_is_asked_for_improvement_from_visits_it_never_had(case):
    family = _family(case)
    case["treatment_history"] = [c for c in case.get("treatment_history", []) if c["treatment"] not in family]
    item = ENGINE.evaluate(case).items[0]
    needed = [n for f in item.findings for n in f.needed]
    assert not any("measured during the prior visits" in n for n in needed), needed
