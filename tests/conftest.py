from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mtus_rules import Engine

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine()


BASE_CASE: dict[str, Any] = {
    "date_of_injury": "2013-01-10",
    "request_date": "2014-03-01",
    "diagnoses": [{"description": "Lumbar sprain", "body_regions": ["lumbar"], "group": "sprain_strain"}],
    "treatment_history": [],
    "care_stage": "first_evaluation",
    "requested_items": [],
}


def make_case(item: dict[str, Any], history: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    """A valid case dict with one requested item; everything else overridable."""
    case = copy.deepcopy(BASE_CASE)
    case["requested_items"] = [item]
    if history is not None:
        case["treatment_history"] = history
    case.update(fields)
    return case


def outcome(engine: Engine, case: dict[str, Any], index: int = 0) -> str:
    return engine.evaluate(case).items[index].outcome.value


def kinds(engine: Engine, case: dict[str, Any], rule: str | None = None) -> set[str]:
    item = engine.evaluate(case).items[0]
    return {f.kind for f in item.findings if rule is None or f.rule == rule}
