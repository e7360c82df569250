"""Batches that lose nothing: one result per input row, in order.

A bad row gets a result carrying its problems; it never stops the batch or
drops a row. Whatever goes wrong inside one row (reading it, validating it,
deciding it, passing it to or from a worker process) becomes that row's
problems, and every other row is still decided. Work can be spread over worker
processes (the engine holds the GIL, so threads add nothing); rows are handed
out through a bounded window, so memory does not grow with the size of the input.

A worker process that dies (killed, out of memory, or a row whose unpickling
ends the process) takes only its own chunk with it (`_pool` says why each
worker has a pipe of its own): that chunk is decided again row by row on a
fresh worker, and a row whose worker dies twice is reported ("the worker
process deciding this row died"), so no row is lost and the other workers go
on. If workers die many times in a row without deciding anything (for example
a pool that cannot start), the batch stops with a `PoolError` (a
`RuntimeError`) rather than retrying for ever; the rows already yielded stand.

`decide_jsonl` is the `mtus-rules batch` path: the calling process only reads
raw lines and writes finished blocks; the workers parse, decide and encode
(`result_line`, the one definition of an output line; `decide_line` gives it
for one row). `resume_point` and `check_same_decisions` let an interrupted
output be continued after its last whole line, and refuse one that this input
and these options would not have produced.

Reading and writing JSON Lines is `jsonl`'s job; its names stay importable
from here.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import pickle
import re
import signal
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from ..case.model import Case
from ..case.reading import case_from_json, parse_case
from ..errors import MtusRulesError, Problem
from ..explanation.decision import Decision, decision_json
from ._pool import Lost, Pool
from .jsonl import (
    OUTPUT_MODE,
    UNWRITABLE,
    JsonlWriter,
    UnreadableRow,
    WriteError,
    create_private,
    encode_line,
    parse_line,
    parse_row,
    read_jsonl,
    signal_behind,
    small_line,
    stop,
)

__all__ = [
    "LOG_LOCATION",
    "Block",
    "ResumeError",
    "Resumed",
    "OUTPUT_MODE",
    "BatchResult",
    "JsonlWriter",
    "UnreadableRow",
    "WriteError",
    "create_private",
    "check_same_decisions",
    "decide_jsonl",
    "decide_line",
    "decide_row",
    "encode_line",
    "evaluate_many",
    "read_jsonl",
    "resume_point",
    "stop",
    "tally",
]

if TYPE_CHECKING:
    from ..engine import Engine
    from ..packs.model import RulePack


class BatchResult(BaseModel):
    """The outcome of one input row: a decision, or the problems that stopped it."""

    model_config = ConfigDict(frozen=True)

    row: int
    decision: Decision | None = None
    problems: list[Problem] | None = None

    @property
    def ok(self) -> bool:
        return self.decision is not None


def _failed(row: int, message: str, location: str = "") -> BatchResult:
    return BatchResult(row=row, problems=[Problem(location=location, message=message)])


#: The location of a row's problem when its decision was made but the decision
#: log could not record it: the CLI ends such a batch with the status of an
#: output that could not be written, since the audit trail has a gap.
LOG_LOCATION = "decision log"


logger = logging.getLogger("mtus_rules.batch")


def _internal(row: int, exc: BaseException) -> BatchResult:
    # The result names only the exception's type (its text may quote the row's
    # data, and results go to whoever sent the rows); the operator's log keeps
    # the whole traceback, without which the defect cannot be found.
    logger.error("internal error while deciding batch row %d", row, exc_info=exc)
    return _failed(row, f"internal error ({type(exc).__name__}) while deciding this row; the other rows are not affected")


def decide_row(engine: Engine, row: int, data: Any, what_if: bool, *, checked: bool = False) -> BatchResult:
    """`data`'s result; `checked`: it is already held to the input limits (jsonl.parse_row)."""
    try:
        if isinstance(data, UnreadableRow):
            raise MtusRulesError([Problem(message=str(data))])
        if not isinstance(data, (Case, Mapping)):
            raise MtusRulesError([Problem(message=f"a case must be a mapping of fields, got {type(data).__name__}")])
        if checked and isinstance(data, dict):
            data = parse_case(data, checked=True)
        return BatchResult(row=row, decision=engine.evaluate(data, what_if=what_if))
    except MtusRulesError as exc:
        return BatchResult(row=row, problems=exc.problems)
    except RecursionError:
        return _failed(row, "the case is nested too deeply to read")
    except OSError as exc:  # deciding does no I/O; recording the decision in the log does
        return _failed(
            row, f"decided, but the decision log could not record it ({exc.strerror or type(exc).__name__})", LOG_LOCATION
        )
    except Exception as exc:  # a defect in the library, or a hostile object: report it on the row, keep going
        signalled = signal_behind(exc)
        if signalled is not None:  # Ctrl-C or SIGTERM, wrapped by a library: not the row's fault
            raise signalled from exc
        return _internal(row, exc)


