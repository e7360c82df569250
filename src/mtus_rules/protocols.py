"""The engine's seams, as protocols: what the engine needs from the parts it
does not own, so that it imports none of them.

- `Matcher`: decides a set of compiled conditions (evaluation._backends picks
  durable_rules or the pure-Python matcher; both satisfy it).
- `DecisionRecorder`: keeps each decision for audit (integration.audit's
  `DecisionLog` satisfies it; `Engine(decision_log=...)` takes any).
- `BatchRunner`: decides many cases for `Engine.evaluate_many`
  (integration.batch's `evaluate_many`, installed by mtus_rules.integration).

tests/test_protocols.py holds the implementations to them, statically (an
assignment a type checker checks) and at run time (`isinstance`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .case.model import Case
from .evaluation._backends import Matcher
from .explanation.decision import Decision

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["BatchRunner", "DecisionRecorder", "Matcher"]


@runtime_checkable
class DecisionRecorder(Protocol):
    """Where the engine records every decision it makes (a decision log)."""

    def record(self, case: Case, decision: Decision) -> object:
        """Keep `decision`, made for `case` (what it returns is not used); raise
        OSError when it cannot be kept."""
        ...


class BatchRunner(Protocol):
    """Decides `cases` with `engine`, one result per input, in order."""

    def __call__(
        self, engine: Engine, cases: Iterable[Case | Mapping[str, Any]], *, workers: int, what_if: bool
    ) -> Iterator[Any]: ...
