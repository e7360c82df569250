"""Errors cross process boundaries whole: a worker of `batch --workers`, of the
Dask runner or of a user's own pool sends them back by pickling."""

from __future__ import annotations

import pickle

import pytest

from mtus_rules.errors import (
    AmbiguousCodeError,
    CaseError,
    InvalidCodeError,
    MtusRulesError,
    Problem,
    QuantityError,
    RulePackError,
)
from mtus_rules.vocabulary import Treatment

ERRORS = [
    CaseError([Problem(location="requested_items[0].treatment", message="not a treatment"),
               Problem(file="a.yaml", line=3, column=5, message="bad")]),
    RulePackError([Problem(file="massage.yaml", line=7, message="unknown fact 'efect'")]),
    InvalidCodeError("99999", "procedure code 99999 does not exist"),
    AmbiguousCodeError("97140", [Treatment.MANIPULATION, Treatment.MASSAGE], "manual therapy"),
    QuantityError("lots", "no number", label="requested_items[1].quantity"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_an_error_survives_pickling_with_its_problems_and_message(error: MtusRulesError):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert copy.problems == error.problems
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__
