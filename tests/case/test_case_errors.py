"""Error reporting for malformed case files.

Each bad case file under tests/case/fixtures/ holds one kind of mistake. The
tests pin where the library says the mistake is (file, 1-based line, dotted
location) and a stable phrase of what it says, so a claims integrator can find
and fix the line. Lines are looked up from a unique piece of the fixture's
text, so a comment added above does not break the test, but the line asserted
is still exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mtus_rules
from mtus_rules import CaseError, MtusRulesError, Problem, load_case
from mtus_rules.cli import main

from ..helpers import line_of

CASES = Path(__file__).parent / "fixtures"
PACKS = Path(__file__).parents[1] / "packs" / "fixtures"
# The CLI tests decide cases against a small checked-in pack, not the bundled
# rules, so they do not depend on the guideline content.
VALID_PACK = PACKS / "valid_minimal"




def case_problems(path: Path) -> list[Problem]:
    with pytest.raises(CaseError) as info:
        load_case(path)
    problems = info.value.problems
    assert problems, "a CaseError must list at least one problem"
    for p in problems:
        assert isinstance(p, Problem)
        assert p.file == str(path)
    return problems


def at(problems: list[Problem], location: str) -> list[Problem]:
    found = [p for p in problems if p.location == location]
    assert found, f"no problem at {location!r}; got:\n" + "\n".join(map(str, problems))
    return found


def one_at(problems: list[Problem], location: str, phrase: str) -> Problem:
    """The problem at `location` whose message contains `phrase`."""
    found = [p for p in at(problems, location) if phrase in p.message]
    assert found, f"no problem at {location!r} says {phrase!r}; got:\n" + "\n".join(map(str, problems))
    return found[0]


# -- the error type and Problem ---------------------------------------------------------


def test_case_error_is_a_value_error_with_problems():
    assert issubclass(CaseError, MtusRulesError)
    assert issubclass(MtusRulesError, ValueError)
    assert mtus_rules.CaseError is CaseError
    path = CASES / "missing_request_date.yaml"
    with pytest.raises(ValueError) as info:
        load_case(path)
    assert isinstance(info.value, CaseError)
    # The exception text lists every problem, one a line.
    text = str(info.value)
    assert text.startswith("invalid case: 1 problem")
    assert str(info.value.problems[0]) in text


def test_problem_str_is_file_line_location_message():
    p = Problem(file="a.yaml", line=7, location="requested_items[0].quantity.visits", message="bad")
    assert str(p) == "a.yaml:7: requested_items[0].quantity.visits: bad"
    assert str(Problem(file="a.yaml", message="file not found")) == "a.yaml: file not found"


def test_valid_fixture_loads():
    case = load_case(CASES / "valid_minimal.yaml")
    assert case.case_id == "fixture-valid"
    assert case.requested_items[0].visits == 2


# -- wrong types: never coerced -----------------------------------------------------------


def test_requested_visits_as_string_is_rejected():
    path = CASES / "wrong_type_quantity_visits.yaml"
    problems = case_problems(path)
    p = one_at(problems, "requested_items[0].quantity.visits", "valid integer")
    assert p.line == line_of(path, 'visits: "8"')
    assert "'8'" in p.message
    assert str(p).startswith(f"{path}:{p.line}: requested_items[0].quantity.visits: ")


def test_requested_visits_as_string_gives_no_contradictory_problems():
    # Regression: with an undiscriminated union pydantic also reported the
    # Frequency alternative: "quantity.visits: unknown field" (the field is spelt
    # right) and "quantity.per_week: required field is missing".
    problems = case_problems(CASES / "wrong_type_quantity_visits.yaml")
    misleading = [
        p
        for p in problems
        if "unknown field" in p.message or p.location.endswith((".per_week", ".weeks"))
    ]
    assert misleading == [], "\n".join(map(str, misleading))


def test_prior_visits_as_string_is_rejected():
    # Regression: the location once came out as
    # "treatment_history[0].visits.constrained-int" (a pydantic union tag).
    path = CASES / "wrong_type_history_visits.yaml"
    problems = case_problems(path)
    assert len(problems) == 1, "\n".join(map(str, problems))
    p = one_at(problems, "treatment_history[0].visits", "'8'")
    assert "integer" in p.message or "whole number" in p.message
    assert p.line == line_of(path, 'visits: "8"')
    assert all("constrained" not in q.location for q in problems), "\n".join(map(str, problems))


def test_age_as_string_is_rejected():
    path = CASES / "wrong_type_age.yaml"
    problems = case_problems(path)
    p = one_at(problems, "claimant.age", "valid integer")
    assert p.line == line_of(path, 'age: "57"')
    assert len(problems) == 1


# -- unknown and missing fields ------------------------------------------------------------


def test_typo_requested_item_is_an_unknown_field():
    # Regression: the line given was that of the value (the first list item, one
    # line below), not of the misspelt key.
    path = CASES / "unknown_field_requested_item.yaml"
    problems = case_problems(path)
    p = one_at(problems, "requested_item", "unknown field")
    assert p.line == line_of(path, "requested_item:")
    assert "check the spelling" in p.message
    # ...and the real field is then missing, reported at the top-level mapping.
    missing = one_at(problems, "requested_items", "required field is missing")
    assert missing.line == line_of(path, "case_id:")


def test_typo_functional_improvment_is_an_unknown_field():
    path = CASES / "unknown_field_functional_improvment.yaml"
    problems = case_problems(path)
    p = one_at(problems, "treatment_history[0].functional_improvment", "unknown field")
    assert p.line == line_of(path, "functional_improvment: no")
    assert len(problems) == 1


def test_missing_request_date():
    path = CASES / "missing_request_date.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    p = one_at(problems, "request_date", "required field is missing")
    # A missing field points at the mapping that should hold it: here the top level,
    # whose first key is on the first line after the comment.
    assert p.line == line_of(path, "case_id:")
    assert str(p) == f"{path}:{p.line}: request_date: required field is missing"


def test_missing_requested_items():
    path = CASES / "missing_requested_items.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    p = one_at(problems, "requested_items", "required field is missing")
    assert p.line == line_of(path, "case_id:")


def test_missing_field_in_nested_mapping_points_at_that_mapping(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(
        "date_of_injury: 2013-05-28\n"
        "request_date: 2014-06-01\n"
        "requested_items:\n"
        "  - description: Massage x 2\n"
        "    quantity: {visits: 2}\n",
        encoding="utf-8",
    )
    p = one_at(case_problems(path), "requested_items[0].treatment", "required field is missing")
    assert p.line == 4


def test_empty_requested_items_is_rejected(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text("date_of_injury: 2013-05-28\nrequest_date: 2014-06-01\nrequested_items: []\n", encoding="utf-8")
    p = one_at(case_problems(path), "requested_items", "at least 1 item")
    assert p.line == 3


# -- dates --------------------------------------------------------------------------------


def test_date_that_does_not_exist():
    # Regression: PyYAML's timestamp constructor raised a bare ValueError
    # ("day is out of range for month") from inside yamlio._build; no CaseError.
    path = CASES / "bad_date_feb30.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    (p,) = problems
    assert p.location == "date_of_injury"
    assert p.line == line_of(path, "2013-02-30")
    # The value is shown by its shape only (it could be a date of birth); the
    # message says what is wrong with it.
    assert "2013-02-30" not in p.message and "9999-99-99" in p.message
    assert "out of range" in p.message


def test_date_that_does_not_exist_quoted_is_rejected(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(
        'date_of_injury: "2013-02-30"\nrequest_date: 2014-06-01\n'
        "requested_items: [{description: x, treatment: massage}]\n",
        encoding="utf-8",
    )
    p = one_at(case_problems(path), "date_of_injury", "no such date: the month or the day is out of range")
    assert p.line == 1


def test_date_in_us_format():
    path = CASES / "bad_date_us_format.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    p = one_at(problems, "date_of_injury", "expected a date as YYYY-MM-DD")
    assert "05/28/2013" not in p.message and "99/99/9999" in p.message
    assert p.line == line_of(path, "05/28/2013")


def test_date_as_bare_number():
    path = CASES / "bad_date_number.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    p = one_at(problems, "date_of_injury", "expected a date as YYYY-MM-DD")
    assert "20130528" in p.message
    assert p.line == line_of(path, "20130528")


def test_date_with_time_is_rejected(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(
        "date_of_injury: 2013-05-28\nrequest_date: 2014-06-01 10:30:00\n"
        "requested_items: [{description: x, treatment: massage}]\n",
        encoding="utf-8",
    )
    p = one_at(case_problems(path), "request_date", "got a date and time")
    assert p.line == 2


def test_request_date_before_date_of_injury():
    # Regression: this was reported at location "" (the whole case), line 1, with
    # the whole case dict repr'd into the message, instead of at request_date.
    path = CASES / "request_before_injury.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    (p,) = problems
    assert "request_date is before date_of_injury" in p.message
    assert p.location == "request_date"
    assert p.line == line_of(path, "request_date:")


def test_prior_treatment_dates_out_of_order(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(
        "date_of_injury: 2013-05-28\n"
        "request_date: 2014-06-01\n"
        "treatment_history:\n"
        "  - treatment: massage\n"
        "    start_date: 2013-08-01\n"
        "    end_date: 2013-07-01\n"
        "requested_items: [{description: x, treatment: massage}]\n",
        encoding="utf-8",
    )
    problems = case_problems(path)
    assert len(problems) == 1
    assert "end_date is before start_date" in problems[0].message
    assert problems[0].location.startswith("treatment_history[0]")


# -- vocabulary ---------------------------------------------------------------------------


def test_unknown_treatment():
    path = CASES / "bad_enum_treatment.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    p = one_at(problems, "requested_items[0].treatment", "chiropractic_magic")
    assert p.line == line_of(path, "treatment: chiropractic_magic")
    # The message lists what is allowed.
    assert "'manipulation'" in p.message and "'massage'" in p.message


def test_yes_and_no_are_the_answers_not_booleans():
    case = load_case(CASES / "yes_no_strings.yaml")
    assert case.home_exercise == "yes"
    assert case.home_exercise is mtus_rules.Documented.YES
    assert [t.functional_improvement for t in case.treatment_history] == [
        mtus_rules.Documented.NO,
        mtus_rules.Documented.YES,
    ]


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Yes", "NO"])
def test_yaml_11_boolean_words_stay_strings(tmp_path, word):
    path = tmp_path / "case.yaml"
    path.write_text(
        f"case_id: {word}\ndate_of_injury: 2013-05-28\nrequest_date: 2014-06-01\n"
        "requested_items: [{description: x, treatment: massage}]\n",
        encoding="utf-8",
    )
    assert load_case(path).case_id == word


def test_false_for_functional_improvement_is_rejected():
    path = CASES / "boolean_functional_improvement.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    p = one_at(problems, "treatment_history[0].functional_improvement", "got False")
    assert "'yes', 'no' or 'not_documented'" in p.message
    assert p.line == line_of(path, "functional_improvement: false")


def test_true_for_home_exercise_is_rejected(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(
        "date_of_injury: 2013-05-28\nrequest_date: 2014-06-01\nhome_exercise: true\n"
        "requested_items: [{description: x, treatment: massage}]\n",
        encoding="utf-8",
    )
    p = one_at(case_problems(path), "home_exercise", "got True")
    assert p.line == 3


# -- the file itself ----------------------------------------------------------------------


def test_bad_yaml_syntax_reports_the_line():
    path = CASES / "bad_yaml_syntax.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    (p,) = problems
    assert p.message.startswith("invalid YAML: ")
    assert "mapping values are not allowed" in p.message
    assert p.line == line_of(path, "description: Massage: x 2")


def test_unclosed_bracket_points_at_the_bracket(tmp_path):
    # PyYAML notices the missing "]" only at the end of the file; the problem must
    # still name a line of the file (the one that opened the list), not the line
    # after the last one.
    path = tmp_path / "case.yaml"
    path.write_text(
        "date_of_injury: 2013-05-28\nrequest_date: 2014-06-01\n"
        "requested_items:\n  - description: x\n    treatment: massage\n    body_regions: [lumbar, cervical\n",
        encoding="utf-8",
    )
    (p,) = case_problems(path)
    assert p.message.startswith("invalid YAML: ")
    assert p.line == 6


def test_key_given_twice():
    path = CASES / "duplicate_key.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    (p,) = problems
    assert p.location == "request_date"
    assert "'request_date' appears twice" in p.message
    assert p.line == line_of(path, "request_date: 2014-07-01")  # the second one


def test_key_given_twice_in_nested_mapping(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(
        "date_of_injury: 2013-05-28\nrequest_date: 2014-06-01\n"
        "requested_items:\n"
        "  - description: x\n"
        "    treatment: massage\n"
        "    treatment: manipulation\n",
        encoding="utf-8",
    )
    (p,) = case_problems(path)
    assert p.location == "requested_items[0].treatment"
    assert "appears twice" in p.message
    assert p.line == 6


def test_json_syntax_error_reports_the_line():
    path = CASES / "bad_syntax.json"
    problems = case_problems(path)
    assert len(problems) == 1
    (p,) = problems
    assert p.message.startswith("invalid JSON: ")
    # Python before 3.13 finds a trailing comma at the bracket after it; 3.13
    # reports the comma itself ("Illegal trailing comma"). Either line is right.
    assert p.line in (line_of(path, "  ]"), line_of(path, '"massage"},'))


def test_valid_json_case_loads_and_json_errors_have_lines(tmp_path):
    good = tmp_path / "good.json"
    data = {
        "date_of_injury": "2013-05-28",
        "request_date": "2014-06-01",
        "requested_items": [{"description": "x", "treatment": "massage", "quantity": {"visits": "8"}}],
    }
    good.write_text(json.dumps(data, indent=2), encoding="utf-8")
    p = one_at(case_problems(good), "requested_items[0].quantity.visits", "valid integer")
    assert p.line == line_of(good, '"visits": "8"')


def test_empty_file():
    path = CASES / "empty.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    assert "a case must be a mapping of fields" in problems[0].message
    assert problems[0].line == 1


def test_file_that_is_a_list():
    path = CASES / "list_not_mapping.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    assert "a case must be a mapping of fields" in problems[0].message
    assert problems[0].line == 1


def test_file_not_found(tmp_path):
    path = tmp_path / "no-such-case.yaml"
    problems = case_problems(path)
    assert len(problems) == 1
    assert problems[0].message == "file not found"
    assert problems[0].line is None
    assert str(problems[0]) == f"{path}: file not found"


def test_folder_instead_of_file(tmp_path):
    problems = case_problems(tmp_path)
    assert len(problems) == 1
    assert problems[0].line is None


def test_not_utf8(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_bytes(b"case_id: caf\xe9\n")
    (p,) = case_problems(path)
    assert "not UTF-8" in p.message


# -- safe loading -------------------------------------------------------------------------


def test_python_tag_is_rejected_and_runs_nothing(capfd):
    # Regression: yamlio._build ignored the tag of a sequence or mapping node, so
    # the tagged sequence was read as the plain list ["echo hacked"]; nothing ran,
    # but the only error was "Input should be a valid string", not the tag.
    path = CASES / "python_tag.yaml"
    problems = case_problems(path)
    out, err = capfd.readouterr()
    assert "hacked" not in out and "hacked" not in err
    tagged = [p for p in problems if "python/object" in p.message]
    assert tagged, "the error should name the refused tag; got:\n" + "\n".join(map(str, problems))
    assert tagged[0].line == line_of(path, "!!python/object")


@pytest.mark.parametrize(
    "value",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',  # sequence node
        "!!python/object/apply:os.system {{args: [touch {marker}]}}",  # mapping node
        "!!python/name:os.system",  # scalar node
        '!!python/object/apply:os.system [{{"touch {marker}": x}}]',
        "!!python/object/apply:os.system [lumbar]",  # this case once loaded, tag dropped
    ],
)
def test_python_tags_anywhere_are_rejected_and_run_nothing(tmp_path, value):
    marker = tmp_path / "marker"
    path = tmp_path / "case.yaml"
    # body_regions takes a list, so a tag that is silently dropped would load.
    path.write_text(
        "date_of_injury: 2013-05-28\nrequest_date: 2014-06-01\n"
        "requested_items:\n"
        "  - description: x\n"
        "    treatment: massage\n"
        f"    body_regions: {value.format(marker=marker)}\n",
        encoding="utf-8",
    )
    with pytest.raises(CaseError) as info:
        load_case(path)
    assert not marker.exists()
    problems = info.value.problems
    tagged = [p for p in problems if "python/" in p.message]
    assert tagged, "the error should name the refused tag; got:\n" + "\n".join(map(str, problems))
    assert tagged[0].line == 6


def test_recursive_alias_is_a_case_error(tmp_path):
    # Regression: a self-referencing alias made yamlio._build recurse forever
    # (RecursionError) instead of raising a CaseError.
    path = tmp_path / "case.yaml"
    path.write_text("case_id: &a [*a]\n", encoding="utf-8")
    (p,) = case_problems(path)
    assert p.line == 1


def test_alias_bomb_is_refused_quickly(tmp_path):
    # Seven levels of ten aliases would expand to 10**7 values.
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 8)]
    path = tmp_path / "case.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = case_problems(path)
    assert len(problems) == 1
    assert problems[0].line is not None


# -- the command line ---------------------------------------------------------------------


def test_cli_invalid_case_exits_2_and_prints_nothing_for_it(capsys):
    path = CASES / "wrong_type_quantity_visits.yaml"
    status = main(["evaluate", str(path), "--rules", str(VALID_PACK)])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert str(path) in err
    assert "requested_items[0].quantity.visits" in err
    line = line_of(path, 'visits: "8"')
    assert f"{path}:{line}: requested_items[0].quantity.visits:" in err


def test_cli_invalid_case_json_format_prints_nothing_on_stdout(capsys):
    # Was `[]`; issue 12 counts that as a defect (a pipeline reads it as "no decisions"
    # rather than "failed"), and the README promises nothing on standard output.
    path = CASES / "missing_request_date.yaml"
    status = main(["evaluate", str(path), "--format", "json", "--rules", str(VALID_PACK)])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert str(path) in err and "request_date" in err


def test_cli_good_and_bad_case_json(capsys):
    good, bad = CASES / "valid_minimal.yaml", CASES / "bad_enum_treatment.yaml"
    status = main(["evaluate", str(good), str(bad), "--format", "json", "--rules", str(VALID_PACK)])
    out, err = capsys.readouterr()
    assert status == 2
    decisions = json.loads(out)
    assert [d["file"] for d in decisions] == [str(good)]
    assert decisions[0]["decision"]["case_id"] == "fixture-valid"
    assert str(bad) in err and "requested_items[0].treatment" in err
    assert str(good) not in err


def test_cli_good_and_bad_case_text(capsys):
    bad, good = CASES / "unknown_field_functional_improvment.yaml", CASES / "valid_minimal.yaml"
    status = main(["evaluate", str(bad), str(good), "--rules", str(VALID_PACK)])
    out, err = capsys.readouterr()
    assert status == 2
    assert "fixture-valid" in out
    assert str(bad) not in out and "fixture-bad" not in out
    assert str(bad) in err and "treatment_history[0].functional_improvment" in err


def test_cli_missing_case_file(capsys, tmp_path):
    path = tmp_path / "nope.yaml"
    status = main(["evaluate", str(path), "--rules", str(VALID_PACK)])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert f"{path}: file not found" in err


def test_cli_impossible_date_exits_2(capsys):
    # Regression: this was a traceback (see test_date_that_does_not_exist).
    path = CASES / "bad_date_feb30.yaml"
    status = main(["evaluate", str(path), "--rules", str(VALID_PACK)])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert str(path) in err and "date_of_injury" in err
