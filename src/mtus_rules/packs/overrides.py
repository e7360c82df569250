"""What-if rule packs: a copy of a pack with limits changed and rules switched
off, no file edited. The changed pack carries its overrides and a content hash
of its own, so every decision made with it says exactly what was changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

from pydantic import ValidationError

from ..errors import Problem, RulePackError, problems_from_validation
from .conditions import FACTS
from .model import Rule, RulePack, ChangedNumber


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
    # A what-if of a what-if records every change in force, not only the last
    # ones: a decision must say everything that differs from the published pack.
    earlier = pack.overrides or {}
    recorded = {
        "limits": dict(sorted({**earlier.get("limits", {}), **limits}.items())),
        "disabled": sorted({*earlier.get("disabled", ()), *disabled}),
    }
    digest = hashlib.sha256((pack.content_hash + json.dumps(recorded, sort_keys=True)).encode()).hexdigest()
    published = pack.version.split(_WHAT_IF_MARK)[0]
    return pack.model_copy(
        update={
            "rules": tuple(rules),
            "version": f"{published}{_WHAT_IF_MARK}{digest[:8]}",
            "content_hash": digest,
            "overrides": recorded,
        }
    )


_WHAT_IF_MARK = "+whatif."


def _with_number(rule: Rule, value: int) -> Rule:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"a limit is a whole number >= 0, got {value!r}")
    data = rule.model_dump(mode="json", exclude_none=True)
    if rule.limit is not None:
        data["limit"]["visits"] = value
        placeholder, before = "limit.visits", rule.limit.visits
    else:
        counts = [
            (fact, op) for fact, spec in rule.when.items() if FACTS[fact].kind == "count" for op in (spec if isinstance(spec, dict) else {})
        ]
        if len(counts) != 1:
            raise ValueError(f"rule {rule.id} has no single number to change (it has {len(counts)} count tests and no limit)")
        fact, op = counts[0]
        placeholder, before = f"when.{fact}.{op}", rule.when[fact][op]
        data["when"][fact][op] = value
    try:
        changed = Rule.model_validate(data)
    except ValidationError as exc:
        raise ValueError("; ".join(str(p) for p in problems_from_validation(exc))) from None
    # The pack's own number, even when a what-if is applied to a what-if pack:
    # the rationale names the number the pack publishes, not an earlier what-if's.
    published = rule.what_if.published if rule.what_if is not None else before
    if value != published:
        changed._what_if = ChangedNumber(placeholder=placeholder, published=published, in_force=value)
    return changed
