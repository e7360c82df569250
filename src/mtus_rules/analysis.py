"""Decisions and what-if comparisons as pandas DataFrames, and a chart of a comparison.

For analysts in a notebook. It needs the optional `analysis` extra:

    pip install 'mtus-rules[analysis]'    # from an installed wheel
    pip install '.[analysis]'             # from a checkout, standing in it

The rest of the library never imports this module, so the core install stays
free of pandas and matplotlib.

    >>> from mtus_rules.analysis import decisions_frame, flips_frame, flips_by_treatment, plot_flips
    >>> frame = decisions_frame(engine.evaluate_many(cases))   # one row per requested item
    >>> comparison = compare(engine, engine.with_overrides(limits={"mtus.cpmtg.massage.limit": 4}), cases)
    >>> flips_by_treatment(comparison)                          # items, flips and flip rate per treatment
    >>> plot_flips(comparison)                                  # a bar chart of the same

Columns are fixed whatever the input (an empty input gives an empty frame with
the same columns), so code written against a frame does not break on a quiet day.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any


def _needs_extra(what: str, exc: ModuleNotFoundError) -> ModuleNotFoundError:
    """The error for a missing package of the extra: what needs it, what is missing, what to install."""
    from ._resources import install_command

    return ModuleNotFoundError(
        f"{what} ({exc.name} is not installed); install the analysis extra: {install_command('analysis')}",
        name=exc.name,
    )


try:
    import pandas as pd
except ModuleNotFoundError as exc:  # exercised in a subprocess by tests/test_packaging.py
    raise _needs_extra("mtus_rules.analysis needs pandas", exc) from None

from .integration.batch import BatchResult
from .explanation.decision import Decision, Outcome
from .vocabulary import Treatment, label
from .integration.compare import Comparison

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["DECISION_COLUMNS", "FLIP_COLUMNS", "decisions_frame", "flips_by_treatment", "flips_frame", "plot_flips"]

#: Outcomes in the order reports list them.
_OUTCOMES = [o.value for o in Outcome]
_TREATMENTS = [t.value for t in Treatment]

#: The columns of `decisions_frame`, in order, with their dtypes.
DECISION_COLUMNS: dict[str, str] = {
    "row": "Int64",  # position in the input
    "case_id": "string",
    "request_date": "datetime64[ns]",
    "item": "Int64",  # position of the item in the request, from 0
    "description": "string",
    "treatment": "category",
    "body_regions": "string",  # the regions decided, comma-separated
    "outcome": "category",
    "rules": "string",  # the deciding rules, comma-separated
    "guideline": "string",  # the citations of the deciding rules, semicolon-separated
    "supported_visits": "Int64",  # NA when what-if was not asked for, or no rule sets an upper bound
    "pack": "string",  # name and version of the pack that decided
    "pack_hash": "string",
    "error": "string",  # why a row could not be decided; NA for decided rows
}

#: The columns of `flips_frame`, in order.
FLIP_COLUMNS: dict[str, str] = {
    "row": "Int64",
    "case_id": "string",
    "item": "Int64",
    "description": "string",
    "treatment": "category",
    "before": "category",
    "after": "category",
    "direction": "string",
    "cause": "string",  # the rules whose findings differ, comma-separated
    "rules_before": "string",
    "rules_after": "string",
}


def _typed(records: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    for name, dtype in columns.items():
        if dtype == "category":
            values = _OUTCOMES if name in ("outcome", "before", "after") else _TREATMENTS
            # Every category, used or not, so counts and charts keep their rows on a small sample.
            frame[name] = pd.Categorical(frame[name], categories=values)
        elif dtype.startswith("datetime"):
            frame[name] = pd.to_datetime(frame[name]).astype(dtype)
        else:
            frame[name] = frame[name].astype(dtype)
    return frame


def _decision_records(row: int, decision: Decision) -> list[dict[str, Any]]:
    pack = decision.rule_pack
    return [
        {
            "row": row,
            "case_id": decision.case_id,
            "request_date": decision.request_date,
            "item": item.index,
            "description": item.description,
            "treatment": item.treatment.value,
            "body_regions": ", ".join(str(r) for r in item.body_regions),
            "outcome": item.outcome.value,
            "rules": ", ".join(item.rules),
            "guideline": "; ".join(str(c) for c in item.citations),
            "supported_visits": item.what_if.supported_visits if item.what_if else None,
            "pack": f"{pack.name} {pack.version}" if pack else None,
            "pack_hash": pack.content_hash if pack else None,
            "error": None,
        }
        for item in decision.items
    ]


def decisions_frame(results: Iterable[Decision | BatchResult]) -> pd.DataFrame:
    """One row per requested item, from decisions or from `evaluate_many` results.

    A batch row that could not be decided is kept as one row with its problems
    in `error` (and no item), so a frame never silently has fewer cases than
    its input.
    """
    records: list[dict[str, Any]] = []
    for position, result in enumerate(results):
        if isinstance(result, Decision):
            records.extend(_decision_records(position, result))
        elif isinstance(result, BatchResult):
            if result.decision is not None:
                records.extend(_decision_records(result.row, result.decision))
            else:
                problems = "; ".join(str(p) for p in result.problems or []) or "not decided"
                records.append({"row": result.row, "error": problems})
        else:
            raise TypeError(
                f"decisions_frame takes Decision or BatchResult values; item {position} is a {type(result).__name__}"
            )
    return _typed(records, DECISION_COLUMNS)


def flips_frame(comparison: Comparison) -> pd.DataFrame:
    """One row per flipped item, with the rules that caused the flip."""
    records = [
        {
            "row": flip.row,
            "case_id": flip.case_id,
            "item": flip.item,
            "description": flip.description,
            "treatment": flip.treatment,
            "before": flip.before,
            "after": flip.after,
            "direction": f"{flip.before} -> {flip.after}",
            "cause": ", ".join(flip.cause),
            "rules_before": ", ".join(flip.rules_before),
            "rules_after": ", ".join(flip.rules_after),
        }
        for flip in comparison.flips
    ]
    return _typed(records, FLIP_COLUMNS)


def flips_by_treatment(comparison: Comparison) -> pd.DataFrame:
    """Per treatment compared: items, flips in each direction, total flips and
    the flip rate (flips / items). Indexed by treatment, in vocabulary order."""
    directions = sorted(comparison.by_direction)
    treatments = [t for t in _TREATMENTS if t in comparison.items_by_treatment]
    counts = {t: dict.fromkeys(directions, 0) for t in treatments}
    for flip in comparison.flips:
        counts[flip.treatment][f"{flip.before} -> {flip.after}"] += 1
    frame = pd.DataFrame(
        [
            {"items": comparison.items_by_treatment[t], **counts[t], "flips": sum(counts[t].values())}
            for t in treatments
        ],
        index=pd.Index(treatments, name="treatment", dtype="string"),
        columns=["items", *directions, "flips"],
    ).astype("int64")
    frame["flip_rate"] = (frame["flips"] / frame["items"]).astype("float64")
    return frame


# Same colours as the HTML display: red where a denial now stands, green where it falls.
_DIRECTION_COLOURS = {"overturned -> upheld": "#c0392b", "upheld -> overturned": "#2e8b57"}


def plot_flips(comparison: Comparison, ax: Axes | None = None) -> Axes:
    """A horizontal bar chart of flips by treatment, one colour per direction.

    Draws on `ax` when given, else on a new figure; returns the axes. Needs
    matplotlib (part of the analysis extra).
    """
    try:
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as exc:
        raise _needs_extra("plot_flips needs matplotlib", exc) from None

    table = flips_by_treatment(comparison)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.5 * max(len(table), 2) + 1.2))
    directions = [c for c in table.columns if "->" in c]
    names = [label(t) for t in table.index]
    left = [0] * len(table)
    for direction in directions:
        values = table[direction].tolist()
        ax.barh(names, values, left=left, label=direction, color=_DIRECTION_COLOURS.get(direction, "#7f7f7f"))
        left = [a + b for a, b in zip(left, values)]
    for y, (flips, items) in enumerate(zip(table["flips"], table["items"])):
        ax.annotate(f"{flips} of {items}", (left[y], y), xytext=(4, 0), textcoords="offset points", va="center")
    ax.set_xlabel("items whose outcome flips")
    ax.set_title(f"{len(comparison.flips)} of {comparison.items} items flip")
    ax.invert_yaxis()  # vocabulary order, top to bottom
    ax.margins(x=0.15)
    if directions:
        ax.legend(loc="lower right", fontsize="small")
    return ax
