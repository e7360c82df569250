"""Explain traces: why each item came out as it did, rule by rule.

The trace is computed in plain Python from the rule pack (`Test.holds`),
without durable_rules, so it is also a second, independent evaluator: the
property tests check that its deciding rules and outcome equal the engine's.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Literal

from ..case.model import Case
from ..evaluation.compile import effect_test, rule_conditions, statute_bars_only_what_is_shown, verdict
from ..packs.conditions import FACTS, Test, all_of
from ..evaluation.outcome import DECISIVE_VERDICTS, Outcome, governed_questions, item_outcome, region_status, set_aside
from .render import trace_text
from ..evaluation.facets import Facet, facets
from ..packs.model import Citation, PackRef, Rule, RulePack
from .._model import FrozenModel

#: A condition's value as the trace shows it (conditions.Truth, in words).
TruthText = Literal["true", "false", "unknown"]
_TRUTH: dict[Any, TruthText] = {True: "true", False: "false", None: "unknown"}


class ConditionTrace(FrozenModel):
    test: str
    fact: str
    value: Any
    result: TruthText


class RuleTrace(FrozenModel):
    rule: str
    source: str
    question: str
    effect: str
    in_scope: bool
    scope: str = ""  # why the rule is out of scope, when it is
    conditions: list[ConditionTrace]
    when: TruthText | None  # the conditions together; None when out of scope
    effect_test: ConditionTrace | None
    outcome: str | None  # applies / pass / fail / unknown / undetermined; None: did not apply
    verdict: Literal["fail", "support", "neutral"] | None
    status: str  # what happened to this rule, in words
    # For the rules that took part (an outcome), the citation with the author's
    # evidence: decisions leave the evidence out, the trace is where authors read it.
    citation: Citation | None = None


class FacetTrace(FrozenModel):
    body_region: str
    facts: dict[str, Any]
    diagnosis_groups: list[str]
    rules: list[RuleTrace]
    status: Literal["fail", "support", "none"]


class ItemTrace(FrozenModel):
    index: int
    description: str
    outcome: Outcome
    deciding_rules: list[str]
    facets: list[FacetTrace]


class Trace(FrozenModel):
    case_id: str | None
    request_date: _dt.date
    rule_pack: PackRef | None
    items: list[ItemTrace]

    def __str__(self) -> str:  # print(engine.explain(case)) reads like `mtus-rules explain`
        return trace_text(self)


def _condition(test: Test, facts: dict[str, Any]) -> ConditionTrace:
    return ConditionTrace(test=test.describe(), fact=test.fact, value=facts[test.fact], result=_TRUTH[test.holds(facts)])


def trace_rule(rule: Rule, facet: Facet, day: _dt.date, pack: RulePack) -> RuleTrace:
    scope = rule.applies_to
    facts = facet.facts
    reason = ""
    if facts["treatment"] not in scope.treatment:
        reason = f"treatment is {facts['treatment']}, not {', '.join(scope.treatment)}"
    elif scope.diagnosis_group and not facet.diagnosis_groups & {g.value for g in scope.diagnosis_group}:
        reason = f"no diagnosis in {', '.join(scope.diagnosis_group)}"
    elif scope.unless_diagnosis_group and facet.diagnosis_groups & {g.value for g in scope.unless_diagnosis_group}:
        excluded = sorted(facet.diagnosis_groups & {g.value for g in scope.unless_diagnosis_group})
        reason = f"a diagnosis in {', '.join(excluded)}, which the rule leaves out"
    elif not pack.effective_period(rule).contains(day):
        reason = f"not in force on {day} ({pack.effective_period(rule)})"
    base = dict(rule=rule.id, source=rule.source, question=rule.question, effect=rule.effect)
    if reason:
        return RuleTrace(**base, in_scope=False, scope=reason, conditions=[], when=None, effect_test=None,
                         outcome=None, verdict=None, status=f"not applicable: {reason}")
    tests = rule_conditions(rule)
    conditions = [_condition(t, facts) for t in tests]
    when = all_of(tests, facts)
    test = effect_test(rule)
    checked = _condition(test, facts) if test is not None and when is True else None
    met_anyway = when is None and test is not None and test.holds(facts) is True
    not_shown = when is None and statute_bars_only_what_is_shown(rule)
    if when is False or met_anyway or not_shown:
        outcome = None
    elif when is None:
        outcome = "undetermined"
    elif test is None:
        outcome = "applies"
    else:
        outcome = {True: "pass", False: "fail", None: "unknown"}[test.holds(facts)]
    rule_verdict = verdict(rule, outcome) if outcome else None
    if not_shown and not met_anyway:
        unknown = [FACTS[c.fact].label for c in conditions if c.result == "unknown"]
        status = f"not applicable: a statute bars only what the record shows ({', '.join(unknown)} not documented)"
    elif met_anyway:
        unknown = [FACTS[c.fact].label for c in conditions if c.result == "unknown"]
        status = f"not applicable: met whether or not it applies ({', '.join(unknown)} not documented)"
    elif outcome is None:
        false = [c.test for c in conditions if c.result == "false"]
        status = f"not applicable: {'; '.join(false)} is false"
    elif outcome == "undetermined":
        unknown = [c.fact for c in conditions if c.result == "unknown"]
        status = f"undetermined: {', '.join(FACTS[f].label for f in unknown)} not documented"
    else:
        status = f"{outcome} ({rule_verdict})"
    return RuleTrace(**base, in_scope=True, conditions=conditions, when=_TRUTH[when], effect_test=checked,
                     outcome=outcome, verdict=rule_verdict, status=status,
                     citation=rule.citation if outcome is not None else None)


def explain(case: Case, pack: RulePack | None, ref: PackRef | None) -> Trace:
    """The full trace of `case` under `pack` (None: no pack in force)."""
    by_item: dict[int, list[FacetTrace]] = {}
    for facet in facets(case):
        rules = [trace_rule(rule, facet, case.request_date, pack) for rule in pack.rules] if pack else []
        # Precedence among the rules that applied (outcome.set_aside).
        governed = governed_questions(r for r in rules if r.outcome)
        settled = []
        for r in rules:
            if r.outcome and set_aside(r, governed):
                mtus = next(m.rule for m in rules if m.outcome and m.source == "MTUS" and m.question == r.question)
                r = r.model_copy(update={"verdict": None, "status": f"superseded: the MTUS rule {mtus} governs '{r.question}'"})
            settled.append(r)
        status = region_status({r.verdict for r in settled})
        by_item.setdefault(facet.item_index, []).append(
            FacetTrace(body_region=facet.body_region, facts=dict(facet.facts),
                       diagnosis_groups=sorted(facet.diagnosis_groups), rules=settled, status=status)
        )
    items = []
    for index, item in enumerate(case.requested_items):
        facet_traces = by_item[index]
        outcome = Outcome.NO_APPLICABLE_GUIDELINE if pack is None else item_outcome([f.status for f in facet_traces])
        wanted = DECISIVE_VERDICTS[outcome]
        deciding = [r.rule for f in facet_traces for r in f.rules if r.verdict in wanted]
        items.append(ItemTrace(index=index, description=item.description, outcome=outcome,
                               deciding_rules=sorted(set(deciding), key=deciding.index), facets=facet_traces))
    return Trace(case_id=case.case_id, request_date=case.request_date, rule_pack=ref, items=items)
