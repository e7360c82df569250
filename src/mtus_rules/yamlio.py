"""Safe YAML/JSON reading that remembers the line of every value.

Only PyYAML's SafeLoader is used, so a file can never construct Python objects.
Changes from plain `yaml.safe_load`, all to stop silent guesses:
- `yes`, `no`, `on`, `off` stay strings ("functional_improvement: no" means the
  answer "no", not the boolean False); only `true`/`false` are booleans.
- Dates stay text: the models parse them and name the field when one is wrong
  (PyYAML would raise a bare ValueError for 2013-02-30).
- A key given twice in one mapping is an error instead of "last one wins".
- Any explicit tag other than the plain YAML ones is refused, and so is an
  alias that contains itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, dotted

Lines = dict[tuple, int]


class _Loader(yaml.SafeLoader):
    pass


# Rebuild the implicit resolvers without YAML 1.1's yes/no/on/off booleans.
_DROPPED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class ParseError(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParseError(Problem(file=str(path), message="file not found")) from None
    except UnicodeDecodeError as exc:
        raise ParseError(Problem(file=str(path), message=f"not UTF-8 text ({exc.reason})")) from None
    except OSError as exc:
        raise ParseError(Problem(file=str(path), message=exc.strerror or str(exc))) from None


def parse(text: str, filename: str) -> tuple[Any, Lines]:
    """Parse YAML (or JSON, which YAML reads too) into plain data plus a map
    from each value's path to its 1-based line."""
    if filename.endswith(".json"):
        try:
            json.loads(text)  # JSON's own syntax errors are clearer for JSON files
        except json.JSONDecodeError as exc:
            raise ParseError(
                Problem(file=filename, line=exc.lineno, message=f"invalid JSON: {exc.msg} (column {exc.colno})")
            ) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: Lines = {}
        data = _build(loader, node, (), lines, filename) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise ParseError(
            Problem(file=filename, line=_error_line(exc, text), message=f"invalid YAML: {exc.problem or exc.context}")
        ) from None
    except yaml.YAMLError as exc:
        raise ParseError(Problem(file=filename, message=f"invalid YAML: {exc}")) from None
    finally:
        loader.dispose()
    return data, lines


MAX_VALUES = 100_000
def _error_line(exc: yaml.MarkedYAMLError, text: str) -> int | None:
    # An unclosed bracket or quote is noticed only at the end of the file; the
    # line that opened it is the one to point at.
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return None
    last_line = text.count("\n") - (1 if text.endswith("\n") else 0)
    if exc.problem_mark is not None and exc.problem_mark.line > last_line and exc.context_mark is not None:
        mark = exc.context_mark
    return min(mark.line, last_line) + 1


_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SCALARS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "null", "bool")}


def _build(
    loader: _Loader, node: yaml.Node, path: tuple, lines: Lines, filename: str, active: frozenset[int] = frozenset()
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    line = node.start_mark.line + 1
    if len(lines) > MAX_VALUES:  # aliases can multiply a small file into a huge one
        raise ParseError(Problem(file=filename, line=line, message=f"more than {MAX_VALUES} values; refusing to read further"))
    if id(node) in active:
        raise ParseError(Problem(file=filename, line=line, location=dotted(path), message="an alias refers to itself"))
    active = active | {id(node)}
    expected = _MAP if isinstance(node, yaml.MappingNode) else _SEQ if isinstance(node, yaml.SequenceNode) else None
    if (expected and node.tag != expected) or (expected is None and node.tag not in _SCALARS):
        raise ParseError(
            Problem(file=filename, line=line, location=dotted(path), message=f"invalid YAML: the tag {node.tag!r} is not allowed")
        )
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                raise ParseError(
                    Problem(file=filename, line=key_node.start_mark.line + 1, message="mapping keys must be plain text")
                )
            if key in out:
                raise ParseError(
                    Problem(
                        file=filename,
                        line=key_node.start_mark.line + 1,
                        location=dotted(path + (key,)),
                        message=f"key '{key}' appears twice in the same mapping",
                    )
                )
            # A field's line is the line of its key, where a reader looks for it.
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _build(loader, value_node, path + (key,), lines, filename, active)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, child, path + (i,), lines, filename, active) for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)

