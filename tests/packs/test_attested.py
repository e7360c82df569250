"""Attested figures stay visible wherever a person looks (issue 9, point 1): the rule
file, lint (its own warning kind, counted, accepted per pack with a reason), the coverage
table, the decision's JSON and its text."""

from __future__ import annotations

import json
from pathlib import Path

from mtus_rules import load_case
from mtus_rules.cli import main
from mtus_rules.authoring.coverage import markdown
from mtus_rules.authoring.lint import lint_paths
from mtus_rules.packs import bundled_pack_dirs, load_pack

from ..helpers import EXAMPLES

PT_MYALGIA = EXAMPLES / "physical-therapy-myalgia.yaml"


def _attested_rules() -> list[str]:
    return [r.id for p in bundled_pack_dirs() for r in load_pack(p).rules if r.citation.confirmed_by == "attested"]


def test_attested_rules_exist_and_say_so_in_their_evidence():
    rules = [r for p in bundled_pack_dirs() for r in load_pack(p).rules if r.citation.attested]
    assert rules
    for rule in rules:
        assert "ATTESTED" in rule.citation.evidence, rule.id


def test_lint_lists_each_attested_rule_accepted_for_the_pack(capsys):
    folder = bundled_pack_dirs()[0]
    findings = [f for f in lint_paths([folder]) if f.code == "attested"]
    assert sorted(r for f in findings for r in f.rules) == sorted(_attested_rules())
    reason = load_pack(folder).lint_accept["attested"]
    assert all(f.accepted == reason for f in findings)
    assert main(["lint", str(folder)]) == 0
    # Counted in the summary line on every run...
    assert f"attested: {len(findings)}" in capsys.readouterr().out.splitlines()[-1]
    # ...and each one listed, for checking its pages, when asked for (issue 14 point 5).
    assert main(["lint", "--show-accepted", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("warning[attested]") == len(findings)
    assert f"attested: {len(findings)}" in out.splitlines()[-1]


def test_lint_reports_attested_rules_as_open_warnings_without_the_pack_acceptance(tmp_path, capsys):
    """The acceptance is the pack's decision: a copy without it fails --strict on each one."""
    import shutil

    copy = tmp_path / "pack"
    shutil.copytree(bundled_pack_dirs()[0], copy)
    header = copy / "pack.yaml"
    text = header.read_text()
    header.write_text(text[: text.index("\nlint:")] + "\n")
    open_warnings = [f for f in lint_paths([copy]) if f.code == "attested" and not f.accepted]
    assert len(open_warnings) == len(_attested_rules())
    assert main(["lint", "--strict", str(copy)]) == 1


def test_coverage_table_marks_attested_rules():
    text = markdown([load_pack(p) for p in bundled_pack_dirs()])
    for rule in _attested_rules():
        (row,) = [line for line in text.splitlines() if line.startswith(f"| `{rule}` |")]
        assert "**ATTESTED**" in row


def test_a_decision_carries_confirmed_by_in_json_and_marks_attested_pages_in_text(engine, capsys):
    decision = engine.evaluate(load_case(PT_MYALGIA))
    citations = json.loads(decision.model_dump_json())["items"][0]["citations"]
    assert {"attested", "reviewer_quotation"} <= {c["confirmed_by"] for c in citations}
    assert main(["evaluate", str(PT_MYALGIA)]) == 0
    text = capsys.readouterr().out
    guideline = next(line for line in text.splitlines() if line.strip().startswith("Guideline:"))
    assert "pp. 98-99 [attested: check against your copy]" in guideline
    # A citation that is not attested is not marked.
    assert "Physical medicine, pp. 98-99;" in guideline or guideline.rstrip().endswith("Physical medicine, pp. 98-99")