def result_line(result: BatchResult, line: int | None) -> tuple[bytes, bool]:
    """`result` as the line `mtus-rules batch` writes for it (with its newline),
    and whether it was written as given (False: a short error record instead).

    Compact JSON, as the service's batch endpoint writes it. A decision is
    written by pydantic's serializer straight into its envelope: dumping it to
    a dict and encoding that again took twice as long."""
    head = f'{{"row":{result.row:d}' if line is None else f'{{"row":{result.row:d},"line":{line:d}'
    try:
        if result.decision is not None:
            return f'{head},"decision":{decision_json(result.decision)}}}\n'.encode("utf-8"), True
        problems = [p.model_dump(mode="json", exclude_none=True) for p in result.problems or []]
        return _line(head, problems), True
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError) as exc:
        signalled = signal_behind(exc)
        if signalled is not None:  # Ctrl-C or SIGTERM inside pydantic's serializer: a stop, not a bad row
            raise signalled from exc
        return _line(head, [{"message": UNWRITABLE}]), False


def _line(head: str, problems: list[dict[str, Any]]) -> bytes:
    return f'{head},"problems":{encode_line(problems).decode("utf-8")[:-1]}}}\n'.encode("utf-8")


def decide_line(engine: Engine, row: int, data: Any, *, line: int | None = None, what_if: bool = False) -> str:
    """Decide one row into the JSON text `mtus-rules batch` writes for it, without
    the newline: `{"row": row, "line": line, "decision": ...}`, or `"problems"`
    in place of `"decision"` when the row could not be decided ("line", the
    input file's line number, only when given). Never raises for a bad row."""
    return result_line(decide_row(engine, row, data, what_if), line)[0].decode("utf-8")[:-1]


# -- worker processes --------------------------------------------------------------

_worker_engine: Engine | None = None


def _start_worker(packs: list[RulePack], cache_size: int, backend: str) -> None:
    global _worker_engine
    from ..engine import Engine

    # Ctrl-C reaches the whole process group; the parent decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_engine = Engine(packs, cache_size=cache_size, backend=backend)


def _decide_chunk(rows: list[tuple[int, bytes]], *, what_if: bool) -> list[BatchResult]:
    assert _worker_engine is not None
    out = []
    for row, payload in rows:
        try:
            data = pickle.loads(payload)
        except BaseException as exc:  # noqa: BLE001 - any failure here belongs to this row alone
            out.append(_failed(row, f"the row could not be passed to a worker process ({type(exc).__name__})"))
            continue
        try:
            out.append(decide_row(_worker_engine, row, data, what_if))
        except BaseException as exc:  # noqa: BLE001 - the worker ignores SIGINT, so this came from the row itself
            out.append(_internal(row, exc))
    return out


# A chunk is the rows of one task: (row, the input, its pickle or the result
# that already says why it could not be pickled).
_Chunk = list[tuple[int, Any, "bytes | BatchResult"]]


def _pickled(row: int, data: Any) -> bytes | BatchResult:
    try:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except RecursionError:
        return _failed(row, "the case is nested too deeply to pass to a worker process")
    except Exception as exc:  # unpicklable (a lambda, an open file, ...): this row's problem only
        return _failed(row, f"the row cannot be passed to a worker process ({type(exc).__name__})")


def _to_send(chunk: _Chunk) -> list[tuple[int, bytes]]:
    return [(row, payload) for row, _, payload in chunk if isinstance(payload, bytes)]


def _rows_of(chunk: _Chunk) -> list[_Chunk]:
    # A chunk whose worker died is decided again row by row, so that only a
    # row that kills its worker is reported, and every other row is decided.
    return [[item] for item in chunk]


