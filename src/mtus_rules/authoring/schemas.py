"""JSON Schemas of the files a rule author writes: pack.yaml, rule files and
rule-test files, generated from the models that read them (so they cannot
drift from what the loader accepts). `mtus-rules schema pack|rule-file|rule-test`
prints them; docs/schema/ holds them for editors, which find one through the
`$schema` line a file may start with, e.g.

    $schema: ../../docs/schema/rule-file.schema.json

What a schema cannot say (a rule id that exists in the base, a fact's
operators, placeholders) the loader still checks and `mtus-rules lint` reports.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..packs.model import PackHeader, RuleFile
from .ruletests import RuleTestFile

_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: Schema name (as `mtus-rules schema` takes it) -> model and what it describes.
FILES: dict[str, tuple[type[BaseModel], str]] = {
    "pack": (PackHeader, "A rule pack's pack.yaml: name, version, period, and for an overlay what it extends and changes."),
    "rule-file": (RuleFile, "A rule file of a pack: a mapping with a `rules:` list."),
    "rule-test": (RuleTestFile, "A file of YAML rule tests in a pack's tests/ folder."),
}


def file_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of the author's file `name` (a key of FILES)."""
    model, description = FILES[name]
    schema = model.model_json_schema(by_alias=True)
    return {"$schema": _DIALECT, "title": f"mtus-rules {name} file", **schema, "description": description}
