"""A rule's words never state a number the decision did not use (issue 14,
point 1): placeholders for the rule's own numbers, the what-if said plainly
beside the guideline's words, and lint failing a stated number the rule does
not hold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mtus_rules import Engine
from mtus_rules._resources import bundled_rules_dir
from mtus_rules.authoring.lint import lint_paths
from mtus_rules.cli import main
from mtus_rules.errors import RulePackError
from mtus_rules.packs import stated
from mtus_rules.packs.loading import load_pack

from ..helpers import line_of, make_case

MASSAGE_8 = make_case({"description": "massage x8", "treatment": "massage", "body_regions": ["lumbar"], "quantity": {"visits": 8}})
LIMIT_TITLE_THEN = "Massage therapy is limited to 4-6 visits)"


def _case_file(tmp_path: Path, case: dict) -> Path:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    return path


def _evaluate_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main(["evaluate", "--format", "json", "--no-what-if", *argv]) == 0
    (element,) = json.loads(capsys.readouterr().out)
    return element["decision"]["items"][0]


def _copy_of_bundled_pack(tmp_path: Path) -> Path:
    copy = tmp_path / "mypack"
    shutil.copytree(bundled_rules_dir() / "mtus-2009", copy)
    return copy


# -- the self-contradicting rationale, reproduced -----------------------------------


def test_a_what_if_limit_is_the_number_every_part_of_the_rationale_uses(tmp_path, capsys):
    item = _evaluate_json(capsys, str(_case_file(tmp_path, MASSAGE_8)), "--limit", "mtus.cpmtg.massage.limit=8")
    assert item["outcome"] == "overturned"
    (finding,) = [f for f in item["findings"] if f["rule"] == "mtus.cpmtg.massage.limit"]
    assert "within the limit of 8 (Massage therapy is limited to 8 visits)" in finding["text"]
    rationale = " ".join(item["rationale"].values())
    assert LIMIT_TITLE_THEN not in rationale
    # The guideline's own range stays its words, and the changed number is said plainly beside it.
    assert "limited to 4-6 visits in most cases" in item["rationale"]["guideline"]
    assert "This decision uses a what-if limit of 8 visits, changed from the pack's 6." in item["rationale"]["guideline"]


def test_without_a_what_if_the_rationale_says_nothing_of_one(engine):
    item = engine.evaluate(MASSAGE_8).items[0]
    assert item.outcome.value == "upheld"
    assert "over the limit of 6 (Massage therapy is limited to 6 visits)" in item.rationale.case
    assert "what-if" not in item.rationale.guideline


def test_a_what_if_on_a_condition_is_said_as_the_condition(engine):
    case = make_case(
        {"description": "acupuncture x8", "treatment": "acupuncture", "body_regions": ["lumbar"], "quantity": {"visits": 8}},
        [{"treatment": "acupuncture", "visits": 6, "functional_improvement": "not_documented"}],
        adjunct_to_rehabilitation="yes", care_stage="ongoing_care",
    )
    item = engine.with_overrides({"mtus.acupuncture.trial": 10}).evaluate(case).items[0]
    assert "Acupuncture beyond 6 treatments" not in item.rationale.case
    assert (
        "This decision uses a what-if condition, total visits (prior plus requested) more than 10, changed from "
        "the pack's total visits (prior plus requested) more than 6." in item.rationale.guideline
    )


def test_a_what_if_on_a_what_if_names_the_packs_own_number(engine):
    twice = engine.with_overrides({"mtus.cpmtg.massage.limit": 8}).with_overrides({"mtus.cpmtg.massage.limit": 9})
    item = twice.evaluate(MASSAGE_8).items[0]
    assert "a what-if limit of 9 visits, changed from the pack's 6." in item.rationale.guideline
    back = engine.with_overrides({"mtus.cpmtg.massage.limit": 8}).with_overrides({"mtus.cpmtg.massage.limit": 6})
    assert "what-if" not in back.evaluate(MASSAGE_8).items[0].rationale.guideline


def test_an_edited_copy_of_the_pack_states_its_own_limit_and_lint_finds_the_stale_quote(tmp_path, capsys):
    pack = _copy_of_bundled_pack(tmp_path)
    rules = pack / "massage.yaml"
    rules.write_text(rules.read_text().replace("limit: {visits: 6, counts: total_visits}", "limit: {visits: 8, counts: total_visits}"))
    item = _evaluate_json(capsys, str(_case_file(tmp_path, MASSAGE_8)), "--rules", str(pack))
    assert item["outcome"] == "overturned"
    assert "within the limit of 8 (Massage therapy is limited to 8 visits)" in item["rationale"]["case"]
    assert LIMIT_TITLE_THEN not in " ".join(item["rationale"].values())
    # The words quote the guideline's 4-6; the decision says which number decided beside them.
    assert item["rationale"]["guideline"].endswith(
        'This pack\'s limit is 8 visits, not the "4-6 visits" the words above state.'
    )
    # The statement still quotes the guideline's 4-6, which the edited rule no longer holds: lint fails it.
    errors = [f for f in lint_paths([pack]) if f.severity == "error"]
    assert [(f.code, f.rules, f.files, f.line) for f in errors] == [
        ("stated-number", ["mtus.cpmtg.massage.limit"], [str(rules)], line_of(rules, "id: mtus.cpmtg.massage.limit"))
    ]
    assert 'its statement states "4-6 visits"' in errors[0].message and "{limit.visits}" in errors[0].message
    assert main(["lint", str(pack)]) == 1


# -- placeholders -------------------------------------------------------------------------

_RULE = """\
rules:
  - id: t.massage.limit
    title: {title}
    citation: {{source: MTUS, guideline: G, section: S, pages: "60", confirmed_by: guideline_text, evidence: e}}
    question: massage.visit_count
    applies_to: {{treatment: [massage]}}
    when: {{weeks_requested: {{gt: 4}}}}
    effect: limit
    limit: {{visits: 6}}
    statement: {statement}