def _results(chunk: _Chunk, outcome: Any) -> list[BatchResult]:
    """The chunk's results in row order: the workers' and the ones made here."""
    made = {row: payload for row, _, payload in chunk if isinstance(payload, BatchResult)}
    if isinstance(outcome, Lost):
        return [made.get(row) or _failed(row, outcome.reason) for row, _, _ in chunk]
    by_row = {r.row: r for r in outcome}
    return [made.get(row) or by_row[row] for row, _, _ in chunk]


def _log(engine: Engine, chunk: _Chunk, results: list[BatchResult]) -> list[BatchResult]:
    log = engine.decision_log  # the workers' engines have none: decisions are recorded here
    if log is None:
        return results
    out = []
    for (_, data, _), result in zip(chunk, results, strict=True):
        if result.decision is not None:
            try:
                log.record(parse_case(data), result.decision)
            except Exception as exc:
                result = _failed(
                    result.row, f"decided, but the decision log could not record it ({type(exc).__name__})", LOG_LOCATION
                )
        out.append(result)
    return out


def evaluate_many(
    engine: Engine,
    cases: Iterable[Any],
    *,
    workers: int = 1,
    what_if: bool = False,
    chunk_size: int = 256,
) -> Generator[BatchResult, None, None]:
    """One BatchResult per item of `cases`, in order (see the module docstring).

    In the calling process, KeyboardInterrupt and SystemExit are not a row's
    problem: they cannot be told from Ctrl-C or an exit the caller asked for,
    so they stop the batch (the results already yielded stand). In a worker
    process, which ignores Ctrl-C, any exception at all is the row's problem.
    """
    if workers < 1:
        raise ValueError("workers must be >= 1")
    if workers == 1:
        for row, data in enumerate(cases):
            yield decide_row(engine, row, data, what_if)
        return
    keep_data = engine.decision_log is not None
    chunks = (
        [(row, data if keep_data else None, _pickled(row, data)) for row, data in batch]
        for batch in _batched(enumerate(cases), chunk_size)
    )
    pool = Pool(workers, _start_worker, (engine.packs, engine.cache_size, engine.backend))
    # Chunks in flight or waiting to be yielded: enough to keep workers busy, bounded.
    outcomes = pool.imap(
        functools.partial(_decide_chunk, what_if=what_if), chunks, payload=_to_send, split=_rows_of, window=workers * 4
    )
    try:
        for chunk, outcome in outcomes:
            yield from _log(engine, chunk, _results(chunk, outcome))
    finally:
        # Interrupted (Ctrl-C, the caller stopped reading): the pool lets its
        # workers go at once, without waiting for work nobody will read.
        outcomes.close()


