"""The decision contract (issue 12 point 3): every decision any command emits
validates against the JSON Schema `mtus-rules schema` exports, and is the same
shape as the API's; the envelopes around it (evaluate's and explain's
`{file, ...}`, batch rows) validate against theirs. All example cases go
through every path; tests/server/test_contract_server.py does the endpoints.

The schemas are read from the command's output, as an integrator gets them."""

from __future__ import annotations

import contextlib
import functools
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mtus_rules import Engine, load_case
from mtus_rules.cli import main
from mtus_rules.integration.envelopes import OUTPUT_SCHEMAS
from mtus_rules.yamlio import InputLimits, parse

from .helpers import BASE_CASE, ROOT

EXAMPLE_FILES = sorted(ROOT.glob("examples/*.yaml")) + sorted(ROOT.glob("examples/rfa/*.yaml"))
# A request date no bundled pack covers: a decision with rule_pack null.
OUTSIDE_PACKS = {
    **BASE_CASE,
    "request_date": "2030-01-02",
    "requested_items": [{"description": "PT x8", "treatment": "physical_therapy", "quantity": {"visits": 8}}],
}


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str], status: int = 0) -> str:
    capsys.readouterr()
    assert main(argv) == status
    return capsys.readouterr().out


_SCHEMAS: dict[str, dict[str, Any]] = {}


def schema(name: str) -> dict[str, Any]:
    if name not in _SCHEMAS:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["schema", name]) == 0
        _SCHEMAS[name] = json.loads(out.getvalue())
    return _SCHEMAS[name]


@functools.cache
def _validator(name: str) -> Any:
    # The schema is checked against its meta-schema once, not per instance (that
    # check was most of the contract tests' time).
    validator_class = jsonschema.validators.validator_for(schema(name))
    validator_class.check_schema(schema(name))
    return validator_class(schema(name), format_checker=validator_class.FORMAT_CHECKER)


def check(instance: Any, name: str) -> None:
    """Validate `instance` against the exported schema `name`; the error names the path."""
    errors = sorted(_validator(name).iter_errors(instance), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def test_the_examples_are_all_here():
    assert len(EXAMPLE_FILES) >= 19 and any("rfa" in p.parts for p in EXAMPLE_FILES)


def test_every_exported_schema_is_a_valid_json_schema():
    for name in ("case", *OUTPUT_SCHEMAS):
        jsonschema.validators.validator_for(schema(name)).check_schema(schema(name))


def test_the_decision_schema_requires_its_version_and_every_key():
    decision = schema("decision")
    assert decision["properties"]["format_version"]["const"] == "1"
    assert {"format_version", "rule_pack", "backend", "items"} <= set(decision["required"])
    assert {"rfa", "what_if"} <= set(decision["$defs"]["ItemDecision"]["required"])


@pytest.mark.parametrize("what_if", [False, True], ids=["plain", "what-if"])
def test_api_decisions_validate(engine, what_if):
    for path in EXAMPLE_FILES:
        decision = engine.evaluate(load_case(path), what_if=what_if)
        check(decision.model_dump(mode="json"), "decision")
        check(json.loads(decision.model_dump_json()), "decision")
    check(engine.evaluate(OUTSIDE_PACKS, what_if=what_if).model_dump(mode="json"), "decision")


def test_a_decision_missing_its_version_or_with_the_file_inside_does_not_validate(engine):
    # The shapes before the contract: what the schema must refuse.
    decision = engine.evaluate(load_case(EXAMPLE_FILES[0])).model_dump(mode="json")
    with pytest.raises(AssertionError, match="format_version"):
        check({k: v for k, v in decision.items() if k != "format_version"}, "decision")
    with pytest.raises(AssertionError):
        check([{"file": "x.yaml", **decision}], "evaluate")
    with pytest.raises(AssertionError):
        check({"row": 0, "line": 1}, "batch-row")  # neither a decision nor problems


@pytest.mark.parametrize("what_if", [[], ["--no-what-if"]], ids=["what-if", "plain"])
def test_evaluate_json_validates_and_holds_the_api_decision(engine, capsys, monkeypatch, what_if):
    monkeypatch.chdir(ROOT)
    files = [str(p.relative_to(ROOT)) for p in EXAMPLE_FILES]
    out = json.loads(_cli(["evaluate", "--format", "json", *what_if, *files], capsys))
    check(out, "evaluate")
    assert [element["file"] for element in out] == files
    for path, element in zip(EXAMPLE_FILES, out, strict=True):
        check(element["decision"], "decision")
        expected = engine.evaluate(load_case(path), what_if=not what_if).model_dump(mode="json")
        assert element["decision"] == expected  # one shape: the CLI's decision is the API's


def test_evaluate_json_of_a_case_outside_every_pack_validates(tmp_path, capsys):
    case = tmp_path / "late.json"
    case.write_text(json.dumps(OUTSIDE_PACKS), encoding="utf-8")
    out = json.loads(_cli(["evaluate", "--format", "json", str(case)], capsys))
    check(out, "evaluate")
    assert out[0]["decision"]["rule_pack"] is None


def test_explain_json_validates(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    files = [str(p.relative_to(ROOT)) for p in EXAMPLE_FILES]
    out = json.loads(_cli(["explain", "--format", "json", *files], capsys))
    check(out, "explain")
    assert [element["file"] for element in out] == files and all("trace" in element for element in out)


def _batch_input(tmp_path: Path) -> Path:
    # Read as the library reads a case file (its YAML: `yes` is a word, not True).
    rows = [json.dumps(parse(p.read_text(encoding="utf-8"), str(p), InputLimits())[0], default=str) for p in EXAMPLE_FILES]
    rows += [json.dumps(OUTSIDE_PACKS), '{"request_date": "not a date"}', "[1, 2]", "{not json"]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("options", [[], ["--what-if"], ["--workers", "2"]], ids=["plain", "what-if", "workers"])
def test_batch_rows_validate_and_hold_the_api_decision(engine, tmp_path, capsys, options):
    out_path = tmp_path / "out.jsonl"
    _cli(["batch", str(_batch_input(tmp_path)), "-o", str(out_path), *options], capsys, status=2)
    rows = [json.loads(line) for line in out_path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(EXAMPLE_FILES) + 4
    for row in rows:
        check(row, "batch-row")
    decided = [row for row in rows if "decision" in row]
    assert [row["row"] for row in decided] == list(range(len(EXAMPLE_FILES) + 1))
    assert all("problems" in row and "decision" not in row for row in rows[len(decided):])
    for path, row in zip(EXAMPLE_FILES, decided, strict=False):
        check(row["decision"], "decision")
        assert row["decision"] == engine.evaluate(load_case(path), what_if="--what-if" in options).model_dump(mode="json")
