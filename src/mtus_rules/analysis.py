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
Columns that hold several values (rules, causes, finding kinds) hold lists, so
`frame.explode("rules")` counts by rule without splitting strings. Pass the
cases (`decisions_frame(results, cases=cases)`) for the prior and requested
visits of each item, which a decision does not repeat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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

from .case.model import Case
from .case.reading import parse_case
from .evaluation.facets import documented_prior_visits, prior_courses
from .evaluation.outcome import DECISIVE_KINDS
from .integration.batch import BatchResult
from .explanation.decision import Decision, ItemDecision, Outcome
from .explanation.render import pack_words
from .vocabulary import NOT_DOCUMENTED, Treatment, label
from .integration.compare import Comparison

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "DECISION_COLUMNS",
    "FLIP_COLUMNS",
    "decisions_frame",
    "flips_by_treatment",
    "flips_frame",
    "plot_flips",
    "scenario_words",
]

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
    "finding_kinds": "object",  # list: the kinds of the findings that decided, e.g. insufficient_documentation
    "missing_documentation": "boolean",  # whether the record's gaps are among the reasons (upheld or open)
    "needed": "object",  # list: what the record lacks, for findings of insufficient documentation
    "rules": "object",  # list: the deciding rules
    "guideline": "string",  # the citations of the deciding rules, semicolon-separated
    "prior_visits": "Int64",  # visits of this treatment the case documents before the request; NA without cases
    "requested_visits": "Int64",  # visits the item requests; NA when it states none, or without cases
    "supported_visits": "Int64",  # NA when what-if was not asked for, or no rule sets an upper bound
    "decision_id": "string",  # the decision's id, as its decision-log records carry it
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
    "cause": "object",  # list: the rules whose findings differ
    "rules_before": "object",  # list
    "rules_after": "object",  # list
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
        elif dtype == "object":  # list-valued; a row without a decision has none (NA)
            frame[name] = frame[name].astype(object)
        else:
            frame[name] = frame[name].astype(dtype)
    return frame


def _visits(case: Case | None, item: ItemDecision) -> tuple[int | None, int | None]:
    """The prior visits the case documents for the item's treatment (None when
    any course's count is not documented) and the visits the item requests."""
    if case is None:
        return None, None
    courses = prior_courses(case, item.treatment)
    known = all(c.visits != NOT_DOCUMENTED for c in courses)
    requested = case.requested_items[item.index].visits
    return (documented_prior_visits(courses) if known else None), requested


def _decision_records(row: int, decision: Decision, case: Case | None) -> list[dict[str, Any]]:
    pack = decision.rule_pack
    records = []
    for item in decision.items:
        kinds = DECISIVE_KINDS[item.outcome] or ()
        decisive = [f for f in item.findings if f.kind in kinds]
        prior, requested = _visits(case, item)
        records.append(
            {
                "row": row,
                "case_id": decision.case_id,
                "request_date": decision.request_date,
                "item": item.index,
                "description": item.description,
                "treatment": item.treatment.value,
                "body_regions": ", ".join(str(r) for r in item.body_regions),
                "outcome": item.outcome.value,
                "finding_kinds": list(dict.fromkeys(f.kind for f in decisive)),
                "missing_documentation": any(f.kind == "insufficient_documentation" for f in decisive),
                "needed": list(dict.fromkeys(n for f in decisive for n in f.needed)),
                "rules": list(item.rules),
                "guideline": "; ".join(str(c) for c in item.citations),
                "prior_visits": prior,
                "requested_visits": requested,
                "supported_visits": item.what_if.supported_visits if item.what_if else None,
                "decision_id": decision.decision_id,
                "pack": f"{pack.name} {pack.version}" if pack else None,
                "pack_hash": pack.content_hash if pack else None,
                "error": None,
            }
        )
    return records


def decisions_frame(
    results: Iterable[Decision | BatchResult], cases: Sequence[Case | Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """One row per requested item, from decisions or from `evaluate_many` results.

    A batch row that could not be decided is kept as one row with its problems
    in `error` (and no item), so a frame never silently has fewer cases than
    its input. With `cases` (the input, in the same order: a batch result's
    `row` indexes it), the prior and requested visits of each item are filled in.
    """
    records: list[dict[str, Any]] = []

    def case_at(row: int) -> Case | None:
        if cases is None:
            return None
        if not 0 <= row < len(cases):
            raise ValueError(f"decisions_frame: result for row {row}, but only {len(cases)} cases were given")
        return parse_case(cases[row])

    for position, result in enumerate(results):
        if isinstance(result, Decision):
            records.extend(_decision_records(position, result, case_at(position)))
        elif isinstance(result, BatchResult):
            if result.decision is not None:
                records.extend(_decision_records(result.row, result.decision, case_at(result.row)))
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
            "cause": list(flip.cause),
            "rules_before": list(flip.rules_before),
            "rules_after": list(flip.rules_after),
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


def scenario_words(comparison: Comparison) -> str:
    """The scenario a comparison measures, as a chart's title names it: the
    what-if changes of the second engine, or its packs when those differ."""
    changes = []
    for ref in comparison.after:
        overrides = ref.overrides or {}
        changes += [f"{rule} = {value}" for rule, value in overrides.get("limits", {}).items()]
        changes += [f"{rule} off" for rule in overrides.get("disabled", [])]
    if changes:
        return "what if " + ", ".join(changes)
    before = ", ".join(pack_words(ref) for ref in comparison.before)
    after = ", ".join(pack_words(ref) for ref in comparison.after)
    return f"{after} against {before}" if before != after else after or "no packs"


def plot_flips(comparison: Comparison, ax: Axes | None = None, *, scenario: str | None = None) -> Axes:
    """A horizontal bar chart of flips by treatment, one colour per direction,
    titled by the scenario compared (`scenario`, else `scenario_words`).

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
    ax.set_title(f"{scenario or scenario_words(comparison)}: {len(comparison.flips)} of {comparison.items} items flip")
    ax.invert_yaxis()  # vocabulary order, top to bottom
    ax.margins(x=0.15)
    if directions:
        ax.legend(loc="lower right", fontsize="small")
    return ax