def _batched(items: Iterator[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    while batch := list(itertools.islice(items, size)):
        yield batch


# -- JSON Lines in, output lines out: the `mtus-rules batch` path -------------------
#
# The parent process only reads lines, hands them out in chunks and writes what
# comes back: each worker parses, decides and encodes its chunk's rows into
# finished output lines, so the work that grows with a row is spread over the
# workers instead of queuing behind one process.


@dataclass(frozen=True)
class Block:
    """The output lines of consecutive input rows, ready to write as they are."""

    data: bytes
    rows: int
    bad: int  # rows whose line carries problems instead of a decision
    unlogged: int  # of those, decided rows the decision log could not record
    last_line: int  # the input line of the last row


# (row, input line number, the line's bytes or why it could not be read)
_Line = tuple[int, int, "bytes | UnreadableRow"]


def _block(rows: Iterable[tuple[int, BatchResult]]) -> Block:
    parts: list[bytes] = []
    bad = unlogged = count = last = 0
    for line, result in rows:
        data, as_given = result_line(result, line)
        parts.append(data)
        count += 1
        last = line
        if result.decision is None:
            bad += 1
            unlogged += any(p.location == LOG_LOCATION for p in result.problems or [])
        elif not as_given:
            bad += 1
    return Block(b"".join(parts), count, bad, unlogged, last)


def _decided(engine: Engine, chunk: list[_Line], what_if: bool) -> Iterator[tuple[int, BatchResult]]:
    for row, number, line in chunk:
        try:
            # Most rows are a plain valid case in a small line: read in one step.
            case = case_from_json(line) if small_line(line) else None
            data, checked = (case, True) if case is not None else parse_row(number, line)
        except Exception as exc:  # parsed JSON holds no hostile objects: a defect, on this row alone
            yield number, _internal(row, exc)
            continue
        yield number, decide_row(engine, row, data, what_if, checked=checked)


def _decide_lines(chunk: list[_Line], *, what_if: bool) -> Block:
    assert _worker_engine is not None
    return _block(_decided(_worker_engine, chunk, what_if))


def _lost_block(chunk: list[_Line], lost: Lost) -> Block:
    return _block((number, _failed(row, lost.reason)) for row, number, _ in chunk)


def decide_jsonl(
    engine: Engine,
    lines: Iterable[tuple[int, bytes | UnreadableRow]],
    *,
    workers: int = 1,
    what_if: bool = False,
    first_row: int = 0,
    chunk_size: int = 256,
) -> Generator[Block, None, None]:
    """The output lines for `lines` ((line number, bytes), as `jsonl.read_lines`
    gives them), in input order, a block at a time; rows are numbered from
    `first_row`. Every row gets exactly one line, whatever happens to it (see
    the module docstring); memory is bounded by the chunks in flight."""
    if workers < 1:
        raise ValueError("workers must be >= 1")
    chunks = (
        [(row, number, line) for row, (number, line) in batch]
        for batch in _batched(enumerate(lines, first_row), chunk_size)
    )
    if workers == 1:
        for chunk in chunks:
            yield _block(_decided(engine, chunk, what_if))
        return
    if engine.decision_log is not None:
        # The log is written here, in row order, as `evaluate_many` does: the
        # workers decide, this process encodes and records.
        yield from _logged_blocks(engine, chunks, workers, what_if, chunk_size)
        return
    pool = Pool(workers, _start_worker, (engine.packs, engine.cache_size, engine.backend))
    outcomes = pool.imap(
        functools.partial(_decide_lines, what_if=what_if), chunks, payload=lambda chunk: chunk, split=_rows_of,
        window=workers * 4,
    )
    try:
        for chunk, outcome in outcomes:
            yield _lost_block(chunk, outcome) if isinstance(outcome, Lost) else outcome
    finally:
        outcomes.close()


def _logged_blocks(
    engine: Engine, chunks: Iterator[list[_Line]], workers: int, what_if: bool, chunk_size: int
) -> Iterator[Block]:
    taken: deque[tuple[int, int]] = deque()  # (row, input line) taken and not yet yielded

    def cases() -> Iterator[Any]:
        for chunk in chunks:
            for row, number, line in chunk:
                taken.append((row, number))
                yield parse_line(number, line)

    def numbered(result: BatchResult) -> tuple[int, BatchResult]:
        row, number = taken.popleft()  # evaluate_many counts from 0; a resumed batch does not
        return number, result if result.row == row else result.model_copy(update={"row": row})

    results = evaluate_many(engine, cases(), workers=workers, what_if=what_if, chunk_size=chunk_size)
    try:
        for batch in _batched((numbered(result) for result in results), chunk_size):
            yield _block(batch)
    finally:
        results.close()


# -- resuming ----------------------------------------------------------------------

# How every line `mtus-rules batch` writes begins (result_line, with a line number).
# Lines are compact JSON. An output written by an earlier build, with a space
# after each separator, is still read (and then refused by
# check_same_decisions: its bytes differ from what this build writes).
_ENVELOPE = re.compile(rb'\{"row": ?(\d+), ?"line": ?(\d+), ?"(decision|problems)": ?')


class ResumeError(MtusRulesError):
    """The output of an earlier run cannot be continued from this input."""

    kind = "output to resume"


@dataclass(frozen=True)
class Resumed:
    """Where an interrupted batch's output ends: its whole lines, and what they hold."""

    rows: int = 0
    bad: int = 0
    unlogged: int = 0
    size: int = 0  # bytes of whole lines; anything after them is a line cut short
    last_line: int = 0  # the input line of the last row written
    last_written: bytes = b""  # the last whole line, as written
    last_input: bytes | UnreadableRow = b""  # the input line it was decided from


_UNLOGGED = re.compile(rb'"location": ?"' + re.escape(LOG_LOCATION.encode()) + rb'"')


def _count(text: bytes, match: re.Match[bytes]) -> tuple[int, int]:
    """(bad, unlogged) for one output line."""
    if match[3] != b"problems":
        return 0, 0
    return 1, int(_UNLOGGED.search(text) is not None)


def tally(data: bytes, rows: int) -> Resumed:
    """What the first `rows` lines of `data` (output lines) hold."""
    bad = unlogged = last_line = size = 0
    for text in data.splitlines(keepends=True)[:rows]:
        match = _ENVELOPE.match(text)
        if match is not None:
            one, log = _count(text, match)
            bad, unlogged, last_line = bad + one, unlogged + log, int(match[2])
        size += len(text)
    return Resumed(rows, bad, unlogged, size, last_line)


def _mismatch(output: Path, number: int, message: str) -> ResumeError:
    return ResumeError([Problem(file=str(output), line=number, message=message)])


def resume_point(output: Path, lines: Iterator[tuple[int, bytes | UnreadableRow]]) -> Resumed:
    """Check the output of an interrupted batch against its input and say where
    to go on: `lines` (from `jsonl.read_lines` on the input) is advanced past
    the rows the output already holds.

    Each whole line of the output must be the result of the next input row:
    row numbers from 0 with no gap, each naming the input line that row is on,
    and the last one the same case id as that input row. A last line without
    its newline was cut short by the crash and is dropped (written again).
    Anything else raises ResumeError naming the output's line: an output
    written from other input, or edited, is not continued.
    """
    rows = bad = unlogged = size = last_line = 0
    last = b""
    last_source: tuple[int, bytes | UnreadableRow] = (0, b"")
    try:
        stream = output.open("rb")
    except FileNotFoundError:
        return Resumed()
    with stream:
        for number, text in enumerate(iter(stream.readline, b""), 1):
            if not text.endswith(b"\n"):
                break  # cut short: written again
            match = _ENVELOPE.match(text)
            if match is None:
                raise _mismatch(output, number, "not a result line of mtus-rules batch; the output cannot be continued")
            row, line = int(match[1]), int(match[2])
            if row != rows:
                raise _mismatch(output, number, f"row {row} where row {rows} was expected; the output cannot be continued")
            source = next(lines, None)
            if source is None:
                raise _mismatch(output, number, f"row {row} is past the end of the input ({rows:,} rows); not this input's output")
            if source[0] != line:
                raise _mismatch(
                    output, number,
                    f"row {row} was read from input line {line}, but this input's row {row} is on line {source[0]}; "
                    "not this input's output",
                )
            one, log = _count(text, match)
            bad, unlogged = bad + one, unlogged + log
            rows, size, last_line, last = rows + 1, size + len(text), line, text
            last_source = source
    if rows:
        _check_same_case(output, rows, last, last_source)
    return Resumed(rows, bad, unlogged, size, last_line, last, last_source[1])


def check_same_decisions(engine: Engine, output: Path, done: Resumed, what_if: bool) -> None:
    """The last row written is what `engine` decides for its input line, byte for
    byte: the output was written with the same packs, options and version.
    Decisions are deterministic, so any difference means the rest would not be
    decided as the start was; raises ResumeError."""
    if not done.rows or engine.decision_log is not None:  # deciding again would log the row twice
        return
    row = done.rows - 1
    again = result_line(decide_row(engine, row, parse_line(done.last_line, done.last_input), what_if), done.last_line)[0]
    if again != done.last_written:
        raise _mismatch(
            output, done.rows,
            f"row {row} is not what these options decide for input line {done.last_line} (written with other "
            "--rules, --limit, --disable, --what-if or another version); not continued",
        )


def _check_same_case(output: Path, rows: int, text: bytes, source: tuple[int, bytes | UnreadableRow]) -> None:
    """The last row written is the input's row: the same case id, when both have one."""
    try:
        written = json.loads(text)
    except ValueError:
        raise _mismatch(output, rows, "not a whole JSON line; the output cannot be continued") from None
    data = parse_line(*source)
    given = data.get("case_id") if isinstance(data, dict) else None
    decided = (written.get("decision") or {}).get("case_id")
    if given is not None and decided is not None and given != decided:
        raise _mismatch(
            output, rows,
            f"row {rows - 1} has another case id than this input's row {rows - 1}; not this input's output",
        )
