"""Shortcuts the compiled pack takes for speed give what the long way gives.

- the engine's fact is built as one dict display (compile.fact_dict): the same
  fields, values and order as `dict(zip(fields, values))`;
- precedence is not applied for a treatment none of whose rules it can set
  aside (ByTreatment.contested): the rules kept are those precedence, applied
  to the rules themselves, keeps;
- the pure-Python matcher reads each field of a fact once per match.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mtus_rules import Case, Engine
from mtus_rules.evaluation._pymatch import compile_conditions
from mtus_rules.evaluation.compile import compile_pack
from mtus_rules.evaluation.facets import facets
from mtus_rules.evaluation.outcome import governed_questions, set_aside

from ..helpers import facets_with_rules

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from generate import generate_dicts  # noqa: E402


def _cases() -> Iterator[Case]:
    for extended in (False, True):
        for data in generate_dicts(300, 1312 + extended, extended=extended):
            yield Case.model_validate(data)


def test_the_fact_sent_to_the_matcher_is_the_fields_and_their_values_in_order() -> None:
    (compiled,) = Engine(cache_size=0)._packs
    checked = 0
    for facet, rules, day in facets_with_rules(compiled, _cases()):
        fact = rules.read_fact(facet.facts, facet.diagnosis_groups, day)
        expected = dict(zip(rules.fields, rules.read_values(facet.facts, facet.diagnosis_groups, day)))
        assert list(fact.items()) == list(expected.items())
        checked += 1
    assert checked > 500


def test_the_rules_kept_are_those_precedence_keeps() -> None:
    engine = Engine(cache_size=0, backend="python")
    (compiled,) = engine._packs
    set_aside_somewhere = 0
    for case in _cases():
        day = case.request_date.toordinal()
        for facet in facets(case):
            answer = compiled.match(facet, day)
            rules = [b.rule for b in answer.branches]
            governed = governed_questions(rules)
            expected = tuple(b for b in answer.branches if not set_aside(b.rule, governed))
            assert answer.kept == expected, (facet.facts["treatment"], [b.rule.id for b in answer.branches])
            set_aside_somewhere += len(answer.branches) - len(answer.kept)
    # Precedence did set rules aside here, so the shortcut was put to the test.
    assert set_aside_somewhere > 0


def test_only_treatments_with_a_rule_precedence_can_set_aside_skip_it() -> None:
    (compiled,) = Engine(cache_size=0)._packs
    for treatment, rules in compiled.by_treatment.items():
        _, named = compile_pack(compiled.pack, treatment)
        mine = [b.rule for b in named.values()]
        governed = governed_questions(mine)
        assert rules.contested == any(set_aside(r, governed) for r in mine), treatment
    assert any(r.contested for r in compiled.by_treatment.values())
    assert not all(r.contested for r in compiled.by_treatment.values())


class _Counting(dict):
    def __init__(self, values: dict[str, Any]):
        super().__init__(values)
        self.reads: Counter[str] = Counter()

    def get(self, name: str, default: Any = None) -> Any:
        self.reads[name] += 1
        return super().get(name, default)

    def __getitem__(self, name: str) -> Any:
        self.reads[name] += 1
        return super().__getitem__(name)


def test_the_python_matcher_reads_each_field_once_per_match() -> None:
    conditions = {
        "a": {"$and": [{"treatment": "massage"}, {"$lte": {"total": 6}}, {"total_known": True}]},
        "b": {"$and": [{"treatment": "massage"}, {"$gt": {"total": 6}}]},
        "c": {"$or": [{"$gte": {"total": 10}}, {"stage": "acute"}, {"missing": 1}]},
    }
    match = compile_conditions(conditions)
    fact = _Counting({"treatment": "massage", "total": 12, "total_known": True, "stage": "acute"})
    assert match(fact) == ["b", "c"]
    assert fact.reads and set(fact.reads.values()) == {1}, fact.reads
    # A field the fact does not carry still makes its tests false.
    assert match({"treatment": "massage", "total_known": True}) == []
