"""What-if analysis: change a limit or switch a rule off, and compare decisions.

`with_overrides` builds a new pack from an existing one without editing any
file; the changed pack carries its overrides and a content hash of its own, so
every decision made with it says exactly what was changed. `compare` decides
the same cases under two engines and reports each item whose outcome flips,
in which direction, and which rules caused it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .batch import decide_row
from ..packs.conditions import FACTS
from ..explanation.decision import PackRef
from ..errors import Problem, RulePackError, problems_from_validation
from ..packs.model import Rule, RulePack


def override_pack(pack: RulePack, limits: Mapping[str, int] | None = None, disabled: Iterable[str] = ()) -> RulePack:
    """A copy of `pack` with numeric limits changed and rules switched off.

    `limits` maps a rule id to its new number: the visit limit of a limit rule,
    or the one count a rule's conditions test (e.g. the 6 of a 6-visit trial).
    """
    limits = dict(limits or {})
    disabled = set(disabled)
    known = {rule.id for rule in pack.rules}
    problems = [Problem(location=f"limits.{r}", message=f"no rule '{r}' in {pack.name} {pack.version}") for r in limits if r not in known]
    problems += [Problem(location=f"disabled.{r}", message=f"no rule '{r}' in {pack.name} {pack.version}") for r in disabled if r not in known]
    rules = []
    for rule in pack.rules:
        if rule.id in disabled:
            continue
        if rule.id in limits:
            try:
                rule = _with_number(rule, limits[rule.id])
            except ValueError as exc:
                problems.append(Problem(location=f"limits.{rule.id}", message=str(exc)))
                continue
        rules.append(rule)
    if problems:
        raise RulePackError(problems)
    recorded = {"limits": dict(sorted(limits.items())), "disabled": sorted(disabled)}
    digest = hashlib.sha256((pack.content_hash + json.dumps(recorded, sort_keys=True)).encode()).hexdigest()
    return pack.model_copy(
        update={
            "rules": tuple(rules),
            "version": f"{pack.version}+whatif.{digest[:8]}",
            "content_hash": digest,
            "overrides": recorded,
        }
    )


def _with_number(rule: Rule, value: int) -> Rule:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"a limit is a whole number >= 0, got {value!r}")
    data = rule.model_dump(mode="json", exclude_none=True)
    if rule.limit is not None:
        data["limit"]["visits"] = value
    else:
        counts = [
            (fact, op) for fact, spec in rule.when.items() if FACTS[fact].kind == "count" for op in (spec if isinstance(spec, dict) else {})
        ]
        if len(counts) != 1:
            raise ValueError(f"rule {rule.id} has no single number to change (it has {len(counts)} count tests and no limit)")
        fact, op = counts[0]
        data["when"][fact][op] = value
    try:
        return Rule.model_validate(data)
    except ValidationError as exc:
        raise ValueError("; ".join(str(p) for p in problems_from_validation(exc))) from None


# -- comparing two engines ------------------------------------------------------------


class Flip(BaseModel):
    model_config = ConfigDict(frozen=True)

    row: int
    case_id: str | None
    item: int
    description: str
    treatment: str
    before: str
    after: str
    rules_before: list[str]
    rules_after: list[str]
    cause: list[str] = Field(
        description="Rules whose findings differ between the runs (decided in one only, or decided differently)."
    )


class Comparison(BaseModel):
    before: list[PackRef] = Field(default_factory=list, description="The packs of the first engine.")
    after: list[PackRef] = Field(default_factory=list, description="The packs of the second engine.")
    items: int = Field(default=0, description="Items decided by both engines.")
    items_by_treatment: dict[str, int] = Field(
        default_factory=dict, description="Items decided by both engines, by treatment: the base of a flip rate."
    )
    flips: list[Flip] = Field(default_factory=list)
    errors: list[tuple[int, list[Problem]]] = Field(default_factory=list)
    by_direction: dict[str, int] = Field(default_factory=dict)
    by_treatment: dict[str, int] = Field(default_factory=dict)
    by_rule: dict[str, int] = Field(default_factory=dict)

    def _repr_html_(self) -> str:  # Jupyter's rich display
        from ..explanation.render import comparison_html

        return comparison_html(self)


def _changed_rules(a: Any, b: Any) -> list[str]:
    def kinds(item: Any) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for finding in item.findings:
            if finding.rule:
                out.setdefault(finding.rule, set()).add(finding.kind)
        return out

    first, second = kinds(a), kinds(b)
    return sorted(r for r in first.keys() | second.keys() if first.get(r) != second.get(r))


def compare(before: Any, after: Any, cases: Iterable[Any]) -> Comparison:
    """Decide `cases` with both engines; report every item whose outcome flips."""
    result = Comparison(before=before.pack_refs, after=after.pack_refs)
    compared: Counter[str] = Counter()
    directions: Counter[str] = Counter()
    treatments: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    for row, data in enumerate(cases):
        first, second = decide_row(before, row, data, False), decide_row(after, row, data, False)
        if first.decision is None or second.decision is None:
            result.errors.append((first.row, first.problems or second.problems or []))
            continue
        for a, b in zip(first.decision.items, second.decision.items, strict=True):
            result.items += 1
            compared[a.treatment.value] += 1
            if a.outcome == b.outcome:
                continue
            cause = _changed_rules(a, b)
            flip = Flip(
                row=first.row, case_id=first.decision.case_id, item=a.index, description=a.description,
                treatment=a.treatment.value, before=a.outcome.value, after=b.outcome.value,
                rules_before=a.rules, rules_after=b.rules, cause=cause,
            )
            result.flips.append(flip)
            directions[f"{flip.before} -> {flip.after}"] += 1
            treatments[flip.treatment] += 1
            for rule in cause:
                rules[rule] += 1
    result.items_by_treatment = dict(sorted(compared.items()))
    result.by_direction = dict(sorted(directions.items()))
    result.by_treatment = dict(sorted(treatments.items()))
    result.by_rule = dict(sorted(rules.items()))
    return result
