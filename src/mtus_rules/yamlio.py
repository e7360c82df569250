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

Input limits (`InputLimits`) are applied while reading, so a hostile file is
refused before it costs much time or memory. Each one, when exceeded, is a
clean error naming the limit, the file and the line:

- `max_bytes` (default 1 MiB): the size of a case file, or of one JSON Lines
  row; checked before the file is read.
- `max_depth` (default 32): how deeply lists and mappings may nest (a case
  needs 4); checked while the document is composed, and again after aliases
  are expanded.
- `max_values` (default 100,000): values in one document, aliases expanded
  (so a small file cannot expand into a huge one).
- `max_string` (default 20,000 characters): the length of any text value or key.
- `max_int_digits` (default 40): the digits of any integer (no field takes more
  than 4; Python itself refuses to convert past 4,300).

Data given to the API as Python objects is held to the same limits by
`check_data` (which `case.parse_case` runs), and also has to be valid Unicode:
a lone surrogate such as "\\udfff" cannot be written as UTF-8, so it is refused
where it stands rather than failing when the decision is printed. The defaults
are in `DEFAULT_LIMITS`; pass another `InputLimits` to `case.load_case`,
`case.parse_case` or `parse` to change them.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import MtusRulesError, Problem, dotted, problems_from_validation, shown_key

class Lines(dict[tuple, int]):
    """The 1-based line of each value of a document, by its path; `columns`
    holds the 1-based column of each (of the key, for a mapping's value), so
    an error can point at the exact place (a tab, a misspelt key)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.columns: dict[tuple, int] = {}


_M = TypeVar("_M", bound=BaseModel)


class InputLimits(BaseModel):
    """How much one input may hold; see the module docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_bytes: int = Field(default=1 << 20, ge=1)
    max_depth: int = Field(default=32, ge=1, le=500)
    max_values: int = Field(default=100_000, ge=1)
    max_string: int = Field(default=20_000, ge=1)
    max_int_digits: int = Field(default=40, ge=1, le=4300)


DEFAULT_LIMITS = InputLimits()
#: Kept for callers of the old constant.
MAX_VALUES = DEFAULT_LIMITS.max_values


class _Loader(yaml.SafeLoader):
    """SafeLoader that counts depth and values as it composes, so a deep or
    huge document stops early instead of filling memory or the stack."""

    limits: InputLimits = DEFAULT_LIMITS
    filename: str = ""
    _depth = 0
    _nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        self._nodes += 1
        if self._nodes > self.limits.max_values:
            raise ParseError(_limit(self.filename, line, f"more than {self.limits.max_values:,} values", "max_values"))
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            self._depth += 1
            try:
                if self._depth > self.limits.max_depth:
                    raise ParseError(
                        _limit(self.filename, line, f"nested more than {self.limits.max_depth} levels deep", "max_depth")
                    )
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > self.limits.max_string:
            raise ParseError(
                _limit(self.filename, line, f"a value longer than {self.limits.max_string:,} characters", "max_string")
            )
        return super().compose_node(parent, index)


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


def _limit(file: str | None, line: int | None, what: str, name: str) -> Problem:
    return Problem(file=file, line=line, message=f"{what}; refusing to read further (input limit {name})")


def read_text(path: Path, limits: InputLimits = DEFAULT_LIMITS) -> str:
    try:
        with open(path, "rb") as stream:
            return read_stream(stream, str(path), limits)
    except FileNotFoundError:
        raise ParseError(Problem(file=str(path), message="file not found")) from None
    except OSError as exc:
        raise ParseError(Problem(file=str(path), message=exc.strerror or str(exc))) from None


