"""Decisions as an adjuster reads them (issue 14 point 6): a line per case and per
item, rule ids and code mappings only when asked, each citation and each missing
fact said once, "all of" / "any one of" said plainly, no code words, and the
authors' research notes kept out of decisions."""

from __future__ import annotations

import json
import re
from functools import cache

import pytest

from mtus_rules import Engine, load_case
from mtus_rules.cli import main
from mtus_rules.explanation.decision import Alternative, Change, WhatIf
from mtus_rules.explanation.render import citation_words, decision_text

from ..helpers import EXAMPLES

CASES = sorted(EXAMPLES.glob("*.yaml")) + sorted((EXAMPLES / "rfa").glob("*.yaml"))
SEED_001 = EXAMPLES / "seed-001-chiropractic-pt-massage.yaml"
ACUPUNCTURE = EXAMPLES / "acupuncture-trial.yaml"
RFA = EXAMPLES / "rfa" / "seed-001-rfa.yaml"


@cache
def _decision(path):
    return Engine().evaluate(load_case(path), what_if=True)


def test_a_line_for_the_case_and_a_line_for_each_item():
    text = decision_text(_decision(SEED_001)).splitlines()
    assert text[1] == "  3 items: 3 upheld"
    firsts = [line for line in text if re.match(r"  \d\. ", line)]
    assert firsts[0] == (
        "  1. Chiropractic x 8: UPHELD (not medically necessary) - the record lacks information the guideline needs; "
        "a condition the guideline sets is not met"
    )
    mixed = decision_text(_decision(ACUPUNCTURE)).splitlines()[1]
    assert mixed == "  3 items: 1 upheld, 1 overturned, 1 with no applicable guideline"


def test_rule_ids_and_code_mappings_only_with_verbose(capsys):
    assert main(["evaluate", str(RFA)]) == 0
    plain = capsys.readouterr().out
    assert main(["evaluate", str(RFA), "--verbose"]) == 0
    verbose = capsys.readouterr().out
    assert "Decided by:" not in plain and "mtus.cpmtg." not in plain
    assert " -> " not in plain and "code 98940" not in plain
    assert "Read from RFA line 1 as manipulation, 8 visits." in plain
    assert "Decided by: mtus.cpmtg.manipulation" in verbose and "code 98940 -> manipulation" in verbose


def test_explain_verbose_shows_the_rules_for_other_treatments(capsys):
    assert main(["explain", str(SEED_001)]) == 0
    plain = capsys.readouterr().out
    assert main(["explain", str(SEED_001), "-v"]) == 0
    verbose = capsys.readouterr().out
    assert "rules for other treatments not shown" in plain
    assert "not shown" not in verbose and len(verbose) > len(plain)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_each_citation_once_and_each_missing_fact_once_per_item(path):
    for item in _decision(path).items:
        for citation in item.citations:
            assert item.rationale.guideline.count(f"({citation})") <= 1, (item.description, str(citation))
        for needed in {n for f in item.findings for n in f.needed}:
            assert item.rationale.case.count(needed) == 1, (item.description, needed)


def test_the_guideline_part_cites_once_where_it_used_to_repeat():
    acupuncture = _decision(ACUPUNCTURE).items[0]
    (citation,) = {str(c) for c in acupuncture.citations}
    assert acupuncture.rationale.guideline.count(citation) == 1
    assert acupuncture.rationale.guideline.endswith(f"({citation})")


def test_a_missing_fact_is_said_once_with_every_rule_that_needs_it():
    chiropractic = _decision(SEED_001).items[0]
    case = chiropractic.rationale.case
    assert case.count("Not documented") == 1
    assert "Not documented: the body region the treatment is directed to. Without it these 2 rules cannot be applied" in case


def test_all_of_and_any_one_of_said_plainly():
    item = _decision(SEED_001).items[0]
    (alternative,) = item.what_if.alternatives
    assert alternative.text.startswith("all of: the body region specified")
    other = Alternative(changes=[Change(fact="visits_requested", value=2, text="the request reduced to 2 visits")],
                        rules=alternative.rules, text="the request reduced to 2 visits")
    two = item.model_copy(update={"what_if": WhatIf(supported_visits=0, alternatives=[alternative, other])})
    decision = _decision(SEED_001).model_copy(update={"items": [two]})
    text = decision_text(decision)
    assert "What would change the outcome (any one of these):" in text
    assert "      - all of: the body region specified" in text and "      - the request reduced to 2 visits" in text


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_no_code_words_in_the_text(path):
    text = decision_text(_decision(path), str(path.relative_to(EXAMPLES)))
    body = "\n".join(text.splitlines()[1:])  # the first line names the file
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", body), re.search(r"\b[a-z]+_[a-z_]+\b", body)
    assert "sprain strain" not in body and "documented: 0" not in body


def test_research_notes_stay_on_the_rules_and_out_of_decisions(capsys):
    engine = Engine()
    decision = engine.evaluate(load_case(SEED_001), what_if=True)
    assert "evidence" not in json.dumps(decision.model_dump(mode="json"))
    assert main(["evaluate", str(SEED_001), "--format", "json"]) == 0
    assert '"evidence"' not in capsys.readouterr().out
    rules = {rule.id: rule for pack in engine.packs for rule in pack.rules}
    for item in decision.items:
        for rule_id in item.rules:
            assert rules[rule_id].citation.evidence  # the author's note is still there
        # The decision cites the same pages as the rule, without the note.
        cited = {citation_words(c) for c in item.citations}
        assert cited <= {citation_words(r.citation) for r in rules.values()} | {
            citation_words(r.fills_gap_in) for r in rules.values() if r.fills_gap_in
        }


def test_explain_shows_authors_the_evidence_of_each_rule_that_took_part(capsys):
    engine = Engine()
    case = load_case(SEED_001)
    trace = engine.explain(case)
    rules = {rule.id: rule for pack in engine.packs for rule in pack.rules}
    took_part = [r for item in trace.items for facet in item.facets for r in facet.rules if r.outcome is not None]
    assert took_part
    for traced in took_part:
        assert traced.citation == rules[traced.rule].citation  # evidence included
    assert all(r.citation is None for item in trace.items for f in item.facets for r in f.rules if r.outcome is None)
    assert main(["explain", str(SEED_001)]) == 0
    text = capsys.readouterr().out
    deciding = rules[trace.items[0].deciding_rules[0]].citation
    assert " ".join(deciding.evidence.split()) in text and f"[{deciding.confirmed_by}]" in text
