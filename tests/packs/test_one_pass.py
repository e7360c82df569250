"""Every problem of a pack in one pass (issue 14 point 4): schema errors,
unknown facts, YAML syntax and bad rule-test files, each with file, line and
column, "did you mean" for a misspelt key or word, test-file errors labelled
as such; and the JSON Schemas of the files an author writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mtus_rules import RulePackError, load_pack
from mtus_rules.authoring import ruletests
from mtus_rules.authoring.lint import lint_paths
from mtus_rules.authoring.schemas import FILES, file_schema
from mtus_rules.cli import main

from ..helpers import ROOT

MINIMAL = Path(__file__).parent / "fixtures" / "valid_minimal"
RULE = (MINIMAL / "massage.yaml").read_text(encoding="utf-8")


def _three_broken_files(tmp_path: Path) -> Path:
    """A schema error in one file, a misspelt fact in another, a tab in a third."""
    pack = Path(shutil.copytree(MINIMAL, tmp_path / "pack"))
    (pack / "massage.yaml").unlink()
    (pack / "a_schema.yaml").write_text(RULE.replace("    effect: limit", "    efect: limit"), encoding="utf-8")
    (pack / "b_fact.yaml").write_text(
        RULE.replace("mtus.test.massage.limit", "mtus.test.massage.b").replace(
            "    effect: limit", "    when: {visits_requestd: {gt: 2}}\n    effect: limit"
        ),
        encoding="utf-8",
    )
    (pack / "c_tab.yaml").write_text("rules:\n  - id: mtus.test.c\n\t  title: t\n", encoding="utf-8")
    return pack


def _line(path: Path, needle: str) -> tuple[int, int]:
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in text:
            return number, text.index(needle) + 1
    raise AssertionError(needle)


def test_a_schema_error_a_misspelt_fact_and_a_tab_are_all_reported_in_one_run(tmp_path, capsys):
    pack = _three_broken_files(tmp_path)
    with pytest.raises(RulePackError) as info:
        load_pack(pack)
    by_file = {Path(p.file).name: p for p in info.value.problems if "efect" in p.location or Path(p.file).name != "a_schema.yaml"}
    schema, fact, tab = by_file["a_schema.yaml"], by_file["b_fact.yaml"], by_file["c_tab.yaml"]

    assert (schema.line, schema.column) == _line(pack / "a_schema.yaml", "efect:")
    assert schema.message.endswith("did you mean 'effect'?")
    assert (fact.line, fact.column) == _line(pack / "b_fact.yaml", "visits_requestd")
    assert fact.message.startswith("unknown fact 'visits_requestd'; did you mean 'visits_requested'?")
    assert (tab.line, tab.column) == (3, 1) and "'\\t'" in tab.message
    assert str(tab) == f"{pack / 'c_tab.yaml'}:3:1: invalid YAML: found character '\\t' that cannot start any token"

    # The same three in one lint run, with their columns.
    assert main(["lint", str(pack)]) == 1
    out = capsys.readouterr().out
    for problem in (schema, fact, tab):
        assert f"{problem.file}:{problem.line}:{problem.column}: error[" in out


def test_a_misspelt_fact_is_reported_beside_a_field_error_of_the_same_rule(tmp_path):
    pack = Path(shutil.copytree(MINIMAL, tmp_path / "pack"))
    (pack / "massage.yaml").write_text(
        RULE.replace("    effect: limit", "    when: {care_stag: ongoing_care}\n    effect: limit").replace("    limit: {", "    limt: {"),
        encoding="utf-8",
    )
    with pytest.raises(RulePackError) as info:
        load_pack(pack)
    messages = {p.location: p.message for p in info.value.problems}
    assert messages["rules[0].limt"].endswith("did you mean 'limit'?")
    assert messages["rules[0].when.care_stag"].startswith("unknown fact 'care_stag'; did you mean 'care_stage'?")


@pytest.mark.parametrize(
    "old,new,location,hint",
    [
        ("treatment: [massage]", "treatment: [massge]", "rules[0].applies_to.treatment[0]", "did you mean 'massage'?"),
        ("    effect: limit", "    effect: limt", "rules[0].effect", "did you mean 'limit'?"),
        ("    effect: limit", "    when: {care_stage: ongoing_cair}\n    effect: limit", "rules[0].when.care_stage",
         "did you mean 'ongoing_care'?"),
        ("    effect: limit", "    when: {total_visits: {gtt: 3}}\n    effect: limit", "rules[0].when.total_visits",
         "did you mean 'gt'?"),
    ],
)
def test_misspelt_vocabulary_words_say_which_word_was_meant(tmp_path, old, new, location, hint):
    pack = Path(shutil.copytree(MINIMAL, tmp_path / "pack"))
    (pack / "massage.yaml").write_text(RULE.replace(old, new), encoding="utf-8")
    with pytest.raises(RulePackError) as info:
        load_pack(pack)
    (problem,) = [p for p in info.value.problems if p.location == location]
    assert hint in problem.message
    assert problem.column is not None


def test_test_file_errors_are_labelled_as_test_file_errors_and_come_with_the_packs(tmp_path, capsys):
    pack = _three_broken_files(tmp_path)
    (pack / "tests").mkdir()
    bad = pack / "tests" / "massage.yaml"
    bad.write_text("tests:\n  - name: x\n    case: {}\n    expect: [{outcom: upheld}]\n", encoding="utf-8")

    assert main(["test", str(pack)]) == 2
    err = capsys.readouterr().err
    assert "invalid rule pack: " in err and "\ninvalid rule test file: 2 problems\n" in err
    assert f"{bad}:4:15: tests[0].expect[0].outcom: unknown field" in err and "did you mean 'outcome'?" in err

    findings = [f for f in lint_paths([pack]) if f.code == "test-file"]
    assert {(f.files[0], f.line) for f in findings} == {(str(bad), 4)}

    # A good pack with a bad test file: only the test file is named, as a test file.
    good = Path(shutil.copytree(MINIMAL, tmp_path / "good"))
    shutil.copytree(pack / "tests", good / "tests")
    with pytest.raises(ruletests.RuleTestError) as info:
        ruletests.run([good])
    assert str(info.value).startswith("invalid rule test file: 2 problems")


# -- JSON Schemas -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_published_schemas_are_generated_from_the_models(name, capsys):
    assert main(["schema", name]) == 0
    printed = capsys.readouterr().out
    committed = (ROOT / "docs" / "schema" / f"{name}.schema.json").read_text(encoding="utf-8")
    assert committed == printed, f"docs/schema/{name}.schema.json is stale: run `mtus-rules schema {name} > docs/schema/{name}.schema.json`"
    schema = json.loads(printed)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False and "$schema" in schema["properties"]


def test_schema_case_is_still_the_default(capsys):
    main(["schema"])
    default = capsys.readouterr().out
    main(["schema", "case"])
    assert capsys.readouterr().out == default and json.loads(default)["title"] == "mtus-rules case"


def test_a_schema_line_is_accepted_in_pack_rule_and_test_files(tmp_path):
    pack = Path(shutil.copytree(MINIMAL, tmp_path / "pack"))
    for name, schema in (("pack.yaml", "pack"), ("massage.yaml", "rule-file")):
        path = pack / name
        path.write_text(f"$schema: ../schema/{schema}.schema.json\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    (pack / "tests").mkdir()
    (pack / "tests" / "t.yaml").write_text(
        "$schema: ../../schema/rule-test.schema.json\ntests:\n  - name: seven massage visits are over the limit\n"
        "    case: {date_of_injury: 2013-01-10, request_date: 2014-03-01, diagnoses: [], treatment_history: [],\n"
        "           care_stage: first_evaluation,\n"
        "           requested_items: [{description: m, treatment: massage, quantity: {visits: 7}}]}\n"
        "    expect: [{outcome: upheld}]\n",
        encoding="utf-8",
    )
    assert load_pack(pack).rules
    report = ruletests.run([pack])
    assert (report.passed, report.failed) == (1, 0)
    # Only text is a schema line: anything else is an error naming it.
    path = pack / "massage.yaml"
    path.write_text("$schema: 3\n" + RULE, encoding="utf-8")
    with pytest.raises(RulePackError, match=r"\$schema"):
        load_pack(pack)
