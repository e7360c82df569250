"""Errors a caller can act on: every problem names its file, line and field.

Every error the library raises on bad input is an `MtusRulesError`, which
carries its `problems` (each a `Problem`: file, line, location, message) and
is a ValueError:

    ValueError
     └── MtusRulesError                 bad input; .problems lists every problem
          ├── CaseError                 a case could not be read or is not valid
          ├── RulePackError             a rule pack could not be loaded (nothing of it is)
          ├── BackendError              the matcher asked for is unknown or cannot run here
          ├── CodeError                 a billing code could not be translated
          │    ├── InvalidCodeError     malformed, or not in its code set
          │    ├── UnmappedCodeError    valid, but the code tables do not map it
          │    └── AmbiguousCodeError   several treatments, and the wording picks none
          └── QuantityError             a free-text quantity is not exactly one quantity

    KeyedValueError (ValueError)        inside validation only: names the key at fault

Raised inside the library and turned into one of the above before a caller
sees them: yamlio.ParseError (-> CaseError / RulePackError),
evaluation._capacity.CapacityError (-> RulePackError), the matchers' own
ConditionError and EngineFailure. Not input errors: integration.jsonl.WriteError
(an OSError: output that could not be written), integration.PoolError (a
RuntimeError: worker processes could not start or kept dying) and
cli.Terminated (SIGTERM).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:  # the vocabulary sits beside this module in the base layer
    from .vocabulary import Treatment


class KeyedValueError(ValueError):
    """A validation error about one key inside the value being validated
    (e.g. one fact in a rule's `when` block); the location gets that key."""

    def __init__(self, key: str | tuple, message: str):
        self.key = key if isinstance(key, tuple) else (key,)
        super().__init__(message)


class Problem(BaseModel):
    """One thing wrong with an input: where it is and what was expected."""

    model_config = ConfigDict(frozen=True)

    file: str | None = None
    line: int | None = None
    location: str = ""
    message: str
    column: int | None = Field(default=None, description="1-based column of the problem on its line, when known.")

    def __str__(self) -> str:
        place = (self.file, self.line, self.column if self.line is not None else None)
        where = ":".join(str(p) for p in place if p is not None)
        parts = [p for p in (where, self.location) if p]
        return f"{': '.join(parts)}: {self.message}" if parts else self.message


class MtusRulesError(ValueError):
    """Base class for every error this library raises on bad input."""

    kind = "input"

    def __init__(self, problems: Sequence[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__(self._summary())

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle as `type(self)(*self.args)`, and `args` here is the summary
        # text: a process pool (ours, Dask) would rebuild the error from a string, one
        # "problem" per character. Rebuild it from its attributes instead.
        return (_restore, (type(self), self.__dict__.copy()))

    def _summary(self) -> str:
        n = len(self.problems)
        head = f"invalid {self.kind}: {n} problem{'s' if n != 1 else ''}"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


def _restore(cls: type[MtusRulesError], state: dict[str, Any]) -> MtusRulesError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    ValueError.__init__(error, error._summary())
    return error


class CaseError(MtusRulesError):
    """A case (treatment request) could not be read or is not valid."""

    kind = "case"


class RulePackError(MtusRulesError):
    """A rule pack could not be loaded; nothing from it was loaded."""

    kind = "rule pack"


class BackendError(MtusRulesError):
    """The matcher asked for (`backend=` or MTUS_RULES_BACKEND) is unknown or cannot run here."""

    kind = "backend"


# -- reading codes and quantities (case.codes, case.quantity) --------------------------

class CodeError(MtusRulesError):
    """A code could not be translated into the vocabulary."""

    kind = "code"

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__([Problem(location="code", message=message)])

    def _summary(self) -> str:
        return self.problems[0].message


class InvalidCodeError(CodeError):
    """The code is malformed, or does not exist in its code set."""


class UnmappedCodeError(CodeError):
    """The code is valid but the code tables do not map it."""


class AmbiguousCodeError(CodeError):
    """A procedure code stands for several treatments and the wording does not
    pick exactly one. `candidates` are the treatments the code can mean;
    `named` those the wording named (empty when it named none)."""

    def __init__(self, code: str, candidates: Sequence[Treatment], wording: str | None, named: Sequence[Treatment] = ()):
        self.candidates: tuple[Treatment, ...] = tuple(candidates)
        self.named: tuple[Treatment, ...] = tuple(named)
        self.wording = wording
        options = ", ".join(str(t) for t in self.candidates)
        if wording is None:
            why = "no wording was given to choose between them"
        elif named:
            why = f"the wording {wording!r} names more than one of them ({', '.join(str(t) for t in self.named)})"
        else:
            why = f"the wording {wording!r} names none of them"
        super().__init__(code, f"procedure code {code} may mean any of: {options}; {why}. Give the treatment explicitly.")


#: The quantity forms `parse_quantity` understands, quoted by its errors.
UNDERSTOOD = (
    "understood: a number of visits ('x 8', '8 visits', 'eight (8) sessions', '#8', 'qty 8') "
    "or a weekly frequency with a duration in weeks ('2x/week for 6 weeks', "
    "'2 times a week x 6 weeks', 'twice weekly for 4 weeks', '2x4' = 2 a week for 4 weeks)"
)
UNDERSTOOD_FIELDS = (
    "understood: frequency as times per week ('2x/week', 'twice a week'), "
    "duration in weeks ('6 weeks'), quantity as a number of visits ('12', '12 visits', 'x 12')"
)


class QuantityError(MtusRulesError):
    """A quantity text that cannot be read as exactly one quantity.

    `text` is the input as given, `reason` says what is wrong; the message
    quotes the text and lists the forms that are understood. A ValueError, as
    every MtusRulesError is, so code that caught it as one still does.
    """

    kind = "quantity"

    def __init__(self, text: object, reason: str, *, label: str = "quantity", shown: str | None = None,
                 understood: str = UNDERSTOOD):
        self.text = text
        self.reason = reason
        self.label = label
        message = f"cannot read {label} {shown if shown is not None else repr(text)}: {reason}; {understood}"
        super().__init__([Problem(location=label, message=message)])

    def _summary(self) -> str:
        return self.problems[0].message


# -- helpers that turn validation errors into problems -----------------------------------


def dotted(loc: Iterable[object]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = shown_key(part)
            out += f".{part}" if out else part
    return out


def shown_key(key: object) -> str:
    """A key of the input as an error message can show it: printable (control
    characters and lone surrogates escaped, so the message can be printed and
    cannot drive a terminal) and at most 40 characters."""
    text = str(key)
    if not text.isprintable():
        text = ascii(text)[1:-1]
    return text if len(text) <= 40 else text[:37] + "..."


def problems_from_validation(
    error: ValidationError,
    *,
    file: str | None = None,
    lines: Mapping[tuple, int] | None = None,
    prefix: tuple = (),
    columns: Mapping[tuple, int] | None = None,
    model: type[BaseModel] | None = None,
) -> list[Problem]:
    """Turn pydantic's errors into Problems that point at the file line (and
    column, given `columns`). Given the `model` that was validated (at
    `prefix`), a misspelt key says which known key it is closest to."""
    problems = []
    for err in error.errors(include_url=False):
        own = tuple(p for p in err["loc"] if not _is_union_tag(p))
        loc = prefix + own
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, KeyedValueError):
            loc += cause.key
        message = _message(err)
        if err["type"] == "extra_forbidden" and model is not None and own:
            message += did_you_mean(str(own[-1]), keys_at(model, own[:-1]))
        at = nearest_path(lines, loc) if lines else None
        problems.append(
            Problem(
                file=file,
                line=lines.get(at) if lines and at is not None else None,
                column=columns.get(at) if columns and at is not None else None,
                location=dotted(loc),
                message=message,
            )
        )
    return problems


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """"; did you mean 'x'?" for the choice closest to a misspelt `word`, or ""."""
    close = difflib.get_close_matches(word, [c for c in choices if c != word], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def keys_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys the mapping at `loc` inside `model`'s data may have (empty when
    `loc` is not a model there): what a misspelt key is compared with."""
    kind: object = model
    for part in loc:
        kind = _step(kind, part)
        if kind is None:
            return []
    kind = _unwrap(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return [field.alias or name for name, field in kind.model_fields.items()]
    return []


def _unwrap(kind: object) -> object:
    """The one type an Optional or Annotated type stands for."""
    while True:
        origin = typing.get_origin(kind)
        if origin is typing.Annotated:
            kind = typing.get_args(kind)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(kind) if a is not type(None)]
            if len(args) != 1:
                return kind
            kind = args[0]
        else:
            return kind


def _step(kind: object, part: object) -> object:
    kind = _unwrap(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        fields = {field.alias or name: field for name, field in kind.model_fields.items()}
        field = fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (list, tuple) and isinstance(part, int) and args:
        return args[0]
    if origin is dict and isinstance(part, str) and len(args) == 2:
        return args[1]
    return None


def _is_union_tag(part: object) -> bool:
    # pydantic inserts the union member's name (a tag such as "Visits", "function-after[...]")
    # into the location; a user knows only the field names of their file.
    return isinstance(part, str) and (
        part[:1].isupper() or "[" in part or part.startswith("literal")
    )


def _message(err: Mapping) -> str:
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown field (not part of the format; check the spelling)"
    if err["type"] == "missing":
        return "required field is missing"
    if err["type"] in ("value_error", "assertion_error"):
        # Our own validators already say what they got.
        return msg.split(", ", 1)[1] if msg.startswith(("Value error, ", "Assertion failed, ")) else msg
    if "input" in err:
        msg = f"{msg} (got {excerpt(err['input'])})"
        if err["type"] in ("enum", "literal_error") and isinstance(err["input"], str):
            # A misspelt vocabulary word ('massge'): name the word it is closest to.
            msg += did_you_mean(err["input"], re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", ""))))
    return msg


# A lowercase word with underscores is a vocabulary value ('chiropractic', a
# misspelt 'massge'): showing it is what makes the error useful, and it is not
# a claimant's data. Anything else may be (names, dates of birth, notes).
# So is a short number written as text ('8' for visits: 8): too short to be a
# date of birth, a phone or a record number. A date is masked like any other
# text: it may be a date of birth, and its shape ('99/99/9999') with the field,
# the line and the reason ("expected a date as YYYY-MM-DD", "day is out of
# range for month") already says what to fix.
_WORD = re.compile(r"[a-z][a-z0-9_]{0,39}|[-+]?[0-9][0-9.]{0,5}")
_EXCERPT = 20


def excerpt(value: object) -> str:
    """A short, masked rendering of an input value for an error message.

    Error messages end up in logs and terminals, so claimant data is never
    echoed: text is shown by its shape only (letters as x/X, digits as 9,
    punctuation kept: '07/04/1952 Jane Doe' becomes '99/99/9999 Xxxx Xxx'),
    cut to 20 characters with its length; vocabulary words, booleans and short
    numbers (as numbers or as text) are shown as they are."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        if abs(value).bit_length() > 64:
            return "a very long integer"
        return repr(value) if len(str(value)) <= 12 else f"an integer of {len(str(abs(value)))} digits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        if _WORD.fullmatch(value):
            return repr(value)
        shape = "".join(_mask(c) for c in value[:_EXCERPT])
        more = f"... ({len(value):,} characters)" if len(value) > _EXCERPT else ""
        return f"'{shape}'{more}"
    if isinstance(value, (list, tuple, dict)):
        kind = "a mapping" if isinstance(value, dict) else "a list"
        return f"{kind} of {len(value)} value{'s' if len(value) != 1 else ''}"
    return f"a value of type {type(value).__name__}"


def _mask(char: str) -> str:
    if char.isdigit():
        return "9"
    if char.isalpha():
        return "X" if char.isupper() else "x"
    if char in " -/.,:;()#+'_@":
        return char
    return "?"


def nearest_line(lines: Mapping[tuple, int], loc: tuple) -> int | None:
    """The line of the deepest part of `loc` the file has (a missing field
    points at the mapping that should have held it)."""
    at = nearest_path(lines, loc)
    return lines[at] if at is not None else None


def nearest_path(lines: Mapping[tuple, int], loc: tuple) -> tuple | None:
    """The deepest part of `loc` the file has a line for."""
    for n in range(len(loc), -1, -1):
        if tuple(loc[:n]) in lines:
            return tuple(loc[:n])
    return None
