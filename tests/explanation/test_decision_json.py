"""`decision_json` is `model_dump_json` with the id digested from the same text:
byte-identical, for plain decisions, what-if ones, both backends, overridden
packs and texts that quote the JSON the shortcut looks for."""

from __future__ import annotations

import itertools
import json

import pytest

from mtus_rules import Engine, load_case
from mtus_rules.explanation.decision import Decision, decision_json

from ..helpers import EXAMPLES

ROWS = [json.loads(line) for line in (EXAMPLES / "history" / "generated-cases.jsonl").read_text().splitlines()[:300]]
SEEDS = [load_case(path) for path in sorted(EXAMPLES.glob("seed-*.yaml"))]


def _fresh(decision: Decision) -> Decision:
    # A decision whose id was never asked for, as the engine returns it.
    return Decision.model_validate_json(decision.model_dump_json(exclude={"decision_id"}))


@pytest.mark.parametrize("backend", ["durable_rules", "python"])
def test_the_same_bytes_as_model_dump_json(backend):
    if backend == "durable_rules":
        pytest.importorskip("durable")
    engine = Engine(backend=backend)
    for case in itertools.chain(SEEDS, ROWS):
        decision = engine.evaluate(case)
        expected = _fresh(decision).model_dump_json()
        assert decision_json(_fresh(decision)) == expected
        # The id it worked out is the one the property gives.
        shortcut = _fresh(decision)
        decision_json(shortcut)
        assert shortcut.decision_id == _fresh(decision).decision_id


def test_what_if_and_overridden_decisions_too():
    engine = Engine().with_overrides(limits={"mtus.cpmtg.manipulation.low_back.maximum": 9, "mtus.cpmtg.massage.limit": 3})
    for case in ROWS[:40]:
        for what_if in (False, True):
            decision = engine.evaluate(case, what_if=what_if)
            assert decision_json(_fresh(decision)) == _fresh(decision).model_dump_json()


def test_texts_that_quote_the_json_it_looks_for():
    row = dict(ROWS[0])
    quoted = ',"what_if":null,"backend":"python"],"items":['
    row["case_id"] = quoted
    row["requested_items"] = [dict(item, description=quoted) for item in row["requested_items"]]
    decision = Engine().evaluate(row)
    assert decision_json(_fresh(decision)) == _fresh(decision).model_dump_json()


def test_a_plain_decision_is_serialized_once(monkeypatch):
    decision = _fresh(Engine().evaluate(ROWS[0]))
    calls = []
    real = Decision.model_dump_json

    def spy(self, **kwargs):
        calls.append(kwargs.get("exclude"))
        return real(self, **kwargs)

    monkeypatch.setattr(Decision, "model_dump_json", spy)
    decision_json(decision)
    assert calls == [{"decision_id"}]
