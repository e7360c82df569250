"""`case_from_json` reads a batch row's case straight from its JSON. It may only
ever agree with `parse_case` over the parsed value, or step aside (None): a
valid case gives the same Case, anything else leaves the wording of its
problems to parse_case."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from mtus_rules._strategies import case_dicts
from mtus_rules.case.reading import case_from_json, parse_case
from mtus_rules.errors import CaseError
from mtus_rules.yamlio import read_file

from ..helpers import EXAMPLES

# Values JSON can carry that a case's fields might get by mistake.
wrong = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-5, max_value=2000), st.floats(allow_nan=False),
    st.sampled_from(["", "not_documented", "not_specified", "2015-02-30", "2015-01-01T00:00:00", "lumbar", "1e3"]),
    st.lists(st.sampled_from(["lumbar", "cervical", 3, None]), max_size=3), st.just({}), st.just({"visits": 6}),
)


def _both(data: Any) -> tuple[Any, Any]:
    text = json.dumps(data).encode()
    try:
        expected: Any = parse_case(json.loads(text))
    except CaseError:
        expected = None
    return case_from_json(text), expected


def _agree(data: Any) -> None:
    fast, expected = _both(data)
    if fast is not None:
        assert fast == expected
        assert fast.model_dump_json() == expected.model_dump_json()


@pytest.mark.once  # pydantic against json and pydantic: the same on every Python and matcher
@settings(max_examples=25, deadline=None)
@given(case_dicts())
def test_a_valid_case_reads_the_same(data):
    fast, expected = _both(data)
    assert expected is not None and fast == expected


@pytest.mark.once
@settings(max_examples=120, deadline=None)
@given(case_dicts(), st.data())
def test_a_wrong_value_anywhere_is_never_read_differently(data, draw):
    # Put a wrong value at a path the case has: the fast read either gives
    # what parse_case gives or steps aside, never a case parse_case refuses.
    target: Any = data
    path = draw.draw(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=4))
    for step in path[:-1]:
        keys = list(target) if isinstance(target, dict) else list(range(len(target))) if isinstance(target, list) else []
        if not keys or not isinstance(target[keys[step % len(keys)]], (dict, list)):
            break
        target = target[keys[step % len(keys)]]
    keys = list(target) if isinstance(target, dict) else list(range(len(target)))
    if keys:
        target[keys[path[-1] % len(keys)]] = draw.draw(wrong)
    _agree(data)


@pytest.mark.parametrize(
    "text",
    [
        b"[1, 2]",
        b'"a case"',
        b"{}",
        b'{"request_date": "2015-01-01"}',
        b"{not json",
        b'{"case_id": "a", "case_id": "b"}',
    ],
)
def test_what_is_not_a_case_steps_aside(text):
    assert case_from_json(text) is None


def test_an_rfa_case_is_left_to_parse_case():
    data, _ = read_file(EXAMPLES / "rfa" / "seed-001-rfa.yaml")
    text = json.dumps(data, default=str).encode()
    assert case_from_json(text) is None
    assert parse_case(json.loads(text)).requested_items[0].rfa is not None


def test_every_example_row_reads_the_same():
    rows = (EXAMPLES / "history" / "generated-cases.jsonl").read_bytes().splitlines()
    for line in rows[:500]:
        fast, expected = case_from_json(line), parse_case(json.loads(line))
        assert fast == expected
