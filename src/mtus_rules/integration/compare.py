"""Comparing two engines: decide the same cases under both and report each item
whose outcome flips, in which direction, and which rules caused it. The usual
second engine is `engine.with_overrides(...)` (packs.overrides): a what-if.
Also the comparison as `mtus-rules compare` prints it and as a notebook shows it.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
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
from ._pool import Lost, Pool
from .batch import BatchResult, _batched, _pickled, _rows_of, _to_send, decide_row


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


@dataclass(frozen=True)
class _RowComparison:
    """One row under both engines: its items by treatment and its flips, or why it could not be decided."""

    row: int
    treatments: tuple[str, ...] = ()
    flips: tuple[Flip, ...] = ()
    problems: tuple[Problem, ...] | None = None


def _compare_row(before: Engine, after: Engine, row: int, data: Any) -> _RowComparison:
    first, second = decide_row(before, row, data, False), decide_row(after, row, data, False)
    if first.decision is None or second.decision is None:
        return _RowComparison(row, problems=tuple(first.problems or second.problems or []))
    treatments, flips = [], []
    for a, b in zip(first.decision.items, second.decision.items, strict=True):
        treatments.append(a.treatment.value)
        if a.outcome != b.outcome:
            flips.append(Flip(
                row=row, case_id=first.decision.case_id, item=a.index, description=a.description,
                treatment=a.treatment.value, before=a.outcome.value, after=b.outcome.value,
                rules_before=a.rules, rules_after=b.rules, cause=_changed_rules(a, b),
            ))
    return _RowComparison(row, tuple(treatments), tuple(flips))


# -- worker processes: each holds both engines, built once ------------------------------

_worker_engines: tuple[Engine, Engine] | None = None


def _start_worker(before: tuple, after: tuple) -> None:
    global _worker_engines
    _worker_engines = (Engine(before[0], cache_size=before[1], backend=before[2]),
                       Engine(after[0], cache_size=after[1], backend=after[2]))


def _compare_chunk(rows: list[tuple[int, bytes]]) -> list[_RowComparison]:
    assert _worker_engines is not None
    out = []
    for row, payload in rows:
        try:
            data = pickle.loads(payload)
        except BaseException as exc:  # noqa: BLE001 - any failure here belongs to this row alone
            out.append(_RowComparison(row, problems=(Problem(message=f"the row could not be passed to a worker process ({type(exc).__name__})"),)))
            continue
        try:
            out.append(_compare_row(*_worker_engines, row, data))
        except BaseException as exc:  # noqa: BLE001 - the worker ignores SIGINT, so this came from the row itself
            out.append(_RowComparison(row, problems=(Problem(message=f"internal error ({type(exc).__name__}) while deciding this row"),)))
    return out


def _setup(engine: Engine) -> tuple:
    return (engine.packs, engine.cache_size, engine.backend)


def _in_workers(before: Engine, after: Engine, cases: Iterable[Any], workers: int, chunk_size: int) -> Iterator[_RowComparison]:
    chunks = ([(row, None, _pickled(row, data)) for row, data in batch] for batch in _batched(enumerate(cases), chunk_size))
    pool = Pool(workers, _start_worker, (_setup(before), _setup(after)))
    outcomes = pool.imap(_compare_chunk, chunks, payload=_to_send, split=_rows_of, window=workers * 4)
    try:
        for chunk, outcome in outcomes:
            made = {row: payload for row, _, payload in chunk if isinstance(payload, BatchResult)}
            done = {} if isinstance(outcome, Lost) else {r.row: r for r in outcome}
            for row, _, _ in chunk:
                if row in made:
                    yield _RowComparison(row, problems=tuple(made[row].problems or []))
                elif row in done:
                    yield done[row]
                else:
                    yield _RowComparison(row, problems=(Problem(message=outcome.reason),))
    finally:
        outcomes.close()


def compare(
    before: Engine, after: Engine, cases: Iterable[Case | Mapping[str, Any]], *, workers: int = 1, chunk_size: int = 256
) -> Comparison:
    """Decide `cases` with both engines; report every item whose outcome flips.
    With `workers` > 1 the rows are decided in that many worker processes (each
    holding both engines); the comparison is the same."""
    if workers < 1:
        raise ValueError("workers must be >= 1")
    result = Comparison(before=before.pack_refs, after=after.pack_refs)
    compared: Counter[str] = Counter()
    directions: Counter[str] = Counter()
    treatments: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    rows = (
        (_compare_row(before, after, row, data) for row, data in enumerate(cases))
        if workers == 1
        else _in_workers(before, after, cases, workers, chunk_size)
    )
    for one in rows:
        if one.problems is not None:
            result.errors.append((one.row, list(one.problems)))
            continue
        result.items += len(one.treatments)
        compared.update(one.treatments)
        for flip in one.flips:
            result.flips.append(flip)
            directions[f"{flip.before} -> {flip.after}"] += 1
            treatments[flip.treatment] += 1
            for rule in flip.cause:
                rules[rule] += 1
    result.items_by_treatment = dict(sorted(compared.items()))
    result.by_direction = dict(sorted(directions.items()))
    result.by_treatment = dict(sorted(treatments.items()))
    result.by_rule = dict(sorted(rules.items()))
    return result


# -- as people read it -------------------------------------------------------------


def _counts(comparison: Comparison) -> str:
    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    return "; ".join([
        n(comparison.items, "item compared", "items compared"),
        n(len(comparison.flips), "flip", "flips"),
        n(len(comparison.errors), "row could not be read", "rows could not be read"),
    ])


def comparison_text(comparison: Comparison) -> str:
    """A comparison as `mtus-rules compare` prints it: the packs, the counts, then each flip."""
    lines = [
        _counts(comparison),
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
        f"<p><b>{escape(_counts(comparison))}.</b></p>"
        f"<p>Before: {packs(comparison.before)}<br>After: {packs(comparison.after)}</p>"
        + table("By direction", comparison.by_direction, "direction")
        + table("By treatment", {label(k): v for k, v in comparison.by_treatment.items()}, "treatment")
        + table("By rule", comparison.by_rule, "rule")
        + "</div>"
    )
