"""What the engine's memos are keyed on covers what a decision reads.

The memo of engine answers is keyed on where each count falls among the
numbers the rules compare it with (compile.cut_points), and the finding and
item memos on the facts each finding words (explanation.findings.worded). Both are
shortcuts that must never drop something that changes a decision: here every
finding the engine words over many generated and example cases is worded
again from a mapping that records what it reads, and every read fact must be
one `worded` names; and the cut points must stand for every comparison.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mtus_rules import Case, Engine, load_case
from mtus_rules.explanation.findings import worded
from mtus_rules.evaluation.compile import OTHER_CHOICE, choice_sets, compile_pack, cut_points, fact_key, fact_values
from mtus_rules.evaluation.facets import facets

from ..helpers import RecordingFacts, facets_with_rules

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from generate import generate_dicts  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _cases() -> Iterator[Case]:
    for extended in (False, True):
        for data in generate_dicts(400, 2017 + extended, extended=extended):
            yield Case.model_validate(data)
    for path in sorted(ROOT.glob("examples/*.yaml")):
        yield load_case(path)


def test_every_finding_reads_only_what_its_memo_key_holds() -> None:
    engine = Engine(cache_size=0)
    (compiled,) = engine._packs
    seen: set[str] = set()
    for case in _cases():
        day = case.request_date.toordinal()
        for facet in facets(case):
            answer = compiled.match(facet, day)
            for branch in answer.kept:
                recording = RecordingFacts(facet.facts)
                facet.facts = recording
                try:
                    compiled.wordings[id(branch)](facet)
                finally:
                    facet.facts = dict(recording)
                allowed = set(worded(branch)) | {"treatment", "body_region"}
                assert recording.read <= allowed, (branch.rule.id, branch.branch, recording.read - allowed)
                seen.add(f"{branch.rule.id}#{branch.branch}")
    # Enough kinds of finding were met for this to mean something.
    assert len(seen) > 40, sorted(seen)


def test_cut_points_are_the_numbers_a_field_is_ordered_against() -> None:
    conditions = {
        "a": {"$and": [{"$lte": {"total": 10}}, {"total_known": True}, {"care": "x"}]},
        "b": {"$or": [{"$gt": {"total": 24}}, {"$gte": {"weeks": 4}}]},
        "c": {"$and": [{"$lt": {"mixed": 3}}, {"mixed": 5}]},
        "d": {"$neq": {"care": "y"}},
    }
    # Fields compared for equality keep their raw value: only ordered ones are cut.
    assert cut_points(conditions) == {"total": (10, 24), "weeks": (4,)}
    # Texts compared only for (in)equality: every other text answers alike.
    assert choice_sets(conditions) == {"care": frozenset({"x", "y"})}


def test_a_text_the_rules_never_name_is_keyed_as_any_other() -> None:
    conditions = {"a": {"$and": [{"care": "x"}, {"$neq": {"stage": "y"}}]}, "b": {"flag": True}}
    key = fact_key(("care", "flag", "stage"), {}, choice_sets(conditions))
    base = {"care": "x", "flag": True, "stage": "y"}
    assert key(base, frozenset(), 1) == ("x", True, "y")
    assert key(dict(base, care="z"), frozenset(), 1) == key(dict(base, care="w"), frozenset(), 1)
    assert key(dict(base, care="z"), frozenset(), 1)[0] == OTHER_CHOICE
    # Not a text: kept as it is (durable compares other types by its own rules).
    assert key(dict(base, stage=None), frozenset(), 1) == ("x", True, None)
    # A flag compared with true is not a text field: kept.
    assert key(dict(base, flag=False), frozenset(), 1)[1] is False


@pytest.mark.parametrize("treatment", ["physical_therapy", "manipulation", "tens", "work_conditioning"])
def test_counts_that_fall_alike_get_one_key_and_counts_that_do_not_two(treatment: str) -> None:
    (compiled,) = Engine(cache_size=0)._packs
    mine, _ = compile_pack(compiled.pack, treatment)
    rules = compiled.by_treatment[treatment]
    cuts = cut_points(mine)
    assert cuts, "the rules for this treatment compare some count with a number"
    key, values = fact_key(rules.fields, cuts), fact_values(rules.fields)
    groups: frozenset[str] = frozenset()
    base = {name.removesuffix("_known"): 0 for name in rules.fields}
    for field, points in cuts.items():
        name = field.removesuffix("_known")
        for point in points:
            # Every value from below to above each point: the key changes
            # exactly where some comparison of this field changes.
            for value in (point - 1, point, point + 1):
                for other in (point - 1, point, point + 1):
                    a, b = dict(base, **{name: value}), dict(base, **{name: other})
                    same_comparisons = all((value < p) == (other < p) and (value == p) == (other == p) for p in points)
                    assert (key(a, groups, 1) == key(b, groups, 1)) == same_comparisons, (field, value, other)
                    if value == other:
                        assert values(a, groups, 1) == values(b, groups, 1)


def test_decisions_the_engine_assembles_are_the_models_validation_makes() -> None:
    from mtus_rules.explanation.decision import Decision, ItemDecision, Rationale

    # assembled() sets no private attributes, extras or post-init: these have none.
    for model in (Decision, ItemDecision, Rationale):
        assert model.__pydantic_post_init__ is None and not model.__private_attributes__
        assert model.model_config.get("extra") in (None, "ignore")
    engine = Engine()
    for case in list(_cases())[:200]:
        made = engine.evaluate(case, what_if=True)
        again = Decision(**{name: getattr(made, name) for name in Decision.model_fields})
        assert made == again and repr(made) == repr(again)
        assert made.model_fields_set == again.model_fields_set
        for item in made.items:
            validated = ItemDecision(**dict(item))
            assert item == validated and repr(item) == repr(validated)
            assert item.model_fields_set == validated.model_fields_set
            assert item.rationale == Rationale(**dict(item.rationale))
            assert item.model_dump_json() == validated.model_dump_json()


def test_what_each_rule_answered_before_adds_up_to_what_the_engine_answers() -> None:
    engine = Engine()
    (compiled,) = engine._packs
    served = 0
    for facet, rules, day in facets_with_rules(compiled, _cases()):
        calls = compiled.engine_calls
        names = compiled._fired(rules, facet.facts, facet.diagnosis_groups, day)
        served += compiled.engine_calls == calls
        fact = dict(zip(rules.fields, rules.read_values(facet.facts, facet.diagnosis_groups, day)))
        assert sorted(names) == sorted(rules.matcher.match(fact)), facet.facts
    assert served > 300  # many answers were put together from the rules' memos
