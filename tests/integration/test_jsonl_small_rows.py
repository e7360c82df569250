"""A batch row whose JSON line is too small to break any input limit skips the
walk over its value (jsonl.parse_row); that shortcut must never pass a row
the walk would refuse, nor read a row differently."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mtus_rules.integration.jsonl import parse_line, parse_row
from mtus_rules.yamlio import InputLimits, check_data

from ..helpers import EXAMPLES

LIMITS = InputLimits(max_depth=4, max_values=60, max_string=60, max_int_digits=5)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**7), max_value=10**7),  # around the 5-digit limit
    st.text(alphabet=st.sampled_from(["a", "é", "\ud800", "\udfff", "\\", "1"]), max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(alphabet=st.sampled_from(["k", "\udc00", "9"]), max_size=8), inner, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(values, st.booleans())
def test_a_row_taken_as_within_the_limits_is_within_them(value, ascii_only):
    line = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    data, checked = parse_row(7, line, LIMITS)
    plain = parse_line(7, line, LIMITS)
    assert data == plain or (data != data and plain != plain)  # read the same either way
    if checked:
        assert check_data(data, LIMITS) == []


def test_real_rows_take_the_shortcut_and_limits_still_bite():
    rows = (EXAMPLES / "history" / "generated-cases.jsonl").read_bytes().splitlines()[:200]
    assert all(parse_row(n, line)[1] for n, line in enumerate(rows, 1))
    for bad in (b'{"a": "\\ud800"}', b'{"a": 123456}', b'[[[[[1]]]]]', b'{"a": "' + b"x" * 61 + b'"}'):
        assert not parse_row(1, bad, LIMITS)[1], bad
