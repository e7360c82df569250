"""The pure-Python matcher decides every compiled condition of the bundled pack
exactly as durable_rules does (a differential property), and refuses a
condition outside the language it knows instead of guessing."""

from __future__ import annotations

import datetime as _dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtus_rules.evaluation import _pymatch
from mtus_rules.evaluation.compile import compile_pack, fields_used
from mtus_rules.packs.conditions import FACTS, KNOWN_SUFFIX
from mtus_rules.packs import bundled_pack_dirs, load_pack
from mtus_rules.vocabulary import Treatment

try:
    from mtus_rules.evaluation import _durable as durable
except ImportError:  # durable-rules is installed only before Python 3.13
    durable = None

PACK = load_pack(bundled_pack_dirs()[0])
TREATMENTS = [t.value for t in Treatment if any(t in r.applies_to.treatment for r in PACK.rules)]


def _values(field: str) -> st.SearchStrategy:
    """Values a fact field can take, thresholds' neighbourhoods included."""
    if field == "request_day":
        return st.integers(_dt.date(2003, 1, 1).toordinal(), _dt.date(2020, 1, 1).toordinal())
    if field.startswith("dx_") or field.endswith(KNOWN_SUFFIX):
        return st.booleans()
    spec = FACTS[field]
    if spec.kind == "count":
        # Counts are sent as numbers; months are fractional (whole months + days/32).
        return st.integers(0, 60) | st.floats(0, 60, allow_nan=False).map(lambda x: round(x * 32) / 32)
    return st.sampled_from(list(spec.values) + ([spec.unknown] if spec.unknown and spec.unknown not in spec.values else []))


@pytest.mark.skipif(durable is None, reason="durable-rules is not installed on this Python: nothing to compare with")
@pytest.mark.parametrize("treatment", TREATMENTS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_python_matcher_agrees_with_durable_rules(treatment, data):
    fields, python, native = _matchers(treatment)
    fact = {name: data.draw(_values(name), label=name) for name in fields}
    fact["treatment"] = treatment
    assert sorted(python.match(fact)) == sorted(native.match(fact)), repr(sorted(fact.items()))


_MATCHERS: dict[str, tuple] = {}


def _matchers(treatment):
    # Both backends built once per treatment for the whole run: rebuilding them
    # per example would test compilation, not matching, and be slow.
    if treatment not in _MATCHERS:
        conditions, _ = compile_pack(PACK, treatment)
        fields = sorted(fields_used(conditions))
        _MATCHERS[treatment] = (fields, _pymatch.Matcher(treatment, conditions), durable.Matcher(treatment, conditions))
    return _MATCHERS[treatment]


@pytest.mark.parametrize(
    "condition",
    [
        {"$regex": {"treatment": "x"}},
        {"$lt": {"a": 1, "b": 2}},
        {"a; import os": 1},
        {"a": [1, 2]},
        {"$and": []},
        {},
    ],
)
def test_a_condition_outside_the_language_is_refused(condition):
    with pytest.raises(_pymatch.ConditionError):
        _pymatch.Matcher("bad", {"rule": condition})


def test_a_missing_field_fails_every_test():
    matcher = _pymatch.Matcher(
        "t", {"eq": {"a": 1}, "lt": {"$lt": {"a": 5}}, "neq": {"$neq": {"b": "x"}}, "flag": {"k": True}}
    )
    assert matcher.match({}) == []
    assert matcher.match({"a": 7, "b": "y", "k": False}) == ["neq"]
    assert sorted(matcher.match({"a": 1, "b": "x", "k": True})) == ["eq", "flag", "lt"]


def test_a_fact_of_the_wrong_type_is_a_clear_error():
    with pytest.raises(_pymatch.ConditionError, match="wrong type"):
        _pymatch.Matcher("t", {"lt": {"$lt": {"a": 5}}}).match({"a": "five"})
