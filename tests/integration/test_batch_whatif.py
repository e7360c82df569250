"""Batches that lose nothing, limits changed without editing files, and comparisons."""

from __future__ import annotations

import json
import random

import pytest
from mtus_rules import Case, Engine, Outcome, RulePackError, compare, load_case
from mtus_rules.cli import main
from mtus_rules.vocabulary import counted_with

from ..helpers import EXAMPLES, make_case

MASSAGE_LIMIT = "mtus.cpmtg.massage.limit"


def _rows():
    good = [load_case(p) for p in sorted(EXAMPLES.glob("seed-*.yaml"))]
    return [good[0], {"request_date": "2014-01-01"}, good[1], "not a case", good[2], {**good[3].model_dump(mode="json"), "typo": 1}]


def test_evaluate_many_returns_one_result_per_row_in_order(engine):
    results = list(engine.evaluate_many(_rows()))
    assert [r.row for r in results] == list(range(6))
    assert [r.ok for r in results] == [True, False, True, False, True, False]
    assert {p.location for p in results[1].problems} == {"date_of_injury", "requested_items"}
    assert results[3].problems[0].message == "a case must be a mapping of fields, got str"
    assert [p.location for p in results[5].problems] == ["typo"]
    assert results[2].decision == engine.evaluate(_rows()[2])


def test_worker_processes_give_the_same_results(engine):
    rows = _rows() * 30
    one = [r.model_dump_json() for r in engine.evaluate_many(rows)]
    two = [r.model_dump_json() for r in engine.evaluate_many(rows, workers=2)]
    assert one == two and len(one) == len(rows)


def test_overrides_change_the_limit_and_are_recorded(engine):
    lower = engine.with_overrides({MASSAGE_LIMIT: 4})
    case = make_case({"description": "massage x5", "treatment": "massage", "quantity": {"visits": 5}})
    assert engine.evaluate(case).items[0].outcome is Outcome.OVERTURNED
    decision = lower.evaluate(case)
    assert decision.items[0].outcome is Outcome.UPHELD
    assert decision.rule_pack.overrides == {"limits": {MASSAGE_LIMIT: 4}, "disabled": []}
    assert decision.rule_pack.version.startswith(engine.packs[0].version + "+whatif.")
    assert decision.rule_pack.content_hash != engine.evaluate(case).rule_pack.content_hash
    assert "over the limit of 4" in decision.items[0].rationale.case
    # The original engine is untouched.
    assert engine.evaluate(case).items[0].outcome is Outcome.OVERTURNED


def test_overrides_change_a_trial_threshold_and_switch_rules_off(engine):
    case = make_case(
        {"description": "chiro x8", "treatment": "manipulation", "body_regions": ["cervical"], "quantity": {"visits": 8}}
    )
    assert engine.evaluate(case).items[0].outcome is Outcome.UPHELD
    assert engine.with_overrides({"mtus.cpmtg.manipulation.trial": 8}).evaluate(case).items[0].outcome is Outcome.OVERTURNED
    off = engine.with_overrides(disabled=["mtus.cpmtg.manipulation.trial"])
    assert off.evaluate(case).items[0].outcome is Outcome.OVERTURNED
    assert off.evaluate(case).rule_pack.overrides["disabled"] == ["mtus.cpmtg.manipulation.trial"]


def test_a_what_if_of_a_what_if_records_every_change_in_force(engine):
    # An analyst narrows a scenario step by step; the decisions must still say
    # everything that differs from the published pack, as one change at once would.
    trial = "mtus.cpmtg.manipulation.trial"
    stepwise = engine.with_overrides({MASSAGE_LIMIT: 4}).with_overrides({trial: 8}, disabled=["mtus.cpmtg.nmes.not_recommended"])
    at_once = engine.with_overrides({MASSAGE_LIMIT: 4, trial: 8}, disabled=["mtus.cpmtg.nmes.not_recommended"])
    (mine,), (theirs,) = stepwise.pack_refs, at_once.pack_refs
    assert mine.overrides == theirs.overrides == {
        "limits": {MASSAGE_LIMIT: 4, trial: 8}, "disabled": ["mtus.cpmtg.nmes.not_recommended"]
    }
    assert mine.version.count("+whatif.") == 1 and mine.version.startswith(engine.packs[0].version + "+whatif.")
    # A later number for the same rule replaces the earlier one, in the record as in the rules.
    again = engine.with_overrides({MASSAGE_LIMIT: 4}).with_overrides({MASSAGE_LIMIT: 5})
    assert again.pack_refs[0].overrides == {"limits": {MASSAGE_LIMIT: 5}, "disabled": []}
    massage = next(rule for rule in again.packs[0].rules if rule.id == MASSAGE_LIMIT)
    assert massage.limit is not None and massage.limit.visits == 5