"""


def _pack(tmp_path: Path, title: str, statement: str, extra: str = "") -> Path:
    folder = tmp_path / "pack"
    folder.mkdir(exist_ok=True)
    (folder / "pack.yaml").write_text("name: t\nversion: 1.0.0\ntitle: T\neffective: {start: 2009-07-18}\n")
    (folder / "rules.yaml").write_text(_RULE.format(title=title, statement=statement) + extra)
    return folder


def test_placeholders_render_the_rules_numbers_and_double_braces_are_literal(tmp_path):
    folder = _pack(tmp_path, "Massage is limited to {limit.visits} visits", "'Up to {limit.visits} visits, over more than {when.weeks_requested.gt} weeks {{sic}}.'")
    (rule,) = load_pack(folder).rules
    assert rule.title_text == "Massage is limited to 6 visits"
    assert rule.statement_text == "Up to 6 visits, over more than 4 weeks {sic}."
    assert rule.statement == "Up to {limit.visits} visits, over more than {when.weeks_requested.gt} weeks {{sic}}."
    changed = Engine([folder]).with_overrides({"t.massage.limit": 9}).packs[0].rules[0]
    assert (changed.title_text, changed.limit.visits) == ("Massage is limited to 9 visits", 9)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("Up to {limit.visit} visits.", "unknown placeholder {limit.visit}; this rule's numbers are {limit.visits}, {when.weeks_requested.gt}, {when.weeks_requested}"),
        ("Up to {requires.functional_improvement} visits.", "unknown placeholder {requires.functional_improvement}"),
        ("A lone { brace.", "a lone '{': write '{{' for a literal brace"),
        ("A lone } brace.", "a lone '}': write '}}' for a literal brace"),
    ],
)
def test_an_unknown_placeholder_is_a_load_error_naming_file_line_and_field(tmp_path, statement, message):
    folder = _pack(tmp_path, "Massage", f"'{statement}'")
    with pytest.raises(RulePackError) as caught:
        load_pack(folder)
    (problem,) = caught.value.problems
    assert problem.file == str(folder / "rules.yaml")
    assert problem.line == line_of(folder / "rules.yaml", "statement:")
    assert problem.location == "rules[0].statement"
    assert message in problem.message


def test_an_unknown_placeholder_in_a_title_names_the_title(tmp_path):
    folder = _pack(tmp_path, "Massage beyond {when.total_visits} visits", "S.")
    with pytest.raises(RulePackError) as caught:
        load_pack(folder)
    (problem,) = caught.value.problems
    assert (problem.location, problem.line) == ("rules[0].title", line_of(folder / "rules.yaml", "title:"))


# -- lint: a stated number the rule does not hold ------------------------------------------


def _stated(tmp_path: Path, statement: str, extra_lint: str = "") -> list:
    folder = _pack(tmp_path, "Massage", f"'{statement}'", extra_lint)
    return [f for f in lint_paths([folder]) if f.code == "stated-number"]


@pytest.mark.parametrize(
    "statement",
    [
        "Up to 6 visits (MTUS 2009, p. 60, section 10.8).",       # pages, a year, a section number
        "Labor Code 4604.5 applies to injuries on or after 1 January 2004.",  # a statute section, a date
        "For M54.5 (low back pain) and CPT 97110.",               # ICD and CPT codes
        "Massage should be limited to 4-6 visits.",               # a range: the rule holds its upper end
        "A 6-visit course, requested over more than 4 weeks.",    # "6-visit": a number joined to its unit
        "Up to {limit.visits} visits.",                           # a placeholder is the rule's own number
        "Up to six visits.",                                      # numbers in words are not checked
    ],
)
def test_numbers_that_are_not_quantities_or_that_the_rule_holds_are_no_alarm(tmp_path, statement):
    assert _stated(tmp_path, statement) == []


@pytest.mark.parametrize(
    ("statement", "stated"),
    [
        ("Massage should be limited to 8 visits.", '"8 visits"'),
        ("Massage should be limited to 7-8 visits.", '"7-8 visits"'),             # neither end held
        ("Massage is given over 6 weeks.", '"6 weeks"'),                          # 6 is held, but as visits
        ("Up to 24 physical therapy visits.", '"24 physical therapy visits"'),    # the unit after two words
        ("No more than 2 years after the injury.", '"2 years"'),
    ],
)
def test_a_stated_number_the_rule_does_not_hold_fails_lint(tmp_path, statement, stated):
    (finding,) = _stated(tmp_path, statement)
    assert (finding.severity, finding.accepted, finding.rules) == ("error", None, ["t.massage.limit"])
    assert f"its statement states {stated}" in finding.message
    assert finding.line == line_of(tmp_path / "pack" / "rules.yaml", "id: t.massage.limit")


def test_years_are_held_as_twelve_times_the_months_a_rule_tests(tmp_path):
    folder = _pack(tmp_path, "Massage", "'Not more than 2 years after the injury.'")
    rules = folder / "rules.yaml"
    rules.write_text(rules.read_text().replace("{weeks_requested: {gt: 4}}", "{months_since_injury: {gt: 24}}"))
    assert [f for f in lint_paths([folder]) if f.code == "stated-number"] == []


def test_an_accepted_stated_number_is_listed_and_counted_but_only_the_quantities_the_reason_quotes(tmp_path, capsys):
    accept = "    lint:\n      accept:\n        stated-number: The guideline's \"8 weeks\", quoted.\n"
    accepted, = _stated(tmp_path, "Up to 6 visits over 8 weeks.", accept)
    assert (accepted.severity, accepted.accepted) == ("warning", 'The guideline\'s "8 weeks", quoted.')
    assert main(["lint", str(tmp_path / "pack")]) == 0
    assert "stated-number: 1" in capsys.readouterr().out
    # A later edit that leaves another stale number is not covered by the old reason.
    findings = _stated(tmp_path, "Up to 5 visits over 8 weeks.", accept)
    assert sorted((f.severity, f.accepted is not None) for f in findings) == [("error", False), ("warning", True)]
    (error,) = [f for f in findings if f.severity == "error"]
    assert '"5 visits"' in error.message and "8 weeks" not in error.message


def test_the_bundled_pack_holds_every_number_its_words_state(capsys):
    findings = [f for f in lint_paths([bundled_rules_dir()]) if f.code == "stated-number"]
    assert findings and all(f.severity == "warning" and f.accepted for f in findings)
    pack = load_pack(bundled_rules_dir() / "mtus-2009")
    # Every title names the rule's numbers by placeholder, so a what-if or an edit prints the number in force;
    # the quantities left literal are ones the rule does not hold (each accepted with its reason).
    literal = {r.id for r in pack.rules if stated.QUANTITY.search(r.title)}
    assert literal == {"mtus.cpmtg.tens.pain_duration", "mtus.cpmtg.work_conditioning.participation"}


def test_an_edited_condition_is_stated_beside_the_words_that_quote_the_old_one(tmp_path, capsys):
    pack = _copy_of_bundled_pack(tmp_path)
    rules = pack / "work_conditioning.yaml"
    rules.write_text(rules.read_text().replace("weeks_requested: {gt: 4}", "weeks_requested: {gt: 5}"))
    case = Path(__file__).resolve().parents[2] / "examples" / "work-conditioning.yaml"
    capsys.readouterr()
    assert main(["evaluate", "--format", "json", "--no-what-if", "--rules", str(pack), str(case)]) == 0
    (element,) = json.loads(capsys.readouterr().out)
    hardening = element["decision"]["items"][1]
    assert "mtus.cpmtg.work_conditioning.four_weeks" in hardening["rules"]
    assert "requested for more than 5 weeks is not supported" in hardening["rationale"]["case"]
    assert (
        "The program is to be completed in 4 weeks or less. (MTUS Chronic Pain Medical Treatment Guidelines (2009), "
        "Work conditioning, work hardening, p. 125) This pack's rule applies at weeks requested more than 5, not the "
        '"4 weeks" the words above state.'
    ) in hardening["rationale"]["guideline"]
