"""The Engine: loads rule packs, picks the pack in force on the request date,
and orchestrates the decision of each case.

What it orchestrates lives below it: the matching and its memos
(evaluation.matching), the outcome rules (evaluation.outcome), the item's
decision in words (explanation.items, .findings, .rationale) and the trace
(explanation.trace). Its two seams are protocols (protocols.py): the matcher
that decides the rules' conditions, and the recorder that keeps a decision
log. Batches (`evaluate_many`) run in mtus_rules.integration, which installs
its runner here (`install_batch_runner`), so that the engine imports nothing
above it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .case.model import Case
from .case.reading import parse_case
from .errors import Problem, RulePackError
from .evaluation import _backends
from .evaluation.facets import facets
from .evaluation.matching import CompiledPack, compile_for_matcher
from .evaluation.outcome import Outcome
from .explanation.decision import DECISION_FORMAT_VERSION, Decision, Finding, ItemDecision, Rationale, WhatIf, assembled
from .explanation.findings import worded, wording
from .explanation.items import decide_item
from .explanation.rationale import guideline_for
from .explanation.trace import Trace, explain
from .packs.loading import bundled_pack_dirs, load_pack
from .packs.model import PackRef, RulePack
from .packs.overrides import override_pack
from .protocols import BatchRunner, DecisionRecorder
from .vocabulary import NOT_SPECIFIED

if TYPE_CHECKING:  # the type a batch yields: integration.batch, which sits above the engine
    from .integration.batch import BatchResult

_batch_runner: BatchRunner | None = None


def install_batch_runner(runner: BatchRunner) -> None:
    """Make `Engine.evaluate_many` run batches with `runner` (integration.batch.evaluate_many)."""
    global _batch_runner
    _batch_runner = runner


class Engine:
    """Decides treatment requests against one or more rule packs.

    >>> engine = Engine()                      # the bundled packs
    >>> decision = engine.evaluate(case)       # a Case or a plain dict
    >>> decision.items[0].outcome
    <Outcome.UPHELD: 'upheld'>

    `packs` are pack folders or loaded packs (one, or several), an overlay
    alone standing for its effective pack. Packs are compiled once, here. `evaluate` keeps no case data between calls
    and is safe to call from several threads. Packs given together must not be
    in force on the same day: the request date picks the pack.

    `cache_size` bounds a memo of engine answers per distinct set of facts the
    rules read (not per case); 0 asks the engine for every facet. With a
    `decision_log`, every decision is also recorded there for audit.

    `backend` picks the matcher: "durable_rules" (the default wherever it
    imports) or "python" (pure Python, the same answers; the default where
    durable_rules does not import, e.g. Python 3.13). The environment variable
    MTUS_RULES_BACKEND sets it when the argument is not given; each decision
    names the backend that decided it.
    """

    def __init__(
        self,
        packs: Iterable[RulePack | str | Path] | RulePack | str | Path | None = None,
        *,
        cache_size: int = 4096,
        decision_log: DecisionRecorder | None = None,
        backend: str | None = None,
    ):
        if isinstance(packs, (RulePack, str, Path)):  # one pack, e.g. an overlay folder alone
            packs = [packs]
        loaded = [p if isinstance(p, RulePack) else load_pack(p) for p in (packs if packs is not None else bundled_pack_dirs())]
        if not loaded:
            raise RulePackError([Problem(message="no rule packs given")])
        _check_no_overlap(loaded)
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self.cache_size = cache_size
        self.decision_log = decision_log
        self.backend = _backends.resolve(backend)
        make = _backends.factory(self.backend)
        self._packs = [compile_for_matcher(pack, cache_size, make, worded, guideline_for(pack), wording) for pack in loaded]
        # Each pack's period as plain dates, looked up for every case.
        self._periods = [(c.pack.effective.start, c.pack.effective.end or _dt.date.max, c) for c in self._packs]

    @property
    def packs(self) -> list[RulePack]:
        return [c.pack for c in self._packs]

    @property
    def pack_refs(self) -> list[PackRef]:
        """Name, version and content hash of each pack, as decisions cite them."""
        return [c.ref for c in self._packs]

    def pack_for(self, day: _dt.date) -> RulePack | None:
        compiled = self._compiled_for(day)
        return compiled.pack if compiled else None

    def _compiled_for(self, day: _dt.date) -> CompiledPack | None:
        # As pack.effective.contains(day), for each pack in turn.
        for start, end, compiled in self._periods:
            if start <= day <= end:
                return compiled
        return None

    def evaluate(self, case: Case | Mapping[str, Any], *, what_if: bool = False) -> Decision:
        """Decide every requested item of `case`. Raises CaseError on invalid input.

        With `what_if=True` each item also carries what the rules would support:
        the most visits supported, and for an upheld item the changes that would
        make it medically necessary. That re-decides the item several times, so
        it is off unless asked for."""
        case = parse_case(case)
        try:
            decision = self._decide(case, what_if)
        except BaseException:
            # Interrupted (a signal handler's exception, Ctrl-C) or failed part
            # way: the engine sessions recover by themselves (_durable), and
            # nothing this evaluation memoised is kept.
            for compiled in self._packs:
                compiled.forget()
            raise
        if self.decision_log is not None:
            self.decision_log.record(case, decision)
        return decision

    def _decide(self, case: Case, what_if: bool) -> Decision:
        compiled = self._compiled_for(case.request_date)
        if compiled is None:
            return self._outside_period(case, what_if)
        day = case.request_date.toordinal()
        # Derived facts no rule of these items reads are not worked out; the
        # what-if search varies facts, so it gets all of them as before.
        match = compiled.match
        matched = [(facet, match(facet, day)) for facet in facets(case, None if what_if else compiled.needs(case))]
        count = len(case.requested_items)
        if len(matched) == count:  # one region per item, in item order: the usual case
            by_item = [[pair] for pair in matched]
        else:
            by_item = [[] for _ in range(count)]
            for pair in matched:
                by_item[pair[0].item_index].append(pair)
        items = [decide_item(case, index, by_item[index], compiled, day, what_if) for index in range(count)]
        # Every value is already as validation would leave it (a validated
        # case's own fields, the engine's models): see explanation.decision.assembled.
        return assembled(
            Decision,
            {
                "format_version": DECISION_FORMAT_VERSION,
                "case_id": case.case_id,
                "request_date": case.request_date,
                "rule_pack": compiled.ref,
                "library_version": __version__,
                "backend": self.backend,
                "diagnosis_code_sets": case.diagnosis_code_sets,
                "items": items,
            },
        )

    def evaluate_many(
        self, cases: Iterable[Case | Mapping[str, Any]], *, workers: int = 1, what_if: bool = False
    ) -> Iterator[BatchResult]:
        """Decide every case of `cases`, yielding one BatchResult per input, in
        order: a decision, or the problems of a bad row (never dropped, never
        stopping the batch). `workers` > 1 spreads the work over processes;
        input is read through a bounded window, so memory stays flat."""
        if _batch_runner is None:  # only when mtus_rules.integration was never imported
            raise RuntimeError("evaluate_many needs mtus_rules.integration, which installs the batch runner")
        return _batch_runner(self, cases, workers=workers, what_if=what_if)

    def with_overrides(
        self, limits: Mapping[str, int] | None = None, disabled: Iterable[str] = ()
    ) -> Engine:
        """A new engine whose packs have these limits changed (rule id -> number)
        and these rules switched off; no file is edited. Decisions it makes carry
        the overrides in `rule_pack.overrides`."""
        limits = dict(limits or {})
        disabled = list(disabled)
        changed = []
        for pack in self.packs:
            ids = {rule.id for rule in pack.rules}
            mine_limits = {r: v for r, v in limits.items() if r in ids}
            mine_disabled = [r for r in disabled if r in ids]
            changed.append(override_pack(pack, mine_limits, mine_disabled) if mine_limits or mine_disabled else pack)
        everywhere = {rule.id for pack in self.packs for rule in pack.rules}
        missing = [r for r in [*limits, *disabled] if r not in everywhere]
        if missing:
            raise RulePackError([Problem(message=f"no rule '{r}' in any loaded pack") for r in missing])
        return Engine(changed, cache_size=self.cache_size, decision_log=self.decision_log, backend=self.backend)

    def explain(self, case: Case | Mapping[str, Any]) -> Trace:
        """Every rule considered for every item, with the value of each
        condition and why it did or did not decide. Computed in plain Python,
        independently of durable_rules."""
        case = parse_case(case)
        compiled = self._compiled_for(case.request_date)
        return explain(case, compiled.pack if compiled else None, compiled.ref if compiled else None)

    def _outside_period(self, case: Case, what_if: bool) -> Decision:
        periods = "; ".join(f"{c.pack.name} {c.pack.version}: {c.pack.effective}" for c in self._packs)
        text = (
            f"The request date {case.request_date} is outside the period of every loaded rule pack ({periods}); "
            "no rule in force on that date is available, so none is applied."
        )
        items = []
        for index, item in enumerate(case.requested_items):
            regions = [str(r) for r in item.body_regions] if item.body_regions != NOT_SPECIFIED else [NOT_SPECIFIED]
            items.append(
                ItemDecision(
                    index=index,
                    description=item.description,
                    treatment=item.treatment,
                    body_regions=regions,
                    outcome=Outcome.NO_APPLICABLE_GUIDELINE,
                    rules=[],
                    findings=[Finding(kind="note", text=text)],
                    citations=[],
                    rationale=Rationale(
                        guideline="No guideline rule in force on the request date is loaded.",
                        case=text,
                        conclusion=f"The request for {item.description} cannot be decided from these rules.",
                    ),
                    what_if=WhatIf(supported_visits=0, alternatives=[]) if what_if else None,
                )
            )
        return Decision(
            case_id=case.case_id,
            request_date=case.request_date,
            rule_pack=None,
            library_version=__version__,
            backend=self.backend,
            diagnosis_code_sets=case.diagnosis_code_sets,
            items=items,
        )


def _check_no_overlap(packs: list[RulePack]) -> None:
    problems = []
    for i, a in enumerate(packs):
        for b in packs[i + 1 :]:
            a_end = a.effective.end or _dt.date.max
            b_end = b.effective.end or _dt.date.max
            if a.effective.start <= b_end and b.effective.start <= a_end:
                problems.append(
                    Problem(
                        message=f"packs {a.name} {a.version} ({a.effective}) and {b.name} {b.version} "
                        f"({b.effective}) are both in force on some days; give them to separate engines"
                    )
                )
    if problems:
        raise RulePackError(problems)