def test_bad_overrides_are_refused(engine):
    with pytest.raises(RulePackError, match="no rule 'mtus.nope'"):
        engine.with_overrides({"mtus.nope": 3})
    with pytest.raises(RulePackError, match="has no single number to change"):
        engine.with_overrides({"mtus.cpmtg.nmes.not_recommended": 3})
    with pytest.raises(RulePackError, match="whole number"):
        engine.with_overrides({MASSAGE_LIMIT: -1})


def _massage_cases(n: int, seed: int = 2026) -> list[dict]:
    """A seeded set of massage-heavy cases: every prior count, quantity and
    stage of care the massage rules tell apart, plus other treatments."""
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        history = []
        for treatment in rng.sample(["massage", "myofascial_release", "manipulation"], rng.randint(0, 2)):
            history.append({"treatment": treatment, "visits": rng.choice([0, 1, 2, 3, 4, 5, 6, "not_documented"])})
        items = []
        for _ in range(rng.randint(1, 2)):
            treatment = rng.choice(["massage", "massage", "myofascial_release", "manipulation"])
            item = {"description": treatment, "treatment": treatment, "body_regions": [rng.choice(["lumbar", "cervical"])]}
            if rng.random() < 0.85:
                item["quantity"] = {"visits": rng.randint(1, 8)}
            items.append(item)
        cases.append(make_case(items[0], history=history, requested_items=items,
                               care_stage=rng.choice(["first_evaluation", "first_evaluation", "ongoing_care", "not_documented"])))
    return cases


def test_lowering_the_massage_limit_flips_exactly_the_items_an_independent_count_finds():
    cases = _massage_cases(600)
    engine = Engine()
    result = compare(engine, engine.with_overrides({MASSAGE_LIMIT: 4}), cases)
    # Independent count: an item flips when it was overturned under the 6-visit
    # limit and its total (prior massage + myofascial visits + requested) is 5 or 6.
    expected = set()
    for row, data in enumerate(cases):
        case = Case.model_validate(data)
        decision = engine.evaluate(case)
        for item, decided in zip(case.requested_items, decision.items):
            if item.treatment.value not in ("massage", "myofascial_release") or decided.outcome is not Outcome.OVERTURNED:
                continue
            prior = sum(c.visits for c in case.treatment_history if c.treatment in counted_with(item.treatment))
            if prior + (item.visits or 0) in (5, 6):
                expected.add((row, decided.index))
    assert len(expected) >= 20, "the generated set must contain items the change affects"
    assert {(f.row, f.item) for f in result.flips} == expected
    assert all(f.before == "overturned" and f.after == "upheld" and f.cause == [MASSAGE_LIMIT] for f in result.flips)
    assert result.by_rule == {MASSAGE_LIMIT: len(expected)}


def test_compare_flips_on_a_fixed_set():
    engine = Engine()
    cases = [
        make_case({"description": f"massage x{n}", "treatment": "massage", "quantity": {"visits": n}}) for n in (3, 4, 5, 6, 7)
    ]
    result = compare(engine, engine.with_overrides({MASSAGE_LIMIT: 4}), cases)
    assert [f.row for f in result.flips] == [2, 3]
    assert result.by_direction == {"overturned -> upheld": 2}
    assert result.by_treatment == {"massage": 2}


def test_cli_batch_jsonl_flags_bad_rows_and_keeps_the_rest(tmp_path, capsys):
    good = json.dumps(load_case(next(EXAMPLES.glob("seed-004-*.yaml"))).model_dump(mode="json"))
    source = tmp_path / "cases.jsonl"
    source.write_text("\n".join([good, "{not json", good, '{"request_date": "x"}', "", good]) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(source), "-o", str(out)]) == 2
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["row"], r["line"], "decision" in r) for r in records] == [
        (0, 1, True), (1, 2, False), (2, 3, True), (3, 4, False), (4, 6, True),
    ]
    assert records[1]["problems"][0]["message"].startswith("line 2: invalid JSON")
    assert records[0]["decision"]["items"][0]["outcome"] == "upheld"
    err = capsys.readouterr().err
    assert "5 rows, 2 bad" in err and "\r" not in err  # no progress bar when not on a terminal


def test_cli_compare_reports_flips(tmp_path, capsys):
    source = tmp_path / "cases.jsonl"
    source.write_text("\n".join(
        json.dumps(make_case({"description": f"massage x{n}", "treatment": "massage", "quantity": {"visits": n}})) for n in (4, 5)
    ) + "\n")
    assert main(["compare", str(source), "--limit", f"{MASSAGE_LIMIT}=4"]) == 0
    out = capsys.readouterr().out
    assert "2 items compared; 1 flip" in out and "overturned -> upheld: 1" in out and f"by rule: {MASSAGE_LIMIT} 1" in out
    assert f"\nbefore: mtus-2009 {Engine().packs[0].version} (sha256:" in out and ") with what-if changes\n" in out.split("after: ")[1]
    assert main(["compare", str(source), "--limit", "oops"]) == 2
    assert "expected RULE=N" in capsys.readouterr().err
