"""Batches that lose nothing: one result per input row, in order.

A bad row gets a result carrying its problems; it never stops the batch or
drops a row. Work can be spread over worker processes (the engine holds the
GIL, so threads add nothing); rows are handed out through a bounded window,
so memory does not grow with the size of the input.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from .case import Case, parse_case
from .decision import Decision
from .errors import MtusRulesError, Problem

if TYPE_CHECKING:
    from .engine import Engine
    from .pack import RulePack


class BatchResult(BaseModel):
    """The outcome of one input row: a decision, or the problems that stopped it."""

    model_config = ConfigDict(frozen=True)

    row: int
    decision: Decision | None = None
    problems: list[Problem] | None = None

    @property
    def ok(self) -> bool:
        return self.decision is not None


class UnreadableRow(str):
    """A row that could not be read at all (e.g. a line that is not JSON); the
    text says why, and the row is reported like any bad case."""


def decide_row(engine: Engine, row: int, data: Any, what_if: bool) -> BatchResult:
    try:
        if isinstance(data, UnreadableRow):
            raise MtusRulesError([Problem(message=str(data))])
        if not isinstance(data, (Case, Mapping)):
            raise MtusRulesError([Problem(message=f"a case must be a mapping of fields, got {type(data).__name__}")])
        return BatchResult(row=row, decision=engine.evaluate(data, what_if=what_if))
    except MtusRulesError as exc:
        return BatchResult(row=row, problems=exc.problems)
    except Exception as exc:  # a defect in the library: report it on the row, keep going
        return BatchResult(row=row, problems=[Problem(message=f"internal error: {type(exc).__name__}: {exc}")])


# -- worker processes --------------------------------------------------------------

_worker_engine: Engine | None = None


def _start_worker(packs: list[RulePack], cache_size: int, backend: str) -> None:
    global _worker_engine
    from .engine import Engine

    _worker_engine = Engine(packs, cache_size=cache_size, backend=backend)


def _decide_chunk(rows: list[tuple[int, Any]], what_if: bool) -> list[BatchResult]:
    assert _worker_engine is not None
    return [decide_row(_worker_engine, row, data, what_if) for row, data in rows]


def evaluate_many(
    engine: Engine,
    cases: Iterable[Any],
    *,
    workers: int = 1,
    what_if: bool = False,
    chunk_size: int = 256,
) -> Iterator[BatchResult]:
    if workers < 1:
        raise ValueError("workers must be >= 1")
    if workers == 1:
        for row, data in enumerate(cases):
            yield decide_row(engine, row, data, what_if)
        return
    rows = enumerate(cases)
    window = workers * 4  # chunks in flight: enough to keep workers busy, bounded
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(engine.packs, engine.cache_size, engine.backend)
    ) as pool:
        pending: deque[tuple[Future, list[tuple[int, Any]]]] = deque()
        log = engine.decision_log  # the workers' engines have none: decisions are recorded here

        def submit() -> bool:
            chunk = list(itertools.islice(rows, chunk_size))
            if chunk:
                pending.append((pool.submit(_decide_chunk, chunk, what_if), chunk if log else []))
            return bool(chunk)

        while len(pending) < window and submit():
            pass
        while pending:
            future, chunk = pending.popleft()
            results = future.result()
            submit()
            if log is not None:
                for (_, data), result in zip(chunk, results, strict=True):
                    if result.decision is not None:
                        log.record(parse_case(data), result.decision)
            yield from results
