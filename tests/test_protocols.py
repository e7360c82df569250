"""The engine's seams are protocols (mtus_rules.protocols), in the manner of
jsonschema's protocols and their typing test: each implementation is assigned
to its protocol type (a type checker checks these assignments) and checked
with isinstance at run time; the engine takes any recorder that satisfies the
protocol, and imports neither the batch runner nor the decision log."""

from __future__ import annotations

import io

import pytest

from mtus_rules import DecisionLog, Engine
from mtus_rules.evaluation._backends import available, factory
from mtus_rules.integration.batch import evaluate_many
from mtus_rules.protocols import BatchRunner, DecisionRecorder, Matcher

from .helpers import BASE_CASE

# Static: a type checker (mypy, pyright) rejects these if an implementation
# drifts from its protocol.
_recorder: DecisionRecorder = DecisionLog(io.StringIO())
_runner: BatchRunner = evaluate_many


def test_the_decision_log_is_a_decision_recorder():
    assert isinstance(DecisionLog(io.StringIO()), DecisionRecorder)


@pytest.mark.parametrize("backend", available())
def test_every_backend_makes_a_matcher(backend):
    matcher = factory(backend)("protocol-test", {"r#applies": {"treatment": "massage"}})
    assert isinstance(matcher, Matcher)
    assert matcher.match({"treatment": "massage"}) == ["r#applies"]


def test_an_object_without_record_is_not_a_recorder():
    assert not isinstance(object(), DecisionRecorder)


def test_the_engine_records_through_any_recorder():
    class Recorder:
        def __init__(self) -> None:
            self.kept: list[tuple[str | None, str]] = []

        def record(self, case, decision) -> None:
            self.kept.append((case.case_id, decision.items[0].outcome.value))

    recorder = Recorder()
    assert isinstance(recorder, DecisionRecorder)
    case = {**BASE_CASE, "case_id": "seam", "requested_items": [{"description": "Massage x 6", "treatment": "massage"}]}
    decision = Engine(decision_log=recorder).evaluate(case)
    assert recorder.kept == [("seam", decision.items[0].outcome.value)]


def test_the_engine_imports_neither_the_batch_runner_nor_the_decision_log():
    grimp = pytest.importorskip("grimp", reason="import-linter is in the test extra")
    graph = grimp.build_graph("mtus_rules", exclude_type_checking_imports=True, cache_dir=None)
    imported = graph.find_modules_directly_imported_by("mtus_rules.engine")
    assert imported and not {m for m in imported if m.startswith("mtus_rules.integration")}
