"""Reading a case: a file (YAML or JSON) or plain data in, a validated Case
out, or a CaseError naming every problem with its file, line and field. A case
that gives RFA lines is read through the code tables (rfa.py). Also the JSON
Schema of both forms, for integrators."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import CaseError, Problem, problems_from_validation
from ..yamlio import DEFAULT_LIMITS, InputLimits, ParseError, check_data, parse, read_file, read_stream
from .model import Case
from .rfa import RfaCase, parse_rfa_case


def case_json_schema() -> dict[str, Any]:
    """JSON Schema of the case format (requested items, or RFA lines), for integrators."""
    from pydantic.json_schema import models_json_schema

    _, defs = models_json_schema([(Case, "validation"), (RfaCase, "validation")], ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mtus-rules case",
        "description": "A case gives its disputed items as requested_items, or as rfa_lines read through the code tables.",
        "anyOf": [{"$ref": "#/$defs/Case"}, {"$ref": "#/$defs/RfaCase"}],
        "$defs": defs["$defs"],
    }


def parse_case(
    data: Any,
    *,
    file: str | None = None,
    lines: dict | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    checked: bool = False,
) -> Case:
    """Validate plain data (a dict) into a Case, or raise CaseError with every problem.

    The data is first held to `limits` (see `yamlio`): nesting, number of values,
    text and integer length, and valid Unicode, so a hostile dict is a CaseError
    naming the limit, never a RecursionError or a value that fails on output.
    `checked` says the caller has already held it to them (a batch row whose
    JSON line is too small to break any: integration.jsonl.parse_row)."""
    if isinstance(data, Case):
        return data
    if not isinstance(data, dict):
        raise CaseError([Problem(file=file, line=1 if file else None, message="a case must be a mapping of fields")])
    problems = [] if checked else check_data(data, limits, file=file, lines=lines)
    if problems:
        raise CaseError(problems)
    if "rfa_lines" in data:
        return parse_rfa_case(data, file=file, lines=lines)
    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise CaseError(problems_from_validation(exc, file=file, lines=lines)) from None


def case_from_json(text: bytes) -> Case | None:
    """The case one JSON object gives, read by pydantic straight from its text,
    or None when that does not give a valid plain case (an RFA case, a problem
    of any kind): `parse_case` then reads the parsed value, and words every
    problem as for any other input. Only for text already held to the input
    limits (integration.jsonl.small_line): no walk checks them here. Parsing
    and validating in one step took three quarters of the time of the two."""
    if b'"rfa_lines"' in text:
        return None
    try:
        return Case.model_validate_json(text)
    except ValidationError:
        return None


#: The path that means standard input, as Unix tools read it; named this way in errors.
STDIN = "-"
STDIN_NAME = "<stdin>"


def load_case(path: str | Path, *, limits: InputLimits = DEFAULT_LIMITS) -> Case:
    """Read one case file (YAML or JSON), held to `limits` while it is read;
    `-` reads standard input."""
    stdin = str(path) == STDIN
    name = STDIN_NAME if stdin else str(path)
    try:
        if stdin:
            data, lines = parse(read_stream(sys.stdin.buffer, name, limits), name, limits)
        else:
            data, lines = read_file(Path(path), limits)
    except ParseError as exc:
        raise CaseError([exc.problem]) from None
    return parse_case(data, file=name, lines=lines, limits=limits)
