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

JSON Lines are read here as bytes, one line at a time, and each line is
decoded on its own (`read_jsonl`), so an invalid UTF-8 byte, a line that is not
JSON, a line over the size limit or a number too long to convert is the
problem of that row only. `JsonlWriter` writes one complete line per result,
flushed, and never leaves a partial last line behind.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import json
import os
import pickle
import signal
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from ..case.model import Case
from ..case.reading import parse_case
from ..errors import MtusRulesError, Problem
from ..explanation.decision import Decision
from ..yamlio import DEFAULT_LIMITS, InputLimits
from ._pool import Lost, Pool

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


class UnreadableRow(str):
    """A row that could not be read at all (e.g. a line that is not JSON); the
    text says why, and the row is reported like any bad case."""


def _failed(row: int, message: str, location: str = "") -> BatchResult:
    return BatchResult(row=row, problems=[Problem(location=location, message=message)])


#: The location of a row's problem when its decision was made but the decision
#: log could not record it: the CLI ends such a batch with the status of an
#: output that could not be written, since the audit trail has a gap.
LOG_LOCATION = "decision log"


def _internal(row: int, exc: BaseException) -> BatchResult:
    # The exception's text may quote the row's data; its type is enough to report a defect.
    return _failed(row, f"internal error ({type(exc).__name__}) while deciding this row; the other rows are not affected")


def decide_row(engine: Engine, row: int, data: Any, what_if: bool) -> BatchResult:
    try:
        if isinstance(data, UnreadableRow):
            raise MtusRulesError([Problem(message=str(data))])
        if not isinstance(data, (Case, Mapping)):
            raise MtusRulesError([Problem(message=f"a case must be a mapping of fields, got {type(data).__name__}")])
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
        return _internal(row, exc)


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
) -> Iterator[BatchResult]:
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


# -- JSON Lines in and out ---------------------------------------------------------


def _checked_int(limits: InputLimits) -> Any:
    def parse_int(text: str) -> int:
        if len(text.lstrip("-")) > limits.max_int_digits:
            raise ValueError(f"an integer longer than {limits.max_int_digits} digits (input limit max_int_digits)")
        return int(text)

    return parse_int


def read_jsonl(stream: IO[bytes], limits: InputLimits = DEFAULT_LIMITS) -> Iterator[tuple[int, Any]]:
    """(line number, case) from JSON Lines read as bytes, lazily. Each line is
    decoded and parsed on its own; a line that cannot be becomes an
    UnreadableRow saying why (invalid UTF-8, not JSON, too long, too deep, a
    number too long), reported on its row like any bad case. Lines of ASCII
    whitespace only are skipped."""
    parse_int = _checked_int(limits)
    for number in itertools.count(1):
        line = stream.readline(limits.max_bytes + 1)
        if not line:
            return
        if len(line) > limits.max_bytes and not line.endswith(b"\n"):
            while True:  # skip the rest of the line without holding it
                rest = stream.readline(1 << 16)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, UnreadableRow(
                f"line {number}: longer than {limits.max_bytes:,} bytes; not read (input limit max_bytes)"
            )
            continue
        if not line.strip():  # ASCII whitespace only; any other character makes it a row
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, UnreadableRow(f"line {number}: not UTF-8 text ({exc.reason} at byte {exc.start + 1})")
            continue
        try:
            yield number, json.loads(text, parse_int=parse_int)
        except json.JSONDecodeError as exc:
            yield number, UnreadableRow(f"line {number}: invalid JSON: {exc.msg} (column {exc.colno})")
        except RecursionError:
            yield number, UnreadableRow(
                f"line {number}: nested more than {limits.max_depth} levels deep (input limit max_depth)"
            )
        except ValueError as exc:
            yield number, UnreadableRow(f"line {number}: {exc}")


class _Held:
    """Whether a line is being written, and the stop signal that waited for it."""

    depth = 0
    deferred: BaseException | None = None


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    _Held.depth += 1
    try:
        yield
    finally:
        _Held.depth -= 1
    if _Held.depth == 0 and _Held.deferred is not None:
        exc, _Held.deferred = _Held.deferred, None
        raise exc


