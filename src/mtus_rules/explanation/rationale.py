"""The wording of an item's rationale: what the guideline says (with its
citations), what this case shows, and the conclusion, as an IMR reviewer
writes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import NamedTuple

from ..evaluation.outcome import Outcome
from ..packs.conditions import FACTS, Test
from ..packs.model import Citation, CitedSource, Rule, RulePack
from ..packs.stated import unaccepted_stated_numbers
from ..vocabulary import FACET_REGIONS, label
from .decision import Finding


class RationaleWords(NamedTuple):
    guideline: str
    case: str
    before: str  # the conclusion is before + the item's description + after
    after: str


def guideline_for(pack: RulePack) -> Callable[[tuple[str, ...]], tuple[str, tuple[CitedSource, ...]]]:
    """What the guideline says and cites for a set of deciding rules of `pack`.
    It depends only on which rules decided, and the same few combinations recur
    across cases, so it is kept in a bounded cache per pack."""
    rules = {rule.id: rule for rule in pack.rules}
    # What each rule's statement needs said beside it, and what it cites,
    # depend on the rule alone: worked out once here, not for every new set
    # of deciding rules (a new engine meets every set anew).
    notes = {rule_id: _notes(rule) for rule_id, rule in rules.items()}
    sources = {rule_id: _sources(rule) for rule_id, rule in rules.items()}

    @lru_cache(maxsize=4096)
    def guideline(rule_ids: tuple[str, ...]) -> tuple[str, tuple[CitedSource, ...]]:
        chosen = [rules[r] for r in rule_ids]
        return _guideline_text(chosen, notes), tuple(_citations(chosen, sources))

    return guideline


def _cited(citation: Citation) -> tuple[str, str, str | None]:
    # Two rules citing the same pages cite one source, whatever their research notes say.
    return citation.guideline, citation.section, citation.pages


def _sources(rule: Rule) -> list[tuple[tuple[str, str, str | None], CitedSource]]:
    """The rule's citations (the MTUS section whose gap it fills first), each
    as decisions carry it (`Citation.cited`) and under the key that tells it
    apart from others (_cited)."""
    return [(_cited(citation), citation.cited()) for citation in (rule.fills_gap_in, rule.citation) if citation is not None]


def _citations(rules: list[Rule], sources: Mapping[str, list[tuple[tuple, CitedSource]]]) -> list[CitedSource]:
    """The deciding rules' citations, each once, as decisions carry them: without
    the authors' research notes (`Citation.evidence`). `sources` are each rule's
    (_sources), by id."""
    out: dict[tuple, CitedSource] = {}
    for rule in rules:
        for key, source in sources[rule.id]:
            if key not in out:
                out[key] = source
    return list(out.values())


def _notes(rule: Rule) -> list[str]:
    """The notes said after a rule's statement: a what-if's number, a stale one."""
    return [n for n in (what_if_words(rule), stale_words(rule)) if n]


def _guideline_text(rules: list[Rule], notes: Mapping[str, list[str]]) -> str:
    """What the deciding rules say, each citation once: the statements of one
    source are said together and cited after the last of them, and ODG's are
    introduced once for the MTUS section whose gap they fill. A note on a
    number this decision used instead of the one the words quote (a what-if,
    an edited pack) follows its statement's citation, as it is not the
    guideline's: that statement goes last in its group, and a second such
    statement in one group is cited on its own. `notes` are each rule's
    (_notes), by id."""
    # (the MTUS section an ODG statement fills a gap in, or None) -> source -> (citation, [(statement, notes)])
    groups: dict[tuple | None, dict[tuple, tuple[Citation, list[tuple[str, list[str]]]]]] = {}
    gaps: dict[tuple | None, Citation | None] = {}
    for rule in rules:
        gap = _cited(rule.fills_gap_in) if rule.fills_gap_in is not None else None
        gaps.setdefault(gap, rule.fills_gap_in)
        _, said = groups.setdefault(gap, {}).setdefault(_cited(rule.citation), (rule.citation, []))
        if any(text == rule.statement_text for text, _ in said):
            continue
        said.append((rule.statement_text, notes[rule.id]))

    def cite(citation: Citation, said: list[tuple[str, list[str]]]) -> str:
        plain = [text for text, notes in said if not notes]
        noted = [(text, notes) for text, notes in said if notes]
        if not noted:
            return f"{' '.join(plain)} ({citation})"
        out = []
        for i, (text, notes) in enumerate(noted):
            words = " ".join([*plain, text]) if i == 0 else text
            out.append(f"{words} ({citation}) {' '.join(notes)}")
        return " ".join(out)

    parts: list[str] = []
    direct = groups.pop(None, {})
    parts.extend(cite(citation, said) for citation, said in direct.values())  # what the MTUS itself says, first
    for gap, by_citation in groups.items():
        cited = " ".join(cite(citation, said) for citation, said in by_citation.values())
        mtus = gaps[gap]
        assert mtus is not None and gap is not None
        where = f"{mtus.section}, cited above" if gap in direct else str(mtus)
        parts.append(f"The MTUS ({where}) does not settle this; ODG fills the gap: {cited}")
    return " ".join(parts)


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


#: label() of every region a finding can name, worked out once: an item's
#: rationale labels the region of each of its deciding findings.
_REGION_LABELS = {region: label(region) for region in FACET_REGIONS}

def _region_label(region: str | None) -> str:
    found = _REGION_LABELS.get(region) if region is not None else None
    return found if found is not None else label(region)


#: Where the sentence on what the record lacks goes among the case's lines.
_MISSING = "\0missing"


def _missing_words(missing: list[Finding], pack: RulePack, positions: Mapping[str, tuple[int, ...]]) -> str:
    """Each fact the record lacks once, and the rules that cannot be applied
    without it, in one sentence (instead of one sentence per rule and region).
    The rules are named in pack order, found through `positions` (each rule's
    place in the pack, by id) rather than by a pass over every rule of the pack."""
    needed = list(dict.fromkeys(n for f in missing for n in f.needed))
    places = sorted({p for f in missing if f.rule for p in positions.get(f.rule, ())})
    in_pack = pack.rules
    titles = [in_pack[p].title_text for p in places]
    if len(needed) == 1:
        lacks, it = f"Not documented: {needed[0]}.", "it"
    else:
        lacks, it = f"Not documented (all of these are needed): {'; '.join(needed)}.", "them"
    rules = "the rule" if len(titles) == 1 else f"these {len(titles)} rules"
    return f"{lacks} Without {it} {rules} cannot be applied: {'; '.join(titles)}."


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
    positions: Mapping[str, tuple[int, ...]],
) -> RationaleWords:
    """The guideline and case parts of an item's rationale, and its conclusion
    as the words before and after the item's description. `guideline` is what
    the deciding rules say (`guideline_for`); `decisive` the findings that
    decided (outcome.DECISIVE_KINDS); `status` each region's status; `multi`
    whether the item covers more than one region; `positions` each rule's
    place in `pack` by id (CompiledPack.positions)."""
    regions_by_text: dict[str, list[str]] = {}
    missing: list[Finding] = []  # said together, once: what the record lacks and which rules need it
    for finding in decisive:
        if finding.kind == "insufficient_documentation" and finding.needed and finding.rule:
            if not missing:
                regions_by_text[_MISSING] = []
            missing.append(finding)
            regions_by_text[_MISSING].append(_region_label(finding.body_region))
            continue
        regions_by_text.setdefault(finding.text, []).append(_region_label(finding.body_region))
    case_lines = list(notes)
    for text, regions in regions_by_text.items():
        if text is _MISSING:
            text = _missing_words(missing, pack, positions)
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
