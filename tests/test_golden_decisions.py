"""Every example case and every generated case decides exactly as recorded in
tests/fixtures/golden/decisions.json (see tests/golden.py for how to re-record
after an intended change of the rule pack), with the memo on and off, and with
every backend this interpreter can run (durable_rules and pure Python)."""

from __future__ import annotations

import json

import pytest

from mtus_rules import Engine, load_case
from mtus_rules.evaluation._backends import available

from . import golden

RECORDED = json.loads(golden.RECORDED.read_text(encoding="utf-8"))


@pytest.fixture(
    scope="module",
    params=[(size, backend) for backend in available() for size in (4096, 0)],
    ids=lambda p: f"{p[1]}-{'memo' if p[0] else 'no-memo'}",
)
def engine(request):
    size, backend = request.param
    return Engine(cache_size=size, backend=backend)


def test_every_decision_names_the_backend_that_decided(engine):
    decision = engine.evaluate(load_case(golden.example_files()[0]))
    assert decision.backend == engine.backend


def test_the_recording_covers_every_example_case():
    assert sorted(RECORDED["examples"]) == sorted(str(p.relative_to(golden.ROOT)) for p in golden.example_files())


@pytest.mark.parametrize("path", golden.example_files(), ids=lambda p: p.name)
def test_example_decisions_are_as_recorded(engine, path):
    decided = json.loads(golden.decision_json(engine, load_case(path)))
    assert decided == RECORDED["examples"][str(path.relative_to(golden.ROOT))]


def test_generated_decisions_are_as_recorded(engine):
    rows = golden.generated_rows()
    assert len(rows) == len(RECORDED["generated"])
    changed = [where for where, row in rows if golden.digest(golden.decision_json(engine, row)) != RECORDED["generated"][where]]
    assert not changed, f"{len(changed)} of {len(rows)} decisions changed, first: {changed[:5]}"
