"""The outcome rules, once: how the rules that hold for a requested item
become its outcome. The engine (evaluation by the matcher) and the explain
trace (evaluation in plain Python) both decide through these functions, so a
change to the rules is made here and nowhere else.

1. Precedence: an MTUS rule governs every other rule (ODG) that answers the
   same question on the same region; those are set aside.
2. A region's status: "fail" if any rule left fails it, else "support" if any
   supports it, else "none".
3. An item's outcome: upheld if any region fails; overturned only if every
   region is supported; otherwise no applicable guideline.
4. The decisive findings: the failing ones of an upheld item, the supporting
   ones (and the criteria met) of an overturned item.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import Enum
from typing import Protocol


class Outcome(str, Enum):
    UPHELD = "upheld"  # the denial stands: not medically necessary
    OVERTURNED = "overturned"  # medically necessary
    NO_APPLICABLE_GUIDELINE = "no_applicable_guideline"  # no rule in force decides it

    def __str__(self) -> str:
        return self.value


#: Finding kinds that make an item not medically necessary.
FAILING = frozenset(
    {"not_recommended", "exceeds_limit", "exceeds_statutory_cap", "criterion_not_met", "insufficient_documentation"}
)
#: Finding kinds that support an item.
SUPPORTING = frozenset({"within_limit", "recommended"})
#: The findings that decide each outcome, and so name its rules and citations.
DECISIVE_KINDS: dict[Outcome, frozenset[str]] = {
    Outcome.UPHELD: FAILING,
    Outcome.OVERTURNED: SUPPORTING | {"criterion_met"},
    Outcome.NO_APPLICABLE_GUIDELINE: frozenset(),
}
#: The rule verdicts that decide each outcome (the trace's deciding rules).
DECISIVE_VERDICTS: dict[Outcome, frozenset[str]] = {
    Outcome.UPHELD: frozenset({"fail"}),
    Outcome.OVERTURNED: frozenset({"support", "neutral"}),
    Outcome.NO_APPLICABLE_GUIDELINE: frozenset(),
}


class Sourced(Protocol):
    """A rule as precedence sees it (a pack's Rule, a trace's RuleTrace)."""

    @property
    def source(self) -> str: ...

    @property
    def question(self) -> str: ...




def governed_questions(rules: Iterable[Sourced]) -> frozenset[str]:
    """The questions an MTUS rule among `rules` answers."""
    return frozenset({r.question for r in rules if r.source == "MTUS"})


def set_aside(rule: Sourced, governed: Collection[str]) -> bool:
    """Whether `rule` gives way to an MTUS rule on the same question."""
    return rule.source != "MTUS" and rule.question in governed


def region_status(verdicts: Collection[str | None]) -> str:
    """A region's status from the verdicts of the rules left after precedence."""
    return "fail" if "fail" in verdicts else "support" if "support" in verdicts else "none"


def item_outcome(statuses: Collection[str]) -> Outcome:
    """Upheld if any region fails; overturned only if every region is supported."""
    if "fail" in statuses:
        return Outcome.UPHELD
    if all(s == "support" for s in statuses):
        return Outcome.OVERTURNED
    return Outcome.NO_APPLICABLE_GUIDELINE
