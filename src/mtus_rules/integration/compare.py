"""Comparing two engines: decide the same cases under both and report each item
whose outcome flips, in which direction, and which rules caused it. The usual
second engine is `engine.with_overrides(...)` (packs.overrides): a what-if.
Also the comparison as `mtus-rules compare` prints it and as a notebook shows it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..case.model import Case
from ..engine import Engine
from ..errors import Problem
from ..explanation.decision import ItemDecision
from ..packs.model import PackRef
from ..explanation.render import CELL_STYLE, pack_words
from ..vocabulary import label
from .batch import decide_row


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
        return comparison_html(self)


def _changed_rules(a: ItemDecision, b: ItemDecision) -> list[str]:
    def kinds(item: ItemDecision) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for finding in item.findings:
            if finding.rule:
                out.setdefault(finding.rule, set()).add(finding.kind)
        return out

    first, second = kinds(a), kinds(b)
    return sorted(r for r in first.keys() | second.keys() if first.get(r) != second.get(r))


def compare(before: Engine, after: Engine, cases: Iterable[Case | Mapping[str, Any]]) -> Comparison:
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


# -- as people read it -------------------------------------------------------------


def comparison_text(comparison: Comparison) -> str:
    """A comparison as `mtus-rules compare` prints it: the packs, the counts, then each flip."""
    lines = [
        f"{comparison.items} items compared; {len(comparison.flips)} flip; {len(comparison.errors)} rows could not be read",
        "before: " + ("; ".join(pack_words(r) for r in comparison.before) or "-"),
        "after: " + ("; ".join(pack_words(r) for r in comparison.after) or "-"),
    ]
    lines += [f"  {direction}: {count}" for direction, count in comparison.by_direction.items()]
    if comparison.by_treatment:
        lines.append("by treatment: " + ", ".join(f"{t} {n}" for t, n in comparison.by_treatment.items()))
    if comparison.by_rule:
        lines.append("by rule: " + ", ".join(f"{r} {n}" for r, n in comparison.by_rule.items()))
    lines += [
        f"  row {f.row} item {f.item} ({f.treatment}): {f.before} -> {f.after}; caused by {', '.join(f.cause) or '-'}"
        for f in comparison.flips
    ]
    return "\n".join(lines)


def comparison_html(comparison: Comparison) -> str:
    """A comparison as an HTML fragment: the counts, then the flips by treatment and rule."""

    def packs(refs: list[PackRef]) -> str:
        return escape("; ".join(pack_words(r) for r in refs) or "-")

    def table(title: str, counts: dict[str, int], name: str) -> str:
        if not counts:
            return ""
        rows = "".join(f'<tr><td style="{CELL_STYLE}">{escape(k)}</td><td style="{CELL_STYLE}">{v}</td></tr>' for k, v in counts.items())
        return f'<p><i>{escape(title)}</i></p><table><thead><tr><th style="{CELL_STYLE}">{name}</th><th style="{CELL_STYLE}">flips</th></tr></thead><tbody>{rows}</tbody></table>'

    return (
        '<div class="mtus-comparison">'
        f"<p><b>{comparison.items} items compared; {len(comparison.flips)} flip; "
        f"{len(comparison.errors)} rows could not be read.</b></p>"
        f"<p>Before: {packs(comparison.before)}<br>After: {packs(comparison.after)}</p>"
        + table("By direction", comparison.by_direction, "direction")
        + table("By treatment", {label(k): v for k, v in comparison.by_treatment.items()}, "treatment")
        + table("By rule", comparison.by_rule, "rule")
        + "</div>"
    )
