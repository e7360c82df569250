"""An alternative (changes that would overturn an upheld item) in words, and
applied to the case: the case as it would read with the changes made true."""

from __future__ import annotations

import copy
from typing import Any

from ..case.model import Case
from ..case.reading import parse_case
from ..packs.facts import FACTS
from ..vocabulary import NOT_DOCUMENTED, counted_with, label
from .decision import Alternative, Change

# Facts a change may set, in the order changes are preferred: the request
# itself first, then documenting what is unknown, then other facts of record.
_PREFERENCE = (
    "visits_requested",
    "exclude_body_region",
    "body_region",
    "functional_improvement",
    "visits_to_date",
    "care_stage",
    "home_exercise",
    "work_status",
    "purpose",
)


def rank(fact: str) -> int:
    """Preferred facts first; any other fact after them, in vocabulary order."""
    if fact in _PREFERENCE:
        return _PREFERENCE.index(fact)
    return len(_PREFERENCE) + list(FACTS).index(fact)


def describe(changes: dict[str, Any], treatment: str, rules: list[str]) -> Alternative:
    """The changes as an Alternative, preferred facts first (`rank`)."""
    items = []
    for fact in sorted(changes, key=rank):
        value = changes[fact]
        if fact == "exclude_body_region":
            for region in value:
                items.append(Change(fact=fact, value=region, text=f"the {label(region)} left out of the request"))
            continue
        if fact == "visits_requested":
            text = f"the request reduced to {value} visit{'s' if value != 1 else ''}"
        elif fact == "body_region":
            text = f"the body region specified ({label(value)})"
        elif fact == "visits_to_date":
            if value:
                text = f"{value} or fewer prior {treatment} visits documented in all"
            else:
                text = f"no prior {treatment} visits documented (a first course)"
        elif fact == "functional_improvement" and value == "yes":
            text = f"objective functional improvement from the prior {treatment} documented"
        else:
            text = f"{FACTS[fact].label} documented as {label(value)}"
        items.append(Change(fact=fact, value=value, text=text))
    # Every change of an alternative is needed; saying so keeps "a; b" from reading as "a or b".
    text = items[0].text if len(items) == 1 else "all of: " + "; ".join(c.text for c in items)
    return Alternative(changes=items, rules=rules, text=text)


def apply_alternative(case: Case | dict, item_index: int, alternative: Alternative) -> Case:
    """The case as it would read with `alternative` made true, validated again.

    Changes are made where the record keeps the fact: the request line, the
    prior course of this treatment, or the case-level field."""
    case = parse_case(case)
    data = case.model_dump(mode="json", exclude_defaults=False)
    item = data["requested_items"][item_index]
    family = {t.value for t in counted_with(case.requested_items[item_index].treatment)}
    courses = [c for c in data["treatment_history"] if c["treatment"] in family]
    for change in alternative.changes:
        fact, value = change.fact, change.value
        if fact == "visits_requested":
            item["quantity"] = {"visits": value}
        elif fact == "exclude_body_region":
            item["body_regions"] = [r for r in item["body_regions"] if r != value]
        elif fact == "body_region":
            item["body_regions"] = [value]
        elif fact == "functional_improvement":
            for course in courses:
                course["functional_improvement"] = value
        elif fact == "visits_to_date":
            # Only unknown counts are filled in: the first takes what the
            # documented courses leave of `value`, any others none.
            unknown = [c for c in courses if c["visits"] == NOT_DOCUMENTED]
            known = sum(c["visits"] for c in courses if c["visits"] != NOT_DOCUMENTED)
            if not courses:
                data["treatment_history"].append({"treatment": item["treatment"], "visits": value})
            for i, course in enumerate(unknown):
                course["visits"] = value - known if i == 0 else 0
        elif fact == "purpose":
            item["purpose"] = value
        else:
            data[fact] = value
    return Case.model_validate(copy.deepcopy(data))
