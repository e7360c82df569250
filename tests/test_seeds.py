"""The nine seed decisions: the outcome each IMR reviewer reached, and a
citation of the section (and an overlapping page range) the reviewer cited."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mtus_rules import load_case
from mtus_rules.cli import main

from .helpers import EXAMPLES

# (example file prefix, item index, reviewer outcome, guideline text, section text, reviewer pages)
REVIEWERS = [
    ("seed-000", 0, "upheld", "Chronic Pain", "manipulation", (57, 59)),
    ("seed-001", 0, "upheld", "Chronic Pain", "manipulation", (58, 58)),
    ("seed-001", 1, "upheld", "Chronic Pain", "Physical medicine", (98, 99)),
    ("seed-001", 2, "upheld", "Chronic Pain", "Massage", (60, 60)),
    ("seed-002", 0, "upheld", "ACOEM", "traction", (300, 300)),
    ("seed-002", 1, "upheld", "Chronic Pain", "electrotherapy", (114, 116)),
    ("seed-002", 2, "overturned", "Chronic Pain", "Massage", (60, 60)),
    # Seed 003's reviewer cited no MTUS page: the governing MTUS section is cited (no page check).
    ("seed-003", 0, "upheld", "Chronic Pain", "Physical medicine", None),
    ("seed-004", 0, "upheld", "Chronic Pain", "Massage", (60, 60)),
]


def _example(prefix: str):
    (path,) = EXAMPLES.glob(f"{prefix}-*.yaml")
    return path


@pytest.mark.parametrize("prefix,index,expected,guideline,section,pages", REVIEWERS)
def test_seed_outcome_and_citation(engine, prefix, index, expected, guideline, section, pages):
    item = engine.evaluate(load_case(_example(prefix))).items[index]
    assert item.outcome.value == expected
    assert item.rules, "a decided item names the rules that decided it"
    matching = [c for c in item.citations if guideline in c.guideline and section.lower() in c.section.lower()]
    assert matching, f"no citation of {guideline} / {section} in {[str(c) for c in item.citations]}"
    if pages is not None:
        overlaps = [
            c for c in matching if c.page_range and c.page_range[0] <= pages[1] and pages[0] <= c.page_range[1]
        ]
        assert overlaps, f"no cited page range overlaps the reviewer's {pages}"


def test_seed_003_cites_odg_where_it_fills_the_gap(engine):
    item = engine.evaluate(load_case(_example("seed-003"))).items[0]
    assert any(c.source == "ODG" for c in item.citations)
    assert "ODG fills the gap" in item.rationale.guideline


def test_every_example_item_is_covered_by_the_table(engine):
    counted = {(p, i) for p, i, *_ in REVIEWERS}
    for path in sorted(EXAMPLES.glob("seed-*.yaml")):
        prefix = path.name[:8]
        for item in engine.evaluate(load_case(path)).items:
            assert (prefix, item.index) in counted


def test_cli_json_gives_the_nine_outcomes(capsys):
    files = sorted(str(p) for p in EXAMPLES.glob("seed-*.yaml"))
    assert main(["evaluate", *files, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    got = [(d["file"].split("/")[-1][:8], it["index"], it["outcome"]) for d in out for it in d["decision"]["items"]]
    assert got == [(p, i, o) for p, i, o, *_ in REVIEWERS]
    for element in out:  # {file, decision}: the file beside the decision
        decision = element["decision"]
        assert decision["rule_pack"]["name"] == "mtus-2009"
        assert len(decision["rule_pack"]["content_hash"]) == 64
        for item in decision["items"]:
            assert item["rules"] and item["rationale"]
            for citation in item["citations"]:
                assert {"source", "section", "pages"} <= citation.keys()


def test_rationale_has_three_parts(engine):
    item = engine.evaluate(load_case(_example("seed-004"))).items[0]
    assert "passive" in item.rationale.guideline
    assert "ongoing care" in item.rationale.case
    assert item.rationale.conclusion.endswith("is not medically necessary.")


def test_cli_text_names_each_outcome(capsys):
    assert main(["evaluate", str(_example("seed-002"))]) == 0
    text = capsys.readouterr().out
    assert text.count("UPHELD") == 2 and text.count("OVERTURNED") == 1
    assert "p. 300" in text


def test_decisions_are_identical_across_processes():
    """Same case + same pack = same decision, byte for byte, even in a new interpreter."""
    files = sorted(str(p) for p in EXAMPLES.glob("seed-*.yaml"))
    cmd = [sys.executable, "-m", "mtus_rules", "evaluate", *files, "--format", "json"]
    first = subprocess.run(cmd, capture_output=True, check=True).stdout
    second = subprocess.run(cmd, capture_output=True, check=True).stdout
    assert first == second and b"upheld" in first


@pytest.mark.parametrize("prefix", ["seed-002", "seed-004"])
def test_seeds_002_and_004_decide_as_the_reviewers_did_without_a_stated_care_stage(engine, prefix):
    """The stage of care is derived from what the seed summaries really say: 002 has no
    treatment to date; 004 continues a home exercise program."""
    stated = load_case(_example(prefix))
    assert stated.care_stage is not None  # the example keeps what the seed states
    decision = engine.evaluate(stated.model_copy(update={"care_stage": None}))
    expected = [(i, o) for p, i, o, *_ in REVIEWERS if p == prefix]
    assert [(item.index, item.outcome.value) for item in decision.items] == expected
    massage = decision.items[-1]
    assert any("Stage of care" in f.text and "(derived" in f.text for f in massage.findings)


def test_cli_piped_into_a_reader_that_stops_early_prints_no_traceback():
    """`mtus-rules evaluate examples/*.yaml | head -2`: head closes the pipe after two lines."""
    files = sorted(str(p) for p in EXAMPLES.glob("*.yaml"))
    cmd = [sys.executable, "-m", "mtus_rules", "evaluate", *files]
    reader = subprocess.Popen(["head", "-2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    writer = subprocess.run(cmd, stdout=reader.stdin, stderr=subprocess.PIPE)
    reader.stdin.close()
    assert len(reader.stdout.read().splitlines()) == 2
    reader.wait()
    assert writer.returncode == 0 and b"Traceback" not in writer.stderr and writer.stderr == b""