def stop(exc: BaseException) -> None:
    """Raise `exc` (KeyboardInterrupt, or the CLI's SIGTERM exception) from a
    signal handler, unless a line is being written: then it is raised as soon as
    the line and its count are both done, so an interrupted batch's count is
    exactly the lines in its output."""
    if _Held.depth:
        _Held.deferred = exc
        return
    raise exc


class WriteError(OSError):
    """The output could not be written (a full disk, a closed pipe); the rows
    written before it are whole lines."""


#: Output files are created readable by their owner only: results name
#: claimants' treatments. The umask can only narrow this further. An existing
#: file keeps its mode.
OUTPUT_MODE = 0o600


def create_private(path: Path, *, append: bool = False) -> int:
    """Open `path` for writing, created with OUTPUT_MODE; a file descriptor."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC) | getattr(os, "O_CLOEXEC", 0)
    return os.open(path, flags, OUTPUT_MODE)


class JsonlWriter:
    """Writes one JSON object per line, each line complete and flushed before
    the next is started, so a crash or a full disk leaves only whole lines.

    A record that cannot be encoded (text that is not valid Unicode) is written
    as an error record for its row instead. When a write fails, a file is cut
    back to the end of the last whole line and WriteError is raised. `written`
    counts the lines written; the output always holds exactly those.

    A file opened for appending (a decision log several processes may share)
    is cut back only when nobody else wrote to it meanwhile: another writer's
    lines are never removed.
    """

    def __init__(self, target: IO[bytes] | int, *, append: bool = False):
        self._fd = target if isinstance(target, int) else None
        self._stream = None if isinstance(target, int) else target
        self._append = append and self._fd is not None
        self.written = 0
        self._end = self._tell()

    @classmethod
    def create(cls, path: Path) -> JsonlWriter:
        return cls(create_private(path))

    @classmethod
    def create_appending(cls, path: Path) -> JsonlWriter:
        return cls(create_private(path, append=True), append=True)

    def _tell(self) -> int | None:
        try:
            if self._fd is not None:
                return os.fstat(self._fd).st_size if self._append else os.lseek(self._fd, 0, os.SEEK_CUR)
            return self._stream.tell() if self._stream.seekable() else None
        except (OSError, ValueError):
            return None

    def write(self, record: dict[str, Any], *, fallback: dict[str, Any] | None = None) -> bool:
        """Write `record` as one line; False when `fallback` was written instead."""
        as_given = True
        try:
            data = encode_line(record)
        except (UnicodeEncodeError, ValueError, TypeError, RecursionError):
            as_given = False
            data = (json.dumps(fallback or {"problems": [{"message": "the result could not be written as JSON"}]}) + "\n").encode()
        self.write_line(data)
        return as_given

    def write_line(self, data: bytes) -> None:
        """Write one encoded line (ending in a newline), whole or not at all."""
        # Signal handlers that go through `stop` wait until the line and its count
        # are both done, so the count reported on an interrupt is exact.
        with _interrupts_held():
            start = self._tell() if self._append else self._end
            done = 0
            try:
                view = memoryview(data)
                while view:
                    n = os.write(self._fd, view) if self._fd is not None else self._stream.write(view)
                    if n is None:  # a non-blocking stream took nothing
                        raise OSError(errno.EAGAIN, "the output would block")
                    done += n
                    view = view[n:]
                if self._stream is not None:
                    self._stream.flush()
            except OSError as exc:
                self._cut_back(start, done)
                raise WriteError(exc.errno or errno.EIO, exc.strerror or str(exc)) from exc
            self.written += 1
            if self._end is not None:
                self._end += len(data)

    def _cut_back(self, start: int | None, done: int) -> None:
        # A partial line would be read as a corrupt row (or silently as a short one).
        if start is None:
            return
        try:
            if self._fd is not None:
                if self._append and os.fstat(self._fd).st_size != start + done:
                    return  # another process appended meanwhile: its lines stay
                os.ftruncate(self._fd, start)
                if not self._append:
                    os.lseek(self._fd, start, os.SEEK_SET)
            else:
                self._stream.truncate(start)
                self._stream.seek(start)
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def encode_line(record: dict[str, Any]) -> bytes:
    """`record` as one line of JSON Lines; raises UnicodeEncodeError, ValueError,
    TypeError or RecursionError when it cannot be written as JSON."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
