"""Every example case and every generated case decides exactly as recorded in
tests/fixtures/golden/decisions.json (see tests/golden.py for how to re-record
after an intended change of the rule pack)."""

from __future__ import annotations

import json

import pytest

from mtus_rules import Engine, load_case

from . import golden

RECORDED = json.loads(golden.RECORDED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=[4096, 0], ids=["memo", "no-memo"])
def engine(request):
    return Engine(cache_size=request.param)


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
