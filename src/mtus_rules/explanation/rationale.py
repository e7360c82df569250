"""The wording of an item's rationale: what the guideline says (with its
citations), what this case shows, and the conclusion, as an IMR reviewer
writes them."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from ..evaluation.outcome import Outcome
from ..packs.conditions import FACTS, Test
from ..packs.model import Citation, Rule, RulePack
from ..packs.stated import unaccepted_stated_numbers
from ..vocabulary import label
from .decision import Finding


class RationaleWords(NamedTuple):
    guideline: str
    case: str
    before: str  # the conclusion is before + the item's description + after
    after: str


def guideline_for(pack: RulePack) -> Callable[[tuple[str, ...]], tuple[str, tuple[Citation, ...]]]:
    """What the guideline says and cites for a set of deciding rules of `pack`.
    It depends only on which rules decided, and the same few combinations recur
    across cases, so it is kept in a bounded cache per pack."""
    rules = {rule.id: rule for rule in pack.rules}

    @lru_cache(maxsize=4096)
    def guideline(rule_ids: tuple[str, ...]) -> tuple[str, tuple[Citation, ...]]:
        chosen = [rules[r] for r in rule_ids]
        return _guideline_text(chosen), tuple(_citations(chosen))

    return guideline


def _citations(rules: list[Rule]) -> list[Citation]:
    out: dict[tuple, Citation] = {}
    for rule in rules:
        for citation in (rule.fills_gap_in, rule.citation):
            if citation is not None:
                out.setdefault((citation.guideline, citation.section, citation.pages), citation)
    return list(out.values())


def _guideline_text(rules: list[Rule]) -> str:
    said: list[str] = []
    for rule in rules:
        if rule.fills_gap_in is not None:
            text = (
                f"The MTUS ({rule.fills_gap_in}) does not settle this point; ODG fills the gap "
                f"({rule.citation}): {rule.statement_text}"
            )
        else:
            text = f"{rule.statement_text} ({rule.citation})"
        if text not in said:
            said.append(text)
        for extra in (what_if_words(rule), stale_words(rule)):
            if extra and extra not in said:
                said.append(extra)
    return " ".join(said)


def stale_words(rule: Rule) -> str | None:
    """The pack's own number, said beside words that state another: a rule
    whose limit was edited while its statement still quotes the old figure
    (lint fails such a pack; a decision made with it anyway still says which
    number decided)."""
    stale = [quantity for field, quantity in unaccepted_stated_numbers(rule) if field == "statement"]
    if not stale:
        return None
    quoted = ", ".join(f'"{q}"' for q in dict.fromkeys(stale))
    if rule.limit is not None:
        return f"This pack's limit is {rule.limit.visits} visits, not the {quoted} the words above state."
    counted = [t.describe() for t in rule.conditions if FACTS[t.fact].kind == "count"]
    if not counted:
        return None
    return f"This pack's rule applies at {'; '.join(counted)}, not the {quoted} the words above state."


def what_if_words(rule: Rule) -> str | None:
    """A what-if's number, said plainly beside the guideline's words: the
    statement quotes the guideline, and the guideline's number is not the one
    this decision used."""
    changed = rule.what_if
    if changed is None:
        return None
    if changed.placeholder == "limit.visits":
        return f"This decision uses a what-if limit of {changed.in_force} visits, changed from the pack's {changed.published}."
    test = next(t for t in [*rule.conditions, *filter(None, [rule.requirement])] if changed.placeholder.endswith(f"{t.fact}.{t.op}"))
    published = Test(test.fact, test.op, changed.published)
    return f"This decision uses a what-if condition, {test.describe()}, changed from the pack's {published.describe()}."


def word_rationale(
    *,
    treatment: str,
    outcome: Outcome,
    guideline: str,
    decisive: list[Finding],
    notes: list[str],
    status: dict[str, str],
    multi: bool,
    pack: RulePack,
) -> RationaleWords:
    """The guideline and case parts of an item's rationale, and its conclusion
    as the words before and after the item's description. `guideline` is what
    the deciding rules say (`guideline_for`); `decisive` the findings that
    decided (outcome.DECISIVE_KINDS); `status` each region's status; `multi`
    whether the item covers more than one region."""
    regions_by_text: dict[str, list[str]] = {}
    for finding in decisive:
        regions_by_text.setdefault(finding.text, []).append(label(finding.body_region))
    case_lines = list(notes)
    for text, regions in regions_by_text.items():
        shown = list(dict.fromkeys(regions))
        case_lines.append(f"{', '.join(shown).capitalize()}: {text}" if multi else text)
    if outcome is Outcome.UPHELD:
        failed = [r for r, s in status.items() if s == "fail"]
        where = ""
        if multi and len(failed) < len(status):
            where = f" It is not supported for the {', '.join(label(r) for r in failed)}, and a request is medically necessary only if it is for every part it covers."
        before, after = "Therefore, the request for ", f" is not medically necessary.{where}"

    elif outcome is Outcome.OVERTURNED:
        before, after = "Therefore, the request for ", " is medically necessary."
    else:
        open_regions = [label(r) for r, s in status.items() if s == "none"]
        gap = f"No rule in {pack.name} {pack.version} decides {label(treatment)} for the {', '.join(open_regions)}."
        guideline = f"{guideline} {gap}" if guideline else gap
        before, after = "The request for ", " cannot be decided from these rules (no applicable guideline)."
    return RationaleWords(guideline, " ".join(case_lines), before, after)
