"""Decisions as people read them: plain text for the terminal, HTML for Jupyter.

Both say the same things in the same order (outcome, guideline, deciding rules,
the three-part rationale, what would change the outcome), so a decision reads
the same in a report, a terminal and a notebook. Nothing here needs more than
the standard library: Jupyter finds `_repr_html_` on the models itself.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from html import escape
from typing import TYPE_CHECKING

from ..evaluation.outcome import DECISIVE_KINDS, Outcome
from ..packs.model import CitedSource, PackRef
from ..vocabulary import label

if TYPE_CHECKING:  # the models import this module to show themselves (_repr_html_, __str__)
    from ..case.model import RfaMapping
    from .decision import Decision, ItemDecision
    from .trace import Trace

OUTCOME_WORDS = {
    Outcome.UPHELD: "UPHELD (not medically necessary)",
    Outcome.OVERTURNED: "OVERTURNED (medically necessary)",
    Outcome.NO_APPLICABLE_GUIDELINE: "NO APPLICABLE GUIDELINE",
}

_NOTHING_CHANGES = "Nothing these rules read: no change of the documented facts makes it medically necessary."


def pack_words(pack: PackRef | None) -> str:
    """The pack that decided, as decisions and traces name it."""
    if pack is None:
        return "none in force"
    changed = " with what-if changes" if pack.overrides else ""
    # An overlay names what it is layered on, so a reader knows which base it changed.
    # Layers run base first and end with the overlay itself.
    bases = (pack.layers or [])[:-1]
    on = "".join(f" on {layer.name} {layer.version} (sha256:{layer.content_hash[:12]})" for layer in reversed(bases))
    return f"{pack.name} {pack.version} (sha256:{pack.content_hash[:12]}){on}{changed}"


#: After an attested citation in text: the adjuster checks these pages against
#: their own copy of the guideline (the project could not read one).
ATTESTED_MARK = " [attested: check against your copy]"


def citation_words(citation: CitedSource) -> str:
    return str(citation) + (ATTESTED_MARK if citation.attested else "")


_OUTCOME_COUNTS = (
    (Outcome.UPHELD, "upheld"),
    (Outcome.OVERTURNED, "overturned"),
    (Outcome.NO_APPLICABLE_GUIDELINE, "with no applicable guideline"),
)


def case_summary(decision: Decision) -> str:
    """The case in one line: how many items, and how each came out."""
    count = len(decision.items)
    outcomes = Counter(item.outcome for item in decision.items)
    said = ", ".join(f"{outcomes[outcome]} {words}" for outcome, words in _OUTCOME_COUNTS if outcomes[outcome])
    return f"{count} item{'' if count == 1 else 's'}: {said}" if count else "no items"


#: Why an item came out as it did, by the kind of the findings that decided it.
_REASONS = {
    "not_recommended": "the guideline does not recommend it here",
    "exceeds_limit": "more visits than the guideline allows",
    "exceeds_statutory_cap": "over the statutory visit cap",
    "criterion_not_met": "a condition the guideline sets is not met",
    "insufficient_documentation": "the record lacks information the guideline needs",
}


def item_summary(item: ItemDecision) -> str:
    """Why the item came out as it did, in a few words, for its first line."""
    if item.outcome is Outcome.OVERTURNED:
        return "the guideline supports it"
    if item.outcome is Outcome.NO_APPLICABLE_GUIDELINE:
        return "no rule in force covers it"
    kinds = DECISIVE_KINDS[item.outcome] or ()
    reasons = dict.fromkeys(_REASONS[f.kind] for f in item.findings if f.kind in kinds and f.kind in _REASONS)
    return "; ".join(reasons) or "not supported by the guideline"


def rfa_words(rfa: RfaMapping) -> str:
    """How an RFA line was read, without codes (those are for --verbose)."""
    visits = f", {rfa.visits} visit{'' if rfa.visits == 1 else 's'}" if rfa.visits is not None else ""
    return f"Read from RFA line {rfa.line + 1} as {label(rfa.treatment)}{visits}."


def _rationale_parts(item: ItemDecision, verbose: bool = True) -> list[tuple[str, str]]:
    case = item.rationale.case
    if not verbose and item.rfa is not None:
        # The code mapping ("97110 -> physical_therapy") is for whoever checks the reading.
        case = case.replace(item.rfa.describe(), rfa_words(item.rfa), 1)
    return [
        (title, text)
        for title, text in (
            ("What the guideline says", item.rationale.guideline),
            ("This case", case),
            ("Conclusion", item.rationale.conclusion),
        )
        if text
    ]


def _supported_words(item: ItemDecision) -> str | None:
    if item.what_if is None:
        return None
    if item.what_if.supported_visits is None:
        return "no upper bound in these rules"
    return str(item.what_if.supported_visits)


# -- plain text ----------------------------------------------------------------------


def decision_text(decision: Decision, source: str | None = None, *, verbose: bool = False) -> str:
    """A decision as a claims examiner reads it: a line for the case and one
    for each item first, then each item in full. `verbose` adds what an
    author or a reviewer checking the engine wants: the ids of the deciding
    rules and how codes on an RFA were mapped."""
    wrap = textwrap.TextWrapper(width=100, initial_indent="      ", subsequent_indent="      ")
    head = f"Case {decision.case_id or '(no id)'}" + (f"  [{source}]" if source else "")
    lines = [
        head,
        f"  {case_summary(decision)}",
        f"  Request date {decision.request_date}; rule pack {pack_words(decision.rule_pack)}",
    ]
    for item in decision.items:
        lines.append("")
        lines.append(f"  {item.index + 1}. {item.description}: {OUTCOME_WORDS[item.outcome]} - {item_summary(item)}")
        if item.citations:
            lines.append("    Guideline: " + "; ".join(citation_words(c) for c in item.citations))
        if item.rules and verbose:
            lines.append("    Decided by: " + ", ".join(item.rules))
        for title, text in _rationale_parts(item, verbose):
            lines.append(f"    {title}:")
            lines.extend(wrap.wrap(text))
        supported = _supported_words(item)
        if supported is None:
            continue
        if item.outcome is Outcome.UPHELD:
            alternatives = item.what_if.alternatives if item.what_if else []
            lines.append("    What would change the outcome" + (" (any one of these):" if len(alternatives) > 1 else ":"))
            if alternatives:
                lines.extend(line for a in alternatives for line in wrap.wrap(f"- {a.text}"))
            else:
                lines.extend(wrap.wrap(_NOTHING_CHANGES))
        lines.append(f"    Visits supported: {supported}")
    return "\n".join(lines)


def trace_text(trace: Trace, *, verbose: bool = False) -> str:
    """The trace for a person: every rule considered, and what it did; with
    `verbose`, also the rules for other treatments, which never applied."""
    lines = [f"Case {trace.case_id or '(no id)'}; request date {trace.request_date}; rule pack {pack_words(trace.rule_pack)}"]
    for item in trace.items:
        lines.append("")
        lines.append(f"{item.index + 1}. {item.description}: {item.outcome.value}"
                     + (f", decided by {', '.join(item.deciding_rules)}" if item.deciding_rules else ""))
        for facet in item.facets:
            lines.append(f"   region {facet.body_region}: {facet.status}")
            other = [] if verbose else [r for r in facet.rules if not r.in_scope and r.scope.startswith("treatment is")]
            for rule in facet.rules:
                if rule in other:
                    continue
                mark = {"fail": "x", "support": "+", "neutral": "="}.get(rule.verdict or "", " ")
                lines.append(f"     [{mark}] {rule.rule}: {rule.status}")
                for c in rule.conditions:
                    lines.append(f"           {c.test}: {c.result} (value: {c.value})")
                if rule.effect_test is not None:
                    c = rule.effect_test
                    lines.append(f"           {rule.effect}: {c.test}: {c.result} (value: {c.value})")
                if rule.citation is not None:
                    cited = rule.citation
                    lines.append(f"           source: {cited} [{cited.confirmed_by}]: {' '.join(cited.evidence.split())}")
            if other:
                lines.append(f"     ({len(other)} rules for other treatments not shown)")
    return "\n".join(lines)


# -- HTML ----------------------------------------------------------------------------

# Inline styles only: notebook front ends drop <style> blocks from untrusted
# outputs, and the colours must still tell upheld from overturned at a glance.
_BADGE = {
    Outcome.UPHELD: "background:#fde2e1;color:#8a1c13",
    Outcome.OVERTURNED: "background:#dff3e3;color:#1d5e2c",
    Outcome.NO_APPLICABLE_GUIDELINE: "background:#ececec;color:#333",
}
CELL_STYLE = "padding:2px 8px;text-align:left;vertical-align:top"


def _badge(outcome: Outcome) -> str:
    return f'<span style="{_BADGE[outcome]};padding:1px 6px;border-radius:3px;font-weight:600;white-space:nowrap">{escape(OUTCOME_WORDS[outcome])}</span>'


def item_html(item: ItemDecision) -> str:
    """One requested item: outcome, guideline, rules, rationale and what-if."""
    parts = [f"<div><p><b>{item.index + 1}. {escape(item.description)}</b> {_badge(item.outcome)}</p><ul>"]
    if item.citations:
        parts.append("<li>Guideline: " + "; ".join(escape(citation_words(c)) for c in item.citations) + "</li>")
    if item.rules:
        parts.append("<li>Decided by: " + ", ".join(f"<code>{escape(r)}</code>" for r in item.rules) + "</li>")
    regions = ", ".join(label(r) for r in item.body_regions)  # "body region not specified" reads on its own
    parts.append(f"<li>Decided as: {escape(label(item.treatment))}; {escape(regions)}</li>")
    if item.rfa is not None:
        parts.append(f"<li>Read from the RFA line: {escape(item.rfa.model_dump_json(exclude_none=True))}</li>")
    parts.append("</ul>")
    for title, text in _rationale_parts(item):
        parts.append(f"<p><i>{escape(title)}.</i> {escape(text)}</p>")
    supported = _supported_words(item)
    if supported is not None and item.what_if is not None:
        if item.outcome is Outcome.UPHELD:
            changes = [escape(a.text) for a in item.what_if.alternatives] or [escape(_NOTHING_CHANGES)]
            parts.append("<p><i>What would change the outcome:</i></p><ul>" + "".join(f"<li>{c}</li>" for c in changes) + "</ul>")
        parts.append(f"<p><i>Visits supported:</i> {escape(supported)}</p>")
    parts.append("</div>")
    return "".join(parts)


def decision_html(decision: Decision) -> str:
    """A decision as an HTML fragment: a summary table, then each item in full."""
    rows = "".join(
        f'<tr><td style="{CELL_STYLE}">{item.index + 1}</td><td style="{CELL_STYLE}">{escape(item.description)}</td>'
        f'<td style="{CELL_STYLE}">{_badge(item.outcome)}</td>'
        f'<td style="{CELL_STYLE}">{escape("; ".join(citation_words(c) for c in item.citations)) or "-"}</td></tr>'
        for item in decision.items
    )
    header = "".join(f'<th style="{CELL_STYLE}">{h}</th>' for h in ("#", "Requested item", "Outcome", "Guideline"))
    return (
        '<div class="mtus-decision">'
        f"<h4>Case {escape(decision.case_id or '(no id)')}</h4>"
        f"<p>{escape(case_summary(decision))}. Request date {decision.request_date}; rule pack {escape(pack_words(decision.rule_pack))}; "
        f"mtus-rules {escape(decision.library_version)}</p>"
        f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"
        + "".join(f"<details><summary>Item {i.index + 1} in full</summary>{item_html(i)}</details>" for i in decision.items)
        + "</div>"
    )
