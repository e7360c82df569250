"""The decision contract: one decision shape, and the envelopes that carry it.

A decision is the same JSON wherever it comes from: `Decision` (with its
`format_version`) as `Engine.evaluate` returns it, dumped with
`model_dump(mode="json")`. What a channel adds about where the decision came
from (the case file, the input row, the decision log's id) goes beside the
decision, in an envelope, never inside it:

==========================================  ======================================
output                                      shape
==========================================  ======================================
`evaluate --format json`                    a JSON array of `FileDecision`
`explain --format json`                     a JSON array of `FileTrace`
`batch` and `POST /decisions/batch`         JSON Lines, one `BatchRow` per input row
`POST /decisions`                           `DecisionResponse`
==========================================  ======================================

`mtus-rules schema NAME` prints each one's JSON Schema, generated from these
models (`output_json_schema`); tests/test_contract.py checks real output of
every command and endpoint against it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, Field, TypeAdapter

from .._model import FrozenModel
from ..case.reading import case_json_schema
from ..errors import Problem
from ..explanation.decision import Decision
from ..explanation.trace import Trace


class FileDecision(FrozenModel):
    """One element of `evaluate --format json`: a case file and its decision."""

    file: str = Field(description="The case file as named on the command line; '-' for standard input.")
    decision: Decision


class FileTrace(FrozenModel):
    """One element of `explain --format json`: a case file and its explain trace."""

    file: str = Field(description="The case file as named on the command line; '-' for standard input.")
    trace: Trace


class BatchRow(FrozenModel):
    """One line of a batch's output (`mtus-rules batch`, `POST /decisions/batch`):
    the row's decision, or the problems that stopped it; never both."""

    # Exactly one of the two is present: a reader tells a decided row by its key.
    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["decision"]}, {"required": ["problems"]}]})

    row: int = Field(description="The row's index among the input's rows (blank lines are not rows), from 0.")
    line: int = Field(description="The row's line in the input, from 1.")
    decision: Decision | None = Field(default=None, description="Present for a decided row.")
    decision_id: str | None = Field(
        default=None, description="The id of the decision's record in the server's decision log; only from the server, when it keeps one."
    )
    problems: list[Problem] | None = Field(default=None, description="Present for a row that was not decided.")


class DecisionResponse(FrozenModel):
    """The answer of `POST /decisions`: the decision on one case."""

    decision: Decision
    decision_id: str | None = Field(
        default=None, description="The id of this decision's record in the decision log; present only when the server keeps one."
    )


def _schema(model: Any, title: str) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        schema = TypeAdapter(model).json_schema(mode="serialization")
        schema["title"] = title
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}

    return make


#: The outputs `mtus-rules schema NAME` describes: name -> (what it is, its schema).
OUTPUT_SCHEMAS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "decision": ("one decision, as the API, the command line, batch rows and the server give it", _schema(Decision, "Decision")),
    "evaluate": ("the output of `evaluate --format json`: an array of {file, decision}", _schema(list[FileDecision], "EvaluateOutput")),
    "explain": ("the output of `explain --format json`: an array of {file, trace}", _schema(list[FileTrace], "ExplainOutput")),
    "batch-row": (
        "one line of `batch` and of POST /decisions/batch: {row, line, decision} or {row, line, problems}",
        _schema(BatchRow, "BatchRow"),
    ),
    "decision-response": ("the answer of POST /decisions: {decision, decision_id}", _schema(DecisionResponse, "DecisionResponse")),
}


def output_json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of an output named in OUTPUT_SCHEMAS, or of the case (`"case"`)."""
    if name == "case":
        return case_json_schema()
    return OUTPUT_SCHEMAS[name][1]()