def read_stream(stream: IO[bytes], name: str, limits: InputLimits = DEFAULT_LIMITS) -> str:
    """The text of a byte stream (a file, standard input) named `name` in errors,
    refused past `limits.max_bytes` without reading it all."""
    try:
        raw = stream.read(limits.max_bytes + 1)  # one byte past the limit is enough to refuse
    except OSError as exc:
        raise ParseError(Problem(file=name, message=exc.strerror or str(exc))) from None
    if len(raw) > limits.max_bytes:
        raise ParseError(_limit(name, None, f"larger than {limits.max_bytes:,} bytes", "max_bytes"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(Problem(file=name, line=raw.count(b"\n", 0, exc.start) + 1, message=f"not UTF-8 text ({exc.reason})")) from None


def read_file(path: Path, limits: InputLimits = DEFAULT_LIMITS) -> tuple[Any, Lines]:
    """A YAML or JSON file's data and the line of each value, held to `limits`
    while it is read: the one way the package reads a file (cases, packs, code
    tables, rule tests). Raises ParseError naming the file and line."""
    return parse(read_text(path, limits), str(path), limits)


def read_model(path: Path, model: type[_M], error: type[MtusRulesError]) -> tuple[_M, Lines]:
    """A file read (`read_file`) and validated as `model` (an empty file as an
    empty mapping), or `error` listing every problem with its file, line and
    column (a misspelt key with the known key it is closest to)."""
    try:
        data, lines = read_file(path)
    except ParseError as exc:
        raise error([exc.problem]) from None
    try:
        return model.model_validate(data if data is not None else {}), lines
    except ValidationError as exc:
        raise error(problems_from_validation(exc, file=str(path), lines=lines, columns=lines.columns, model=model)) from None


def _json_int(limits: InputLimits) -> Any:
    def parse_int(text: str) -> int:
        if len(text.lstrip("-")) > limits.max_int_digits:
            raise _TooLong(text)
        return int(text)

    return parse_int


class _TooLong(Exception):
    pass


def parse(text: str, filename: str, limits: InputLimits = DEFAULT_LIMITS) -> tuple[Any, Lines]:
    """Parse YAML (or JSON, which YAML reads too) into plain data plus a map
    from each value's path to its 1-based line."""
    if filename.endswith(".json"):
        try:
            json.loads(text, parse_int=_json_int(limits))  # JSON's own syntax errors are clearer for JSON files
        except json.JSONDecodeError as exc:
            raise ParseError(
                Problem(file=filename, line=exc.lineno, message=f"invalid JSON: {exc.msg} (column {exc.colno})")
            ) from None
        except (_TooLong, RecursionError):
            pass  # the YAML reader below finds it again, with its line
    loader = None
    try:
        loader = _Loader(text)
        loader.limits, loader.filename = limits, filename
        node = loader.get_single_node()
        lines = Lines()
        data = _build(loader, node, (), lines, filename) if node is not None else None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        raise ParseError(
            Problem(file=filename, line=line, message=f"invalid YAML: control character U+{exc.character:04X} is not allowed")
            if isinstance(exc.character, int)
            else Problem(file=filename, line=line, message=f"invalid YAML: {exc.reason}")
        ) from None
    except yaml.MarkedYAMLError as exc:
        line, column = _error_place(exc, text)
        raise ParseError(
            Problem(file=filename, line=line, column=column, message=f"invalid YAML: {exc.problem or exc.context}")
        ) from None
    except yaml.YAMLError as exc:
        raise ParseError(Problem(file=filename, message=f"invalid YAML: {type(exc).__name__}")) from None
    except RecursionError:
        # Only reachable with limits above what the interpreter's stack allows.
        raise ParseError(_limit(filename, None, "nested too deeply to read", "max_depth")) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines


def _error_place(exc: yaml.MarkedYAMLError, text: str) -> tuple[int | None, int | None]:
    """The 1-based line and column of a YAML syntax error."""
    # An unclosed bracket or quote is noticed only at the end of the file; the
    # line that opened it is the one to point at.
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return None, None
    last_line = text.count("\n") - (1 if text.endswith("\n") else 0)
    if exc.problem_mark is not None and exc.problem_mark.line > last_line and exc.context_mark is not None:
        mark = exc.context_mark
    if mark.line > last_line:  # past the end: the last line, no column
        return last_line + 1, None
    return mark.line + 1, mark.column + 1


_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_INT = "tag:yaml.org,2002:int"
_SCALARS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "null", "bool")}


def _scalar(loader: _Loader, node: yaml.Node, path: tuple, filename: str) -> Any:
    line = node.start_mark.line + 1
    if node.tag == _INT and isinstance(node.value, str):
        digits = sum(c.isalnum() for c in node.value)
        if digits > loader.limits.max_int_digits:
            raise ParseError(
                Problem(
                    file=filename, line=line, location=dotted(path),
                    message=f"an integer longer than {loader.limits.max_int_digits} digits; refusing to read it "
                    "(input limit max_int_digits)",
                )
            )
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError):
        raise ParseError(Problem(file=filename, line=line, location=dotted(path), message="invalid YAML: a value that cannot be read")) from None


def _build(
    loader: _Loader, node: yaml.Node, path: tuple, lines: Lines, filename: str, active: frozenset[int] = frozenset()
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    lines.columns.setdefault(path, node.start_mark.column + 1)
    line = node.start_mark.line + 1
    limits = loader.limits
    if len(lines) > limits.max_values:  # aliases can multiply a small file into a huge one
        raise ParseError(_limit(filename, line, f"more than {limits.max_values:,} values", "max_values"))
    if len(path) > limits.max_depth:  # aliases inside aliases can nest deeper than the text does
        raise ParseError(_limit(filename, line, f"nested more than {limits.max_depth} levels deep", "max_depth"))
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
            key = _scalar(loader, key_node, path, filename) if isinstance(key_node, yaml.ScalarNode) else None
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
                        message=f"key '{shown_key(key)}' appears twice in the same mapping",
                    )
                )
            # A field's line is the line of its key, where a reader looks for it.
            lines[path + (key,)] = key_node.start_mark.line + 1
            lines.columns[path + (key,)] = key_node.start_mark.column + 1
            out[key] = _build(loader, value_node, path + (key,), lines, filename, active)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, child, path + (i,), lines, filename, active) for i, child in enumerate(node.value)]
    return _scalar(loader, node, path, filename)


