"""`mtus-rules test` (issue 14, point 3): it tests the pack it is run in and
never passes falsely on the bundled one; rule tests assert any field of an
item decision; tests are selected by name; a failed test can show its trace;
a broken test file is reported as a test file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mtus_rules._resources import bundled_rules_dir
from mtus_rules.authoring import ruletests
from mtus_rules.cli import EXIT_INVALID, main

from ..helpers import line_of

FAILING = Path(__file__).resolve().parent / "fixtures" / "ruletests" / "failing"

A_FAILING_TEST = """\
tests:
  - name: my payer allows seven massage visits
    case:
      date_of_injury: 2013-01-10
      request_date: 2014-03-01
      care_stage: first_evaluation
      diagnoses: [{description: Lumbar sprain, body_regions: [lumbar], group: sprain_strain}]
      treatment_history: []
      requested_items: [{description: massage x7, treatment: massage, quantity: {visits: 7}}]
    expect: [{outcome: overturned}]
"""


@pytest.fixture()
def my_pack(tmp_path: Path) -> Path:
    """An author's copy of the bundled pack, with one failing test of their own."""
    pack = tmp_path / "mypack"
    shutil.copytree(bundled_rules_dir() / "mtus-2009", pack)
    (pack / "tests" / "mine.yaml").write_text(A_FAILING_TEST)
    return pack


# -- the false pass, reproduced --------------------------------------------------------------


@pytest.mark.parametrize("where", [".", "tests"], ids=["in the pack", "in its tests folder"])
def test_with_no_path_it_tests_the_pack_it_is_run_in(my_pack, where, monkeypatch, capsys):
    monkeypatch.chdir(my_pack / where)
    assert main(["test"]) == 1
    out = capsys.readouterr().out
    assert "mine.yaml::my payer allows seven massage visits FAILED" in out
    assert "1 failed" in out.splitlines()[-1]


def test_with_no_path_and_no_pack_around_it_says_what_to_pass(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["test"]) == EXIT_INVALID
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"mtus-rules: no rule pack here (no pack.yaml in {tmp_path} or a folder above it); pass a pack folder")


# -- selecting tests, and the trace of a failure ------------------------------------------------


def test_run_selects_tests_by_name(capsys):
    assert main(["test", str(FAILING), "--run", "six visits"]) == 0
    out = capsys.readouterr().out
    assert "six visits are supported PASSED" in out and "seven" not in out
    assert "1 passed, 0 failed" in out.splitlines()[-1]


def test_run_matching_nothing_runs_nothing_and_fails(capsys):
    assert main(["test", str(FAILING), "--run", "^no such test$"]) == 1
    assert "no tests ran matching --run '^no such test$'" in capsys.readouterr().err


def test_run_with_a_bad_pattern_names_the_option(capsys):
    assert main(["test", str(FAILING), "--run", "("]) == EXIT_INVALID
    assert "--run: not a regular expression" in capsys.readouterr().err


def test_explain_fails_prints_the_trace_of_each_failed_test_only(capsys):
    assert main(["test", str(FAILING)]) == 1
    out = capsys.readouterr().out
    assert "explain trace:" not in out and "--explain fails prints the explain trace" in out
    assert main(["test", str(FAILING), "--explain", "fails"]) == 1
    out = capsys.readouterr().out
    failures = out.split("FAILURES", 1)[1]
    assert failures.count("explain trace:") == 1
    assert "mtus.test.massage.limit" in failures.split("explain trace:", 1)[1]


# -- assertions on any field of an item decision ----------------------------------------------------

_CASE = """\
defaults:
  case: {date_of_injury: 2013-01-10, request_date: 2014-03-01, care_stage: first_evaluation}
tests:
  - name: seven visits
    case:
      requested_items: [{description: massage x7, treatment: massage, body_regions: [lumbar], quantity: {visits: 7}}]
    expect:
      - outcome: upheld
"""


def _run_one(tmp_path: Path, expect: str) -> ruletests.RuleTestResult:
    pack = tmp_path / "pack"
    shutil.copytree(FAILING, pack)
    shutil.rmtree(pack / "tests")
    (pack / "tests").mkdir()
    (pack / "tests" / "t.yaml").write_text(_CASE + "".join(f"        {line}\n" for line in expect.splitlines()))
    (result,) = ruletests.run([pack]).results
    return result


def test_every_field_of_an_item_decision_can_be_asserted(tmp_path):
    result = _run_one(tmp_path, """\
findings: [{kind: exceeds_limit, rule: mtus.test.massage.limit, body_region: lumbar, text_contains: "over the limit of 6"}]
supported_visits: 6
alternatives: [{changes: [{fact: visits_requested, value: 6}], rules: [mtus.test.massage.limit]}]
rationale_contains: ["0 prior + 7 requested = 7 visits", "is not medically necessary"]
rationale_excludes: ["what-if"]""")
    assert result.passed, result.failures


@pytest.mark.parametrize(
    ("expect", "failure"),
    [
        ("findings: [{kind: insufficient_documentation}]",
         "item 0: no finding matching {'kind': 'insufficient_documentation'} in: note; exceeds_limit (mtus.test.massage.limit)"),
        ("supported_visits: 7", "item 0: expected supported_visits 7, got 6"),
        ("supported_visits: null", "item 0: expected supported_visits None, got 6"),
        ("alternatives: []", "item 0: expected no alternatives, got: "),
        ("alternatives: [{changes: [{fact: visits_requested, value: 5}]}]",
         "item 0: no alternative matching {'changes': [{'fact': 'visits_requested', 'value': 5}]} in: "),
        ('rationale_contains: ["within the limit"]', "item 0: the rationale does not contain 'within the limit'"),
        ('rationale_excludes: ["over the limit of 6"]', "item 0: the rationale contains 'over the limit of 6'"),
    ],
)
def test_a_field_that_differs_fails_the_test_and_says_what_was_found(tmp_path, expect, failure):
    result = _run_one(tmp_path, expect)
    assert not result.passed
    assert any(f.startswith(failure) for f in result.failures), result.failures
    assert result.trace and "mtus.test.massage.limit" in result.trace


def test_an_unknown_key_is_a_test_file_error_naming_file_and_line(tmp_path, capsys):
    pack = tmp_path / "pack"
    shutil.copytree(FAILING, pack)
    path = pack / "tests" / "massage.yaml"
    path.write_text(path.read_text().replace("expect: [{outcome: overturned}]", "expect: [{outcome: overturned, suported_visits: 7}]"))
    assert main(["test", str(pack)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert err.startswith("mtus-rules: invalid rule test file: 1 problem")
    assert "invalid rule pack" not in err
    line = line_of(path, "suported_visits")
    column = path.read_text().splitlines()[line - 1].index("suported_visits") + 1
    assert f"{path}:{line}:{column}: tests[1].expect[0].suported_visits: unknown field" in err  # file:line:column
    assert "did you mean 'supported_visits'?" in err
