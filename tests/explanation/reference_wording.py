"""The wording of a finding as first written, one sentence at a time per
facet: the reference `mtus_rules.explanation.findings.wording` (the engine's
wording, compiled once per branch) is held equal to, on every branch
(test_wording.py). A change of wording is made in both, on purpose."""

from __future__ import annotations

from mtus_rules.evaluation.compile import Branch, effect_test
from mtus_rules.evaluation.facets import Facet
from mtus_rules.explanation.decision import Finding, assembled
from mtus_rules.explanation.findings import _VISIT_COUNTS, _shown, _visits_phrase
from mtus_rules.packs.conditions import FACTS
from mtus_rules.vocabulary import label


def word_finding(branch: Branch, facet: Facet) -> Finding:
    rule, facts = branch.rule, facet.facts
    region = facet.body_region
    treatment = label(facts["treatment"])

    def needs(names: list[str]) -> list[str]:
        # A total is open because of the request itself when the prior visits
        # are known (hours that do not say how many sessions): ask for that.
        request_open = facts["visits_to_date"] is not None and facts["visits_requested"] is None
        names = ["visits_requested" if n in ("total_visits", "injury_visits") and request_open else n for n in names]
        return list(dict.fromkeys(FACTS[n].needed.replace("this treatment", treatment) for n in names))

    def make(kind: str, text: str, needed: list[str] | None = None) -> Finding:
        # Every value is as validation leaves it (texts, a tuple of texts): see decision.assembled.
        values = {"kind": kind, "rule": rule.id, "body_region": region, "text": text, "needed": tuple(needed or ())}
        return assembled(Finding, values)

    if branch.branch == "undetermined":
        needed = needs([t.fact for t in branch.conditions if t.holds(facts) is None])
        if rule.source == "statute":
            return make(
                "insufficient_documentation",
                f"Not documented: {'; '.join(needed)}. It is needed to tell whether the statutory cap applies "
                f"({rule.title_text}).",
                needed,
            )
        return make(
            "insufficient_documentation",
            f"Not documented: {'; '.join(needed)}. It is needed to apply the rule: {rule.title_text}.",
            needed,
        )
    context = "; ".join(
        f"{FACTS[t.fact].label}: {_shown(facts, t.fact)}"
        for t in branch.when
        if facts[t.fact] is None or facts[t.fact] != FACTS[t.fact].unremarkable
    )
    if rule.effect == "not_recommended":
        return make("not_recommended", f"{rule.title_text}" + (f" ({context})." if context else "."))
    if rule.effect == "supports":
        return make("recommended", f"{rule.title_text}.")
    test = effect_test(rule)
    assert test is not None
    if rule.effect == "limit":
        assert rule.limit is not None
        n, counts = rule.limit.visits, rule.limit.counts
        if branch.branch == "pass":
            return make("within_limit", f"{_visits_phrase(facts, counts)}: within the limit of {n} ({rule.title_text}).")
        if branch.branch == "fail":
            return make("exceeds_limit", f"{_visits_phrase(facts, counts)}: over the limit of {n} ({rule.title_text}).")
        needed = needs(["visits_to_date" if counts == "total_visits" else "visits_requested"])
        return make(
            "insufficient_documentation",
            f"Not documented: {needed[0]}. Without it the limit of {n} visits cannot be applied ({rule.title_text}).",
            needed,
        )
    # requires
    shown = f"{FACTS[test.fact].label}: {_shown(facts, test.fact)}"
    if rule.source == "statute":
        # A statute is not a guideline: its finding says what the law caps and
        # counts, never "the guideline's limit" (Labor Code 4604.5).
        # The visit count the statute tests (not another count such as injury_year).
        counted = next((t for t in branch.when if t.fact in _VISIT_COUNTS), None)
        tally = f"{_visits_phrase(facts, counted.fact)}; " if counted else ""
        if branch.branch == "pass":
            return make("criterion_met", f"{rule.title_text} ({tally}{shown}): the cap is lifted.")
        if branch.branch == "fail":
            return make("exceeds_statutory_cap", f"{rule.title_text} ({tally}{shown}): over the statutory cap.")
        needed = needs([test.fact])
        return make(
            "insufficient_documentation", f"{rule.title_text} ({tally}{shown}). Not documented: {needed[0]}.", needed
        )
    prefix = f"{rule.title_text} ({context}; {shown})" if context else f"{rule.title_text} ({shown})"
    if branch.branch == "pass":
        return make("criterion_met", f"{prefix}: met.")
    if branch.branch == "fail":
        return make("criterion_not_met", f"{prefix}: not met.")
    needed = needs([test.fact])
    return make("insufficient_documentation", f"{prefix}. Not documented: {needed[0]}.", needed)
