"""Errors a caller can act on: every problem names its file, line and field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, ValidationError


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

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        parts = [p for p in (where, self.location) if p]
        return f"{': '.join(parts)}: {self.message}" if parts else self.message


class MtusRulesError(ValueError):
    """Base class for every error this library raises on bad input."""

    kind = "input"

    def __init__(self, problems: Sequence[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        n = len(self.problems)
        head = f"invalid {self.kind}: {n} problem{'s' if n != 1 else ''}"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


class CaseError(MtusRulesError):
    """A case (treatment request) could not be read or is not valid."""

    kind = "case"


class RulePackError(MtusRulesError):
    """A rule pack could not be loaded; nothing from it was loaded."""

    kind = "rule pack"


class BackendError(MtusRulesError):
    """The matcher asked for (`backend=` or MTUS_RULES_BACKEND) is unknown or cannot run here."""

    kind = "backend"


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
) -> list[Problem]:
    """Turn pydantic's errors into Problems that point at the file line."""
    problems = []
    for err in error.errors(include_url=False):
        loc = prefix + tuple(p for p in err["loc"] if not _is_union_tag(p))
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, KeyedValueError):
            loc += cause.key
        problems.append(
            Problem(
                file=file,
                line=nearest_line(lines, loc) if lines else None,
                location=dotted(loc),
                message=_message(err),
            )
        )
    return problems


def _is_union_tag(part: object) -> bool:
    # pydantic inserts the union member's name ("VisitCount", "function-after[...]")
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
    for n in range(len(loc), -1, -1):
        line = lines.get(tuple(loc[:n]))
        if line is not None:
            return line
    return None
