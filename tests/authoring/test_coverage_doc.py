"""docs/coverage.md is generated from the rule files and must not go stale."""

from __future__ import annotations

from mtus_rules.cli import main

from ..helpers import ROOT


def test_coverage_doc_matches_the_rules(capsys):
    assert main(["coverage"]) == 0
    generated = capsys.readouterr().out
    committed = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert committed == generated, "docs/coverage.md is stale: run `mtus-rules coverage > docs/coverage.md`"


def test_coverage_doc_lists_every_rule_with_how_it_was_confirmed(capsys):
    from mtus_rules import bundled_pack_dirs, load_pack

    main(["coverage"])
    text = capsys.readouterr().out
    for folder in bundled_pack_dirs():
        for rule in load_pack(folder).rules:
            (row,) = [line for line in text.splitlines() if line.startswith(f"| `{rule.id}` |")]
            assert rule.citation.section in row
            assert {"guideline_text": "guideline text", "secondary_summary": "secondary summary",
                    "reviewer_quotation": "IMR reviewer's quotation", "attested": "**ATTESTED**"}[rule.citation.confirmed_by] in row
