"""Decisions the engine builds without validating (explanation.decision.assembled,
and whatever else is made without a validation pass) are the very models
validation makes from the same data.

Over the example cases and the recorded generated cases, with the memo on and
off and with the what-if search, every model in a decision (the decision, its
items, findings, rationales, what-ifs) must equal the one `model_validate`
makes from its dump, field for field, with the same JSON, and be made again
from the fields it says were set: a model assembled with a value validation would have changed (a text
where a member belongs, a list where a tuple belongs) fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from mtus_rules import Engine, load_case

from .. import golden


def _models(model: BaseModel) -> list[BaseModel]:
    """`model` and every model inside it, depth first."""
    found = [model]
    for name in type(model).model_fields:
        value = getattr(model, name)
        for part in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(part, BaseModel):
                found += _models(part)
    return found


def _cases() -> list[Any]:
    cases = [load_case(path) for path in golden.example_files()]
    return cases + [row for _, row in golden.generated_rows()[::7]]


@pytest.mark.parametrize("cache_size", [4096, 0], ids=["memo", "no-memo"])
def test_every_model_in_a_decision_is_what_validation_makes(cache_size: int) -> None:
    engine = Engine(cache_size=cache_size)
    checked: set[str] = set()
    for case in _cases():
        for what_if in (False, True):
            decision = engine.evaluate(case, what_if=what_if)
            for made in _models(decision):
                validated = type(made).model_validate(made.model_dump())
                assert made == validated, type(made).__name__
                # The fields it says were given are enough to make it again.
                assert type(made).model_validate(made.model_dump(exclude_unset=True)) == made, type(made).__name__
                assert made.model_dump_json() == validated.model_dump_json()
                for name in type(made).model_fields:
                    # The same kind of value as validation leaves (a member, not its text).
                    assert type(getattr(made, name)) is type(getattr(validated, name)), (type(made).__name__, name)
                checked.add(type(made).__name__)
    assert {"Decision", "ItemDecision", "Finding", "Rationale", "WhatIf", "CitedSource"} <= checked
