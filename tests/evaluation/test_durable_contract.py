"""Contract test for every durable_rules call the adapter relies on.

durable-rules 2.0.28 is unmaintained; if a rebuild or a fork changes any of
these shapes, this file fails before a decision can silently change.
"""

from __future__ import annotations

import json

import pytest

# durable-rules is installed only where it imports (before Python 3.13).
dre = pytest.importorskip("durable_rules_engine", reason="durable-rules is not installed on this Python")

from mtus_rules.evaluation._durable import Matcher


@pytest.fixture
def handle():
    h = dre.create_ruleset("contract-test", json.dumps({
        "a": {"all": [{"m": {"$and": [{"t": "x"}, {"$lte": {"n": 6}}]}}]},
        "b": {"all": [{"m": {"$or": [{"t": "x"}, {"t": "y"}]}}]},
    }))
    yield h
    dre.delete_ruleset(h)


def test_create_ruleset_returns_an_int_handle(handle):
    assert isinstance(handle, int)


def test_assert_fact_match_and_fire_every_rule(handle):
    fact = json.dumps({"sid": "0", "id": 1, "t": "x", "n": 3})
    status, state = dre.assert_fact(handle, fact)
    assert status == 0 and isinstance(state, int)
    started = dre.start_action_for_state(handle, state)
    assert isinstance(started, tuple) and len(started) == 2
    fired = list(json.loads(started[1]))
    message = dre.complete_and_start_action(handle, state)
    while message:
        assert isinstance(message, str)
        fired.extend(json.loads(message))
        message = dre.complete_and_start_action(handle, state)
    assert message is None
    assert sorted(fired) == ["a", "b"]  # a fact is seen by every rule it satisfies
    assert dre.retract_fact(handle, fact)[0] == 0


def test_no_match_and_duplicate_status_codes(handle):
    assert dre.assert_fact(handle, json.dumps({"sid": "0", "id": 2, "t": "z"}))[0] == 1
    fact = json.dumps({"sid": "0", "id": 3, "t": "y"})
    assert dre.assert_fact(handle, fact)[0] == 0
    started = dre.start_action_for_state(handle, 1)
    while started and dre.complete_and_start_action(handle, 1):
        pass
    assert dre.assert_fact(handle, fact)[0] == 2  # same content again is refused
    dre.retract_fact(handle, fact)


def test_an_event_is_consumed_by_one_rule_only(handle):
    """Why the adapter asserts facts rather than posting events."""
    status, state = dre.assert_event(handle, json.dumps({"sid": "0", "id": 4, "t": "x", "n": 1}))
    assert status == 0
    fired = list(json.loads(dre.start_action_for_state(handle, state)[1]))
    assert dre.complete_and_start_action(handle, state) is None
    assert len(fired) == 1


def test_delete_state_resets_a_session(handle):
    """The adapter's recovery path: after delete_state, a left-over fact and an
    action never completed are gone, and the next fact starts a fresh state."""
    fact = json.dumps({"sid": "0", "id": 5, "t": "x", "n": 1})
    status, state = dre.assert_fact(handle, fact)
    assert dre.start_action_for_state(handle, state)  # started, never completed
    dre.delete_state(handle, "0")
    with pytest.raises(dre.error):
        dre.get_facts(handle, "0")  # the state is gone
    status, state = dre.assert_fact(handle, fact)  # same content is accepted again
    assert status == 0
    assert sorted(json.loads(dre.start_action_for_state(handle, state)[1])) in (["a"], ["b"])


def test_matcher_returns_all_names_and_keeps_no_facts():
    matcher = Matcher("contract", {"low": {"$lte": {"n": 6}}, "high": {"$gt": {"n": 6}}, "any": {"$gte": {"n": 0}}})
    assert sorted(matcher.match({"n": 6})) == ["any", "low"]
    assert sorted(matcher.match({"n": 6})) == ["any", "low"]  # identical facts twice: both decided
    assert matcher.match({"n": -1}) == ["low"]
    assert matcher.match({"other": 1}) == []  # a missing field matches nothing; it does not raise
    assert json.loads(dre.get_facts(matcher._handle, "0")) == []


def test_two_matchers_with_one_label_do_not_clash():
    a = Matcher("same", {"r": {"t": "x"}})
    b = Matcher("same", {"r": {"t": "y"}})
    assert a.name != b.name
    assert a.match({"t": "x"}) == ["r"] and b.match({"t": "x"}) == []


def test_a_name_whose_or_holds_twice_is_returned_once():
    """durable fires a rule once per `$or` alternative the fact meets (raw C
    engine below); the Matcher returns each name once, or a decision would
    repeat the same finding."""
    conditions = {"either": {"$or": [{"a": 1}, {"b": 1}]}}
    handle = dre.create_ruleset("contract.or", json.dumps({"either": {"all": [{"m": conditions["either"]}]}}))
    status, state = dre.assert_fact(handle, json.dumps({"sid": "0", "id": 1, "a": 1, "b": 1}))
    fired = 0
    started = dre.start_action_for_state(handle, state)
    message = started[1] if started else None
    while message:
        fired += 1
        message = dre.complete_and_start_action(handle, state)
    assert fired == 2
    dre.delete_ruleset(handle)
    assert Matcher("contract", conditions).match({"a": 1, "b": 1}) == ["either"]
