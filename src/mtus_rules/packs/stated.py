"""Quantities a rule's words state, and whether the rule holds them.

A rule's title and statement are read by people as the rule's numbers. A
quantity they state that the rule does not hold (a guideline's range quoted
verbatim, or a number left stale by an edit of the rule) would be printed in a
decision that did not use it: lint fails it unless the rule accepts it with a
reason that quotes it, and a decision states the pack's own number beside it
(explanation.rationale).
"""

from __future__ import annotations

import re

from .conditions import FACTS
from .model import Rule, without_placeholders

__all__ = ["QUANTITY", "stated_numbers", "unaccepted_stated_numbers"]


#: A quantity of care as words state it: a number or a range ("4-6", "3 to 6",
#: "1 or 2") followed by a unit, directly ("6-visit trial") or after at most two
#: words ("24 physical therapy visits"). A number with no unit after it is not a
#: quantity: a page, a year, a Labor Code section (4604.5), an ICD code (M54.5).
_UNITS = {
    "visit": "visits", "treatment": "visits", "session": "visits", "time": "visits",
    "week": "weeks", "month": "months", "year": "years", "hour": "hours", "day": "days", "lead": "leads",
}
QUANTITY = re.compile(
    r"(?<![\w.])(\d+)(?:\s*(?:-|–|to|or)\s*(\d+))?(?![\w.]*\d)"
    r"(?:-|\s+(?:[a-z]+\s+){0,2}?)(" + "|".join(_UNITS) + r")s?\b"
)


def _unit_of(fact: str) -> str:
    for unit in ("weeks", "months", "leads"):
        if unit in fact:
            return unit
    return "visits"  # total, injury and requested visits, visits a week, the limit


def stated_numbers(rule: Rule) -> list[tuple[str, str]]:
    """(field, quantity) for each quantity the rule's title or statement states
    as a literal that the rule does not hold. A number the rule holds is its
    limit or a count its conditions test, in the same unit (a number of years
    is held as twelve times as many months); a range is held when one end is
    (the rule takes one end of the guideline's range). Placeholders are the
    rule's own numbers and never stated literally."""
    held: set[tuple[str, int]] = set()
    if rule.limit is not None:
        held.add(("visits", rule.limit.visits))
    for test in [*rule.conditions, *filter(None, [rule.requirement])]:
        if FACTS[test.fact].kind == "count" and isinstance(test.value, int):
            held.add((_unit_of(test.fact), test.value))
    out = []
    for field in ("title", "statement"):
        for match in QUANTITY.finditer(without_placeholders(getattr(rule, field))):
            unit = _UNITS[match.group(3)]
            ends = [int(n) for n in match.group(1, 2) if n is not None]
            if unit == "years":
                unit, ends = "months", [12 * n for n in ends]
            if not any((unit, n) in held for n in ends):
                out.append((field, match.group(0)))
    return out


def unaccepted_stated_numbers(rule: Rule) -> list[tuple[str, str]]:
    """`stated_numbers` less those the rule's `stated-number` acceptance quotes.
    The reason must quote each quantity, so accepting the guideline's range does
    not also accept a number left stale by a later edit of the rule."""
    reason = rule.lint.accept.get("stated-number") or ""
    return [(field, quantity) for field, quantity in stated_numbers(rule) if f'"{quantity}"' not in reason]