_SURROGATE = re.compile("[\ud800-\udfff]")


_PLAIN_SCALARS = frozenset({type(None), bool, float, _dt.date, _dt.datetime})


def _within_limits(data: Any, limits: InputLimits) -> bool:
    """True when `check_data` would find nothing: the common case, checked without
    building a path for every value (it was the largest cost of reading a batch row).
    Conservative: any doubt (an integer near the digit limit, a structure at the depth
    limit, one that contains itself) answers False, and the full walk words the problem."""
    max_bits = int(limits.max_int_digits * 3.3219280948873626) + 1 - 4  # under this, never too many digits
    max_depth, max_string, surrogate = limits.max_depth, limits.max_string, _SURROGATE.search
    remaining = limits.max_values

    def clean(value: Any, depth: int) -> bool:
        nonlocal remaining
        remaining -= 1
        if remaining < 0:
            return False
        kind = type(value)
        if kind is str:
            return len(value) <= max_string and surrogate(value) is None
        if kind is int:
            return value.bit_length() <= max_bits
        if kind in _PLAIN_SCALARS:
            return True
        if kind is dict or isinstance(value, Mapping):
            if depth >= max_depth:
                return False
            for key, child in value.items():
                if type(key) is str and (len(key) > max_string or surrogate(key) is not None):
                    return False
                if not clean(child, depth + 1):
                    return False
            return True
        if kind is list or isinstance(value, (list, tuple)):
            if depth >= max_depth:
                return False
            for child in value:
                if not clean(child, depth + 1):
                    return False
            return True
        if isinstance(value, str):  # a str subclass
            return len(value) <= max_string and surrogate(value) is None
        if isinstance(value, int) and not isinstance(value, bool):
            return abs(value).bit_length() <= max_bits
        return True

    return clean(data, 0)


def check_data(
    data: Any, limits: InputLimits = DEFAULT_LIMITS, *, file: str | None = None, lines: Mapping[tuple, int] | None = None
) -> list[Problem]:
    """The limit problems of plain data (dicts, lists, scalars) given to the API,
    plus any text that is not valid Unicode (a lone surrogate). Walks without
    recursion, so a structure nested thousands deep (or one that contains
    itself) is reported, not a RecursionError. Stops at the first limit it meets."""
    if _within_limits(data, limits):
        return []
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple]] = [(data, ())]
    count = 0
    max_bits = int(limits.max_int_digits * 3.3219280948873626) + 1  # digits -> bits, rounded up

    def problem(path: tuple, message: str) -> Problem:
        line = None
        if lines:
            for n in range(len(path), -1, -1):
                line = lines.get(path[:n])
                if line is not None:
                    break
        return Problem(file=file, line=line, location=dotted(path), message=message)

    def text(value: str, path: tuple) -> bool:
        if len(value) > limits.max_string:
            problems.append(problem(path, f"text longer than {limits.max_string:,} characters (input limit max_string)"))
            return False
        found = _SURROGATE.search(value)
        if found:
            problems.append(
                problem(path, f"not valid Unicode text: a lone surrogate U+{ord(found.group()):04X} at character {found.start() + 1}")
            )
        return True

    while stack:
        value, path = stack.pop()
        count += 1
        if count > limits.max_values:
            problems.append(problem(path, f"more than {limits.max_values:,} values (input limit max_values)"))
            break
        if isinstance(value, str):
            if not text(value, path):
                break
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value).bit_length() > max_bits or len(str(abs(value))) > limits.max_int_digits:
                problems.append(
                    problem(path, f"an integer longer than {limits.max_int_digits} digits (input limit max_int_digits)")
                )
        elif isinstance(value, (Mapping, list, tuple)):
            if len(path) >= limits.max_depth:
                problems.append(problem(path, f"nested more than {limits.max_depth} levels deep (input limit max_depth)"))
                break
            if isinstance(value, Mapping):
                children = []
                for key, child in value.items():
                    if isinstance(key, str) and not text(key, path):
                        return problems
                    children.append((child, path + (key if isinstance(key, (str, int)) else "?",)))
            else:
                children = [(child, path + (i,)) for i, child in enumerate(value)]
            if count + len(children) > limits.max_values:
                problems.append(problem(path, f"more than {limits.max_values:,} values (input limit max_values)"))
                break
            stack.extend(reversed(children))
    return problems
