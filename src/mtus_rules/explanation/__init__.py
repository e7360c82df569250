"""Explanation: the decision model (decision), each item decided in words
(items, findings, rationale), what would change it (alternatives), the
rule-by-rule trace (trace) and the decision as people read it (render)."""

from ..evaluation.outcome import Outcome
from .changes import apply_alternative
from .decision import Alternative, Change, Decision, Finding, ItemDecision, Rationale, WhatIf
from .render import decision_html, decision_text
from .trace import Trace, trace_text

__all__ = [
    "Alternative",
    "Change",
    "Decision",
    "Finding",
    "ItemDecision",
    "Outcome",
    "Rationale",
    "Trace",
    "WhatIf",
    "apply_alternative",
    "decision_html",
    "decision_text",
    "trace_text",
]
