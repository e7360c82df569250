"""Policy authoring: lint, the YAML rule tests, and explain traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtus_rules import Engine, Outcome, load_case
from mtus_rules.authoring import ruletests
from mtus_rules.cli import main
from mtus_rules.authoring.lint import lint_paths
from mtus_rules._resources import bundled_rules_dir

from ..helpers import EXAMPLES, ROOT, line_of, write_precedence_pack

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LINT = FIXTURES / "lint"
PACKS = ROOT / "tests" / "packs" / "fixtures"
RULETESTS = FIXTURES / "ruletests"




# -- lint -----------------------------------------------------------------------


def test_bundled_packs_lint_clean_in_strict_mode(capsys):
    assert main(["lint", "--strict"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("0 errors, 0 warnings")


@pytest.mark.parametrize(
    "fixture,code,message,rules,anchor",
    [
        ("conflict", "conflict", "t.massage.limit and t.massage.ongoing can both apply to the same item and disagree",
         ["t.massage.limit", "t.massage.ongoing"], "id: t.massage.limit"),
        ("never_applies", "never-applies",
         "its conditions contradict each other (total visits (prior plus requested) more than 10; total visits (prior plus requested) less than 5)",
         ["t.massage.impossible"], "id: t.massage.impossible"),
        ("shadowed", "shadowed", "t.traction.limit can never decide: t.traction.not_recommended always makes the same items not recommended first",
         ["t.traction.limit", "t.traction.not_recommended"], "id: t.traction.limit"),
        ("odg_covered", "odg-covered", "odg.pt.count never applies: the MTUS rule t.pt.count answers 'pt.count'",
         ["odg.pt.count", "t.pt.count"], "id: odg.pt.count"),
        ("reviewer_quotation", "reviewer-quotation", "its citation rests only on an IMR reviewer's quotation",
         ["t.massage.limit"], "id: t.massage.limit"),
    ],
)
def test_each_warning_kind_names_its_rules_file_and_line(fixture, code, message, rules, anchor):
    (finding,) = [f for f in lint_paths([LINT / fixture]) if f.code != "gap"]
    assert (finding.severity, finding.code) == ("warning", code)
    assert message in finding.message
    assert finding.rules == rules
    assert finding.files == [str(LINT / fixture / "rules.yaml")]
    assert finding.line == line_of(LINT / fixture / "rules.yaml", anchor)
    assert finding.accepted is None


def test_gap_warning_lists_the_undecided_regions():
    # (The treatments no rule of the fixture names are gaps of their own; see
    # test_gap_check_covers_every_treatment_of_the_vocabulary.)
    (finding,) = [f for f in lint_paths([LINT / "gap"]) if "no rule names this treatment" not in f.message]
    assert finding.code == "gap" and finding.files == [str(LINT / "gap" / "pack.yaml")]
    assert finding.message == (
        "no rule decides mechanical_traction for: cervical, shoulder, elbow, forearm, wrist, hand, hip, knee, ankle, foot, head"
    )


@pytest.mark.parametrize(
    "fixture,file,code,location,message,anchor",
    [
        ("unknown_field_statment", "massage.yaml", "schema", "rules[0].statment", "unknown field", "statment:"),
        ("duplicate_rule_id", "b_massage.yaml", "duplicate-id", "rules[0].id", "duplicate rule id 'mtus.test.massage.limit'", "id: mtus.test.massage.limit"),
        ("unknown_treatment", "massage.yaml", "unknown-name", "rules[0].applies_to.treatment[0]", "Input should be", "treatment: ["),
        ("unknown_body_region", "massage.yaml", "unknown-name", "rules[0].applies_to.body_region[0]", "Input should be", "body_region: ["),
        ("unknown_diagnosis_group", "massage.yaml", "unknown-name", "rules[0].applies_to.diagnosis_group[0]",
         "Input should be", "diagnosis_group: ["),
        ("missing_citation", "massage.yaml", "citation", "rules[0].citation", "required field is missing", None),
        ("malformed_pages", "massage.yaml", "citation", "rules[0].citation.pages", 'pages must be a page or a range like "57-59"', "pages:"),
        ("rule_period_reversed", "massage.yaml", "period", "rules[0].effective", "ends", "effective:"),
        ("pack_period_reversed", "pack.yaml", "period", "effective", "ends", "effective:"),
        ("bad_yaml_syntax", "massage.yaml", "syntax", "", "invalid YAML", None),
    ],
)
def test_each_error_kind_is_reported_with_file_and_line(fixture, file, code, location, message, anchor):
    findings = lint_paths([PACKS / fixture])
    matching = [f for f in findings if f.code == code and f.message.startswith(f"{location}: " if location else "")]
    assert len(matching) == 1, [str(f) for f in findings]
    (finding,) = matching
    assert finding.severity == "error"
    assert finding.files == [str(PACKS / fixture / file)]
    assert finding.message.startswith(f"{location}: " if location else "")
    assert message in finding.message
    assert finding.line is not None
    if anchor:
        assert finding.line == line_of(PACKS / fixture / file, anchor)


def test_unknown_override_is_an_error():
    (finding,) = lint_paths([LINT / "unknown_override"])
    assert (finding.severity, finding.code) == ("error", "unknown-rule")
    assert finding.message == "overrides: rule t.massage.limit overrides unknown rule 't.massage.nonexistent'"
    assert finding.line == line_of(LINT / "unknown_override" / "rules.yaml", "id: t.massage.limit")


def test_lint_exit_codes_and_json(capsys):
    assert main(["lint", str(PACKS / "duplicate_rule_id")]) == 1
    capsys.readouterr()
    assert main(["lint", str(LINT / "conflict")]) == 0  # warnings alone do not fail...
    capsys.readouterr()
    assert main(["lint", str(LINT / "conflict"), "--strict"]) == 1  # ...unless strict
    capsys.readouterr()
    assert main(["lint", str(LINT / "conflict"), "--format", "json"]) == 0
    findings = json.loads(capsys.readouterr().out)
    # The fixture has rules for massage only: every other treatment of the
    # vocabulary is a gap (lint covers the whole vocabulary), beside the conflict.
    assert {f["code"] for f in findings} == {"conflict", "gap"}
    assert {f["code"] for f in findings if "no rule names this treatment" not in f["message"]} == {"conflict"}
    assert set(findings[0]) == {"severity", "code", "message", "rules", "files", "line", "accepted"}


def test_accepted_warnings_are_counted_and_shown(capsys):
    findings = lint_paths([bundled_rules_dir()])
    assert findings and all(f.severity == "warning" and f.accepted for f in findings)
    main(["lint", "--show-accepted"])
    out = capsys.readouterr().out
    assert f"{len(findings)} accepted warnings" in out and out.count("(accepted: ") == len(findings)


def test_accepted_warnings_are_summarised_in_one_line_unless_asked_for(capsys):
    findings = lint_paths([bundled_rules_dir()])
    by_code: dict[str, int] = {}
    for finding in findings:
        by_code[finding.code] = by_code.get(finding.code, 0) + 1
    assert main(["lint"]) == 0
    out = capsys.readouterr().out
    assert "(accepted: " not in out
    kinds = ", ".join(f"{code}: {n}" for code, n in sorted(by_code.items()))
    assert out.splitlines()[-1] == (
        f"0 errors, 0 warnings, {len(findings)} accepted warnings ({kinds}); --show-accepted lists them"
    )


def test_lint_and_coverage_titles_name_the_pack(capsys):
    main(["lint", str(PACKS / "valid_minimal")])
    assert capsys.readouterr().out.splitlines()[0] == f"Lint of test-pack 0.1.0 ({PACKS / 'valid_minimal'})"
    main(["coverage", str(PACKS / "valid_minimal")])
    assert capsys.readouterr().out.splitlines()[0] == "# Coverage of test-pack 0.1.0"


def test_gap_check_covers_every_treatment_of_the_vocabulary(tmp_path):
    """A treatment no rule names is undecided everywhere: a gap, unless
    known_gaps names it (without regions: all of them)."""
    from mtus_rules.vocabulary import Treatment

    gaps = {f.message.split(" for:")[0].removeprefix("no rule decides "): f
            for f in lint_paths([PACKS / "valid_minimal"]) if f.code == "gap"}
    assert set(gaps) == {t.value for t in Treatment} - {"massage", "other"}
    assert "no rule names this treatment" in gaps["acupuncture"].message and gaps["acupuncture"].accepted is None

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "massage.yaml").write_bytes((PACKS / "valid_minimal" / "massage.yaml").read_bytes())
    (pack / "pack.yaml").write_text(
        (PACKS / "valid_minimal" / "pack.yaml").read_text(encoding="utf-8")
        + "known_gaps:\n  - {treatment: acupuncture, reason: This payer's contract leaves acupuncture to a person.}\n",
        encoding="utf-8",
    )
    (acupuncture,) = [f for f in lint_paths([pack]) if f.code == "gap" and "acupuncture" in f.message]
    assert acupuncture.accepted == "This payer's contract leaves acupuncture to a person."


# -- YAML rule tests -----------------------------------------------------------------


def _bundled_tests():
    for pack, files in ruletests.collect([bundled_rules_dir()]):
        for path in files:
            parsed, _ = ruletests.load_test_file(path)
            for test in parsed.tests:
                yield pytest.param(pack, path, test.name, id=f"{path.name}::{test.name}")


@pytest.fixture(scope="module")
def bundled_report():
    return ruletests.run([bundled_rules_dir()])


@pytest.mark.parametrize("pack,path,name", list(_bundled_tests()))
def test_bundled_yaml_rule_test(bundled_report, pack, path, name):
    (result,) = [r for r in bundled_report.results if r.file == str(path) and r.name == name]
    assert result.passed, "\n".join(result.failures)


def test_bundled_packs_reach_full_rule_coverage(capsys, monkeypatch):
    # With no path, `test` tests the pack it is run in (issue 14): run it in the bundled one.
    monkeypatch.chdir(bundled_rules_dir() / "mtus-2009")
    assert main(["test", "--min-coverage", "100"]) == 0
    assert "rule coverage: 100%" in capsys.readouterr().out


def test_every_bundled_rule_is_shown_deciding_and_not_applying(bundled_report):
    assert all(c.decided and c.shown_not_applying for c in bundled_report.coverage)


def test_a_failing_rule_test_fails_the_run(capsys):
    assert main(["test", str(RULETESTS / "failing")]) == 1
    out = capsys.readouterr().out
    assert "six visits are supported PASSED" in out
    assert "seven visits are wrongly expected to be supported FAILED" in out
    assert "item 0: expected overturned, got upheld (decided by mtus.test.massage.limit)" in out
    assert out.splitlines()[-1].startswith("=") and "1 passed, 1 failed" in out


def test_coverage_below_the_threshold_fails_and_names_the_rule(capsys):
    assert main(["test", str(RULETESTS / "partial"), "--min-coverage", "100"]) == 1
    captured = capsys.readouterr()
    assert "rules no test makes decide: mtus.test.massage.ongoing" in captured.out
    assert "rule coverage 50.0% is below 100%" in captured.err
    assert main(["test", str(RULETESTS / "partial"), "--min-coverage", "50"]) == 0


def test_no_tests_is_a_failure(capsys):
    assert main(["test", str(RULETESTS / "untested")]) == 1
    assert "no tests ran" in capsys.readouterr().err


# -- explain ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("seed-*.yaml")), ids=lambda p: p.name[:8])
def test_explain_shows_the_deciding_rules_of_each_seed(engine, path):
    case = load_case(path)
    decision, trace = engine.evaluate(case), engine.explain(case)
    for item, traced in zip(decision.items, trace.items):
        assert traced.outcome == item.outcome and traced.deciding_rules == item.rules
        deciding = {r.rule for f in traced.facets for r in f.rules if r.verdict in ("fail", "support", "neutral")}
        assert set(item.rules) <= deciding


def test_trace_shape(engine):
    case = load_case(next(EXAMPLES.glob("seed-001-*.yaml")))
    trace = json.loads(engine.explain(case).model_dump_json())
    assert set(trace) == {"case_id", "request_date", "rule_pack", "items"}
    item = trace["items"][1]
    assert set(item) == {"index", "description", "outcome", "deciding_rules", "facets"}
    facet = item["facets"][0]
    assert set(facet) == {"body_region", "facts", "diagnosis_groups", "rules", "status"}
    by_id = {r["rule"]: r for r in facet["rules"]}
    assert set(by_id["odg.pt.six_visit_trial"]) == {
        "rule", "source", "question", "effect", "in_scope", "scope", "conditions", "when", "effect_test", "outcome", "verdict", "status",
        "citation",
    }
    trial = by_id["odg.pt.six_visit_trial"]
    assert trial["citation"]["evidence"]  # the author's note: in the trace, not in decisions
    assert trial["outcome"] == "fail" and trial["verdict"] == "fail"
    assert {"test": "prior visits of this treatment at least 6", "fact": "visits_to_date", "value": 8, "result": "true"} in trial["conditions"]
    assert trial["effect_test"]["result"] == "false"
    assert by_id["mtus.cpmtg.massage.limit"]["status"] == "not applicable: treatment is physical_therapy, not massage, myofascial_release"


def test_explain_shows_mtus_governing_odg(tmp_path):
    engine = Engine([write_precedence_pack(tmp_path / "prec")])
    case = {"date_of_injury": "2013-01-01", "request_date": "2014-01-01",
            "requested_items": [{"description": "m", "treatment": "massage", "quantity": {"visits": 8}}]}
    (odg,) = [r for r in engine.explain(case).items[0].facets[0].rules if r.rule == "odg.t.limit"]
    assert odg.status == "superseded: the MTUS rule mtus.t.limit governs 't.count'" and odg.verdict is None
    assert engine.evaluate(case).items[0].outcome is Outcome.OVERTURNED


def test_cli_explain_text_and_json(capsys):
    path = str(next(EXAMPLES.glob("seed-002-*.yaml")))
    assert main(["explain", path]) == 0
    text = capsys.readouterr().out
    assert "[x] mtus.acoem12.traction.not_recommended: applies (fail)" in text
    assert "rules for other treatments not shown" in text
    assert main(["explain", path, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["trace"]["items"][2]["outcome"] == "overturned"
