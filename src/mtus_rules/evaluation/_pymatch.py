"""A pure-Python matcher: the same named conditions `_durable.Matcher` takes,
decided without durable_rules.

Why it exists: durable-rules is a C extension, unmaintained since 2020, that
does not import on Python 3.13 and needs a compiler to install. The conditions
compile.py builds use a small part of durable's condition language, so the
same conditions can be decided here with no native code, and a differential
test (tests/evaluation/test_matchers.py) holds the two backends equal on every treatment
of the bundled pack.

The language, as compile.py and conditions.py produce it:
- `{field: value}`: the fact's field equals the value;
- `{"$neq" | "$lt" | "$lte" | "$gt" | "$gte": {field: value}}`: a comparison;
- `{"$and": [...]}`, `{"$or": [...]}`: all of, any of.
A field the fact does not carry makes its test false, as in durable. Facts are
well typed (the engine sends choices as text, counts as numbers, flags as
booleans); durable also compares across types ("1" equals 1), which nothing
here relies on and this matcher does not imitate.

Each condition set is turned into one Python function by generating its
source: the values are validated literals written with `repr`, the field
names are checked identifiers, also written with `repr`, and the local
variables that hold the fields' values are named by number, so nothing from a
rule pack is ever run as code. A match is one dictionary lookup per field
and a comparison per test (no JSON, no lock, no native state to corrupt or
leak).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from typing import Any

_names = itertools.count(1)
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COMPARE = {"$neq": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
_MISSING = "_missing"


class ConditionError(ValueError):
    """A condition outside the language this matcher decides."""


def _literal(value: Any) -> str:
    # bool before int: True is an int. Only JSON scalars: they are what a
    # durable fact can carry, and their repr is a Python literal.
    if value is None or isinstance(value, (bool, str)):
        return repr(value)
    if isinstance(value, (int, float)) and value == value and value not in (float("inf"), float("-inf")):
        return repr(value)
    raise ConditionError(f"unsupported value {value!r} in a condition")


def _field(name: Any) -> str:
    if not isinstance(name, str) or not _FIELD.match(name):
        raise ConditionError(f"unsupported field name {name!r} in a condition")
    return name


def _expression(node: Any, fields: dict[str, str]) -> str:
    """Python source for one condition over the fact, each field read as the
    local variable `fields` names for it (a name is added for a field met the
    first time: `v<n>`, never the field's own text)."""
    if not isinstance(node, dict) or not node:
        raise ConditionError(f"a condition must be a non-empty mapping, got {node!r}")
    parts = []
    for key, value in node.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise ConditionError(f"{key} needs a non-empty list")
            joiner = " and " if key == "$and" else " or "
            parts.append("(" + joiner.join(_expression(child, fields) for child in value) + ")")
        elif key in _COMPARE:
            if not isinstance(value, dict) or len(value) != 1:
                raise ConditionError(f"{key} needs exactly one field")
            ((name, operand),) = value.items()
            parts.append(f"({_variable(name, fields)} {_COMPARE[key]} {_literal(operand)})")
        elif key.startswith("$"):
            raise ConditionError(f"unsupported operator {key}")
        else:
            parts.append(f"({_variable(key, fields)} == {_literal(value)})")
    return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"


def _variable(name: Any, fields: dict[str, str]) -> str:
    checked = _field(name)
    if checked not in fields:
        fields[checked] = f"v{len(fields)}"
    return fields[checked]


class _Missing:
    """A field the fact does not carry: every test on it is false, `!=` too, as in durable."""

    __slots__ = ()
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return False

    __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __eq__


def compile_conditions(conditions: Mapping[str, dict]) -> Callable[[Mapping[str, Any]], list[str]]:
    """One function returning, in the given order, the names whose condition holds.

    Each field is read from the fact once, at the top, and tested as a local
    variable: the same field is tested by many conditions."""
    fields: dict[str, str] = {}
    body = []
    names = list(conditions)
    for index, name in enumerate(names):
        body.append(f"    if {_expression(conditions[name], fields)}:")
        body.append(f"        out.append(_names[{index}])")
    reads = [f"    {variable} = f.get({field!r}, _missing)" for field, variable in fields.items()]
    lines = ["def match(f):", *reads, "    out = []", *body, "    return out"]
    scope: dict[str, Any] = {"_names": tuple(names), _MISSING: _Missing()}
    exec(compile("\n".join(lines), "<mtus_rules conditions>", "exec"), scope)  # noqa: S102 - literals only, see module doc
    return scope["match"]


class Matcher:
    """A compiled set of named conditions; `match(fact)` returns the names that hold.

    The interface of `_durable.Matcher`. Stateless, so safe from any number of
    threads, across fork, and after an interruption at any point."""

    def __init__(self, label: str, conditions: Mapping[str, dict]):
        self.name = f"mtus_rules.python.{next(_names)}.{label}"
        self._match = compile_conditions(conditions)

    def match(self, fact: Mapping[str, object]) -> list[str]:
        try:
            return self._match(fact)
        except TypeError as exc:
            # Only a fact whose field types differ from the conditions' gets here
            # (a count sent as text); the engine's fact builder never sends one.
            raise ConditionError(f"a fact field has the wrong type for its conditions: {exc}") from None
