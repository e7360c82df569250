"""`check_data` answers the common case (nothing wrong) without walking paths; the
shortcut must never pass what the full walk would flag."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtus_rules import yamlio
from mtus_rules.yamlio import InputLimits, check_data

LIMITS = InputLimits(max_depth=4, max_values=40, max_string=12, max_int_digits=5)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.dates(),
    # integers around the 5-digit limit, both signs
    st.integers(min_value=-(10**7), max_value=10**7),
    # text around the length limit, with lone surrogates now and then
    st.text(alphabet=st.sampled_from(["a", "é", "\ud800", "\udfff", " "]), max_size=16),
)
data = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.tuples(inner, inner),
        st.dictionaries(st.text(alphabet=st.sampled_from(["k", "\ud83d", "x"]), max_size=14), inner, max_size=6),
    ),
    max_leaves=60,
)


def _full_walk(value: object) -> list:
    real = yamlio._within_limits
    yamlio._within_limits = lambda value, limits: False
    try:
        return check_data(value, LIMITS)
    finally:
        yamlio._within_limits = real


@pytest.mark.once  # a walk over plain data: the same on every Python and matcher
@settings(max_examples=400, deadline=None)
@given(data)
def test_the_shortcut_passes_only_what_the_full_walk_passes(value):
    full = _full_walk(value)
    assert check_data(value, LIMITS) == full
    if full:
        assert not yamlio._within_limits(value, LIMITS)


def test_the_shortcut_is_taken_for_a_clean_case_and_refused_at_each_limit():
    clean = {"case_id": "c1", "request_date": dt.date(2015, 1, 2), "items": [{"visits": 1234, "note": None}]}
    assert yamlio._within_limits(clean, LIMITS)
    for bad in (
        {"x": 123456},  # six digits
        {"x": "a" * 13},  # longer than max_string
        {"x": "\ud800"},  # a lone surrogate
        {"\ud800": 1},  # in a key
        [[[[[1]]]]],  # five levels
        list(range(41)),  # more values than max_values
    ):
        assert not yamlio._within_limits(bad, LIMITS), bad
        assert check_data(bad, LIMITS), bad
    # Five digits is within the limit, but near enough that the full walk decides it.
    assert not yamlio._within_limits({"x": 99999}, LIMITS)
    assert check_data({"x": 99999}, LIMITS) == []
    loop: list = []
    loop.append(loop)
    assert not yamlio._within_limits(loop, LIMITS)
    assert check_data(loop, LIMITS)
