"""Evaluation: a case's facets (facets), the rules compiled into matcher
conditions (compile), the matcher and its memos (matching, behind the backend
seam: _backends, _durable, _pymatch, _capacity) and the outcome rules, once
(outcome)."""

from .outcome import Outcome

__all__ = [
    "Outcome",
]
