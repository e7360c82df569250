"""Three-valued tests on the facts a rule may test (packs.facts).

A test on a fact is true, false, or unknown (the record does not document the
fact). Unknown is never folded into false: a rule whose conditions are unknown
produces an "insufficient documentation" finding instead of silently not
applying. Each test can say which of the three it is, both in plain Python
(`Test.holds`) and as engine conditions (`Test.engine_conditions`), from the one
definition below, so the two cannot drift apart.

Unknown is a range, not a blank. A count the record does not give still has a
known lower bound (prior visits not documented, 12 requested: at least 12 in
all), carried beside it as `<name>_at_least`. A test the lower bound already
settles is settled: "total visits more than 10" is true, "total visits at most
10" is false, and only what the bound leaves open is unknown.

Two kinds of fact are not "documentation" at all and are never unknown: the
request's own frequency, duration and lead count (`stated_only`: a test on one
the request does not state is false, because there is nothing to be over), and
the derived facts, which the engine computes from the case (`derived`).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import KeyedValueError, did_you_mean
from .facts import AT_LEAST_SUFFIX, FACTS, KNOWN_SUFFIX, SCOPE_ONLY, Fact

__all__ = [
    "AT_LEAST_SUFFIX", "FACTS", "KNOWN_SUFFIX", "OPERATORS", "SCOPE_ONLY", "Fact", "Test", "Truth",
    "all_of", "engine_all_of", "join_all", "join_any", "parse_tests",
]

Truth = Literal[True, False, None]  # None: unknown


OPERATORS = ("is", "is_not", "lt", "le", "gt", "ge", "documented")
_COMPARE = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
_ENGINE_COMPARE = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
_NEGATED = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt"}
_WORDS = {"lt": "less than", "le": "at most", "gt": "more than", "ge": "at least"}

@dataclass(frozen=True)
class Test:
    """One test of one fact, e.g. total_visits > 6 or care_stage is ongoing_care."""

    fact: str
    op: str
    value: Any

    # -- plain Python -------------------------------------------------------
    def holds(self, facts: Mapping[str, Any]) -> Truth:
        spec = FACTS[self.fact]
        actual = facts[self.fact]
        if spec.kind == "count":
            if actual is not None:
                return _COMPARE[self.op](actual, self.value)
            if spec.stated_only:
                return False
            # Unknown, but at least `least`: settled when the bound settles it.
            least = facts.get(self.fact + AT_LEAST_SUFFIX, 0)
            if self.op in ("gt", "ge"):
                return True if _COMPARE[self.op](least, self.value) else None
            return None if _COMPARE[self.op](least, self.value) else False
        if self.op == "documented":
            return True if actual != spec.unknown else None
        wanted = self.wanted()
        if actual == spec.unknown and spec.unknown not in wanted:
            return None
        inside = actual in wanted
        return inside if self.op == "is" else not inside

    # -- engine conditions --------------------------------------------------
    def engine_conditions(self) -> tuple[dict | None, dict | None, dict | None]:
        """Engine conditions for (true, false, unknown); None where impossible."""
        spec = FACTS[self.fact]
        if spec.kind == "count":
            # The engine is sent the count, or its lower bound when unknown.
            # A lower bound above the number settles "more than" as true and
            # "at most" as false; only what it leaves open is unknown.
            known, unknown = {self.fact + KNOWN_SUFFIX: True}, {self.fact + KNOWN_SUFFIX: False}
            holds = {_ENGINE_COMPARE[self.op]: {self.fact: self.value}}
            fails = {_ENGINE_COMPARE[_NEGATED[self.op]]: {self.fact: self.value}}
            if spec.stated_only:
                return _all([known, holds]), _all([known, fails]), None
            if self.op in ("gt", "ge"):
                return holds, _all([known, fails]), _all([unknown, fails])
            return _all([known, holds]), fails, _all([unknown, holds])
        if_unknown: dict | None = {self.fact: spec.unknown} if spec.unknown is not None else None
        if self.op == "documented":
            return {"$neq": {self.fact: spec.unknown}}, None, if_unknown
        wanted = self.wanted()
        others = [v for v in spec.values if v not in wanted and v != spec.unknown]
        if spec.unknown in wanted:
            if_unknown = None
        inside = _any([{self.fact: v} for v in wanted])
        outside = _any([{self.fact: v} for v in others]) if others else None
        if self.op == "is":
            return inside, outside, if_unknown
        return outside, inside, if_unknown

    def wanted(self) -> tuple[str, ...]:
        return tuple(self.value) if isinstance(self.value, (list, tuple)) else (self.value,)

    # -- words --------------------------------------------------------------
    def describe(self) -> str:
        spec = FACTS[self.fact]
        if self.op in _WORDS:
            return f"{spec.label} {_WORDS[self.op]} {self.value}"
        if self.op == "documented":
            return f"{spec.label} documented"
        shown = " or ".join(str(v).replace("_", " ") for v in self.wanted())
        return f"{spec.label} {'is' if self.op == 'is' else 'is not'} {shown}"


def parse_tests(fact: str, spec: Any) -> list[Test]:
    """Read one `fact: spec` entry of a rule's `when` or `requires` block.

    Raises ValueError with a message meant for the rule author.
    """
    try:
        return _parse_tests(fact, spec)
    except ValueError as exc:
        raise KeyedValueError(fact, str(exc)) from None


def unknown_fact(fact: str) -> str:
    """What is wrong with a fact name no rule can test, and the nearest that is one."""
    return f"unknown fact '{fact}'{did_you_mean(fact, FACTS)} (known facts: {', '.join(sorted(FACTS))})"


def _parse_tests(fact: str, spec: Any) -> list[Test]:
    if fact not in FACTS:
        raise ValueError(unknown_fact(fact))
    info = FACTS[fact]
    if not isinstance(spec, dict):
        spec = {"is": spec}
    if not spec:
        raise ValueError(f"'{fact}' needs a test, e.g. {{is: ...}} or {{gt: 6}}")
    tests = []
    for op, value in spec.items():
        if op not in OPERATORS:
            raise ValueError(f"unknown test '{op}' on '{fact}'{did_you_mean(str(op), OPERATORS)}; use one of {', '.join(OPERATORS)}")
        if info.kind == "count":
            if op not in _COMPARE:
                raise ValueError(f"'{fact}' is a count: use lt, le, gt or ge")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"'{fact}' {op} needs a whole number >= 0, got {value!r}")
        elif op == "documented":
            if value is not True or info.unknown is None:
                raise ValueError(f"'documented' takes true, on a fact that can be undocumented (got {value!r})")
        elif op in _COMPARE:
            raise ValueError(f"'{fact}' is a choice: use is or is_not, not {op}")
        else:
            wanted = value if isinstance(value, list) else [value]
            bad = [v for v in wanted if v not in info.values]
            if not wanted or bad:
                hint = did_you_mean(bad[0], info.values) if len(bad) == 1 and isinstance(bad[0], str) else ""
                raise ValueError(f"'{fact}' cannot be {bad or value!r}{hint}; expected one of {', '.join(info.values)}")
            value = tuple(wanted) if isinstance(value, list) else value
        tests.append(Test(fact, op, value))
    return tests


def all_of(tests: list[Test], facts: Mapping[str, Any]) -> Truth:
    """Three-valued AND: false if any test is false, else unknown if any is unknown."""
    result: Truth = True
    for test in tests:
        truth = test.holds(facts)
        if truth is False:
            return False
        if truth is None:
            result = None
    return result


def engine_all_of(tests: list[Test]) -> tuple[dict | None, dict | None]:
    """Engine conditions for "all true" and for "none false, some unknown"."""
    if not tests:
        return None, None
    parts = [t.engine_conditions() for t in tests]
    true = _all([p[0] for p in parts])
    with_unknown = [p for p in parts if p[2] is not None]
    if not with_unknown:
        return true, None
    none_false = _all([_any([p[0], p[2]]) if p[2] is not None else p[0] for p in parts])
    some_unknown = _any([p[2] for p in with_unknown])
    return true, _all([none_false, some_unknown])


def _all(conds: list[dict | None]) -> dict | None:
    conds = [c for c in conds if c is not None]
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


def _any(conds: list[dict | None]) -> dict | None:
    conds = [c for c in conds if c is not None]
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$or": conds}


def join_all(conds: list[dict | None]) -> dict | None:
    return _all(conds)


def join_any(conds: list[dict | None]) -> dict | None:
    return _any(conds)
