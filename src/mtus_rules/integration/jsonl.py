"""JSON Lines in and out, a line at a time, so nothing is lost.

Lines are read as bytes and each is decoded on its own (`read_jsonl`): an
invalid UTF-8 byte, a line that is not JSON, a line over the size limit or a
number too long to convert is the problem of that row only. `JsonlWriter`
writes one complete line per record, flushed, and never leaves a partial last
line behind; the batch output and the decision log both go through it.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TypeGuard

from ..yamlio import DEFAULT_LIMITS, InputLimits


class UnreadableRow(str):
    """A row that could not be read at all (e.g. a line that is not JSON); the
    text says why, and the row is reported like any bad case."""



def _checked_int(limits: InputLimits) -> Any:
    def parse_int(text: str) -> int:
        if len(text.lstrip("-")) > limits.max_int_digits:
            raise ValueError(f"an integer longer than {limits.max_int_digits} digits (input limit max_int_digits)")
        return int(text)

    return parse_int


_DEFAULT_PARSE_INT = _checked_int(DEFAULT_LIMITS)


def read_lines(stream: IO[bytes], limits: InputLimits = DEFAULT_LIMITS) -> Iterator[tuple[int, bytes | UnreadableRow]]:
    """(line number, the line's bytes) for each row of JSON Lines, lazily and
    without parsing (`parse_line` does that, wherever the row is decided). A
    line over the size limit is skipped without being held and comes out as an
    UnreadableRow; lines of ASCII whitespace only are not rows."""
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
        yield number, line


def parse_line(number: int, line: bytes | UnreadableRow, limits: InputLimits = DEFAULT_LIMITS) -> Any:
    """The value of one line of JSON Lines (`number` is its line in the file), or
    an UnreadableRow saying why there is none: invalid UTF-8, not JSON, too
    deep, a number too long."""
    if isinstance(line, UnreadableRow):
        return line
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return UnreadableRow(f"line {number}: not UTF-8 text ({exc.reason} at byte {exc.start + 1})")
    try:
        return json.loads(text, parse_int=_DEFAULT_PARSE_INT if limits is DEFAULT_LIMITS else _checked_int(limits))
    except json.JSONDecodeError as exc:
        return UnreadableRow(f"line {number}: invalid JSON: {exc.msg} (column {exc.colno})")
    except RecursionError:
        return UnreadableRow(f"line {number}: nested more than {limits.max_depth} levels deep (input limit max_depth)")
    except ValueError as exc:
        return UnreadableRow(f"line {number}: {exc}")


def parse_row(number: int, line: bytes | UnreadableRow, limits: InputLimits = DEFAULT_LIMITS) -> tuple[Any, bool]:
    """`parse_line`, and whether the line is too small to break any of `limits`
    (`parse_case(..., checked=True)` may then skip walking the value). Most
    rows are: a line no longer than the longest text or the most values
    allowed, with fewer brackets than the deepest nesting, no integer longer
    than allowed and no escaped surrogate. Walking a row's value to check it
    took a tenth of deciding it."""
    if not small_line(line, limits):
        return parse_line(number, line, limits), False
    try:
        return json.loads(line.decode("utf-8")), True
    except (UnicodeDecodeError, ValueError, RecursionError):  # worded by parse_line
        return parse_line(number, line, limits), False


def small_line(line: bytes | UnreadableRow, limits: InputLimits = DEFAULT_LIMITS) -> TypeGuard[bytes]:
    """Whether `line` was read and is too small to break any of `limits` (see parse_row)."""
    return (
        not isinstance(line, UnreadableRow)
        and len(line) <= limits.max_string
        and len(line) <= limits.max_values
        and line.count(b"{") + line.count(b"[") < limits.max_depth
        # A run of digits longer than an integer may be (in a text too: then the walk decides).
        and b"0" * (limits.max_int_digits + 1) not in line.translate(_DIGITS_AS_ZERO)
        # An escape that could make a lone surrogate (U+D800 to U+DFFF).
        and (b"\\u" not in line or _SURROGATE_ESCAPE.search(line) is None)
    )


# Plain byte scans: a regular expression over the whole line took a tenth of deciding it.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


#: Written in place of a result that cannot be written as JSON (text that is not
#: valid Unicode), so that the row still has its line: by `batch`, the decision
#: log and the service's batch endpoint alike.
UNWRITABLE = "the result could not be written as JSON"


def read_jsonl(stream: IO[bytes], limits: InputLimits = DEFAULT_LIMITS) -> Iterator[tuple[int, Any]]:
    """(line number, case) from JSON Lines read as bytes, lazily. Each line is
    decoded and parsed on its own; a line that cannot be becomes an
    UnreadableRow saying why (invalid UTF-8, not JSON, too long, too deep, a
    number too long), reported on its row like any bad case. Lines of ASCII
    whitespace only are skipped."""
    for number, line in read_lines(stream, limits):
        yield number, parse_line(number, line, limits)


def count_lines(path: Path, block: int = 1 << 20) -> int:
    """How many lines `path` has (a last line without a newline counts), read
    in blocks without decoding: a progress bar's total, for a fraction of the
    time deciding them takes."""
    count, last = 0, b"\n"
    with path.open("rb") as stream:
        while data := stream.read(block):
            count += data.count(b"\n")
            last = data[-1:]
    return count + (last != b"\n")


class _Held:
    """Whether a line is being written, and the stop signal that waited for it."""

    depth = 0
    deferred: BaseException | None = None
    received: BaseException | None = None  # the last stop signal, raised or waiting
    pending: BaseException | None = None  # the last stop signal, until a checkpoint has seen it


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold back the stop signals that go through `stop` until the block ends."""
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
    _Held.received = _Held.pending = exc
    if _Held.depth:
        _Held.deferred = exc
        return
    raise exc


def raise_pending() -> None:
    """Raise the stop signal received since the last call, if any, unless a line
    is being written. A signal handler's exception raised inside a finalizer
    (an object's __del__, a generator being closed, a weakref callback) is
    printed as "Exception ignored" and dropped by the interpreter: without
    this check between blocks, a batch stopped there would run on to the end
    and exit 0 (tests/integration/test_signal_in_serializer.py delivers a stop
    there)."""
    exc = _Held.pending
    if exc is not None and not _Held.depth:
        _Held.pending = None
        raise exc


def forget_signals() -> None:
    """Start a command with no stop signal on record (a host program may run
    several commands in one process; an old signal must not colour a new one)."""
    _Held.received = _Held.pending = None


def signal_behind(error: BaseException) -> BaseException | None:
    """The stop signal `error` stands for, if one was received: a Ctrl-C or
    SIGTERM raised inside Python code that a library called from C (pydantic's
    serializers, which run the decision's `decision_id` and the pack reference's
    own serializer) comes back wrapped in that library's error. Without this, a
    Ctrl-C landing there would end the command with a traceback, or be taken
    for a defect of the row being decided."""
    if isinstance(error, (KeyboardInterrupt, SystemExit)) or _Held.received is None:
        return None
    return _Held.received


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
    def resume(cls, path: Path, size: int) -> JsonlWriter:
        """Go on writing `path` after its first `size` bytes (its whole lines);
        anything after them (a line cut short by a crash) is removed."""
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            os.ftruncate(fd, size)
            os.lseek(fd, size, os.SEEK_SET)
        except OSError:
            os.close(fd)
            raise
        return cls(fd)

    @classmethod
    def create_appending(cls, path: Path) -> JsonlWriter:
        return cls(create_private(path, append=True), append=True)

    def _opened(self) -> IO[bytes]:
        # A writer holds a file descriptor or a stream, never neither: the callers
        # ask for the stream on the branch where there is no descriptor.
        assert self._stream is not None
        return self._stream

    def _tell(self) -> int | None:
        try:
            if self._fd is not None:
                return os.fstat(self._fd).st_size if self._append else os.lseek(self._fd, 0, os.SEEK_CUR)
            return self._opened().tell() if self._opened().seekable() else None
        except (OSError, ValueError):
            return None

    def write(self, record: dict[str, Any], *, fallback: dict[str, Any] | None = None) -> bool:
        """Write `record` as one line; False when `fallback` was written instead."""
        as_given = True
        try:
            data = encode_line(record)
        except (UnicodeEncodeError, ValueError, TypeError, RecursionError):
            as_given = False
            data = (json.dumps(fallback or {"problems": [{"message": UNWRITABLE}]}, separators=(",", ":")) + "\n").encode()
        self.write_line(data)
        return as_given

    def write_line(self, data: bytes) -> None:
        """Write one encoded line (ending in a newline), whole or not at all."""
        self.write_lines(data, 1)

    def write_lines(self, data: bytes, count: int) -> None:
        """Write `count` encoded lines (each ending in a newline) at once. When the
        write fails, the lines that were written whole stay (and are counted), the
        line cut short is removed, and WriteError is raised."""
        # Signal handlers that go through `stop` wait until the lines and their count
        # are both done, so the count reported on an interrupt is exact.
        with interrupts_held():
            start = self._tell() if self._append else self._end
            done = 0
            try:
                view = memoryview(data)
                while view:
                    n = os.write(self._fd, view) if self._fd is not None else self._opened().write(view)
                    if n is None:  # a non-blocking stream took nothing
                        raise OSError(errno.EAGAIN, "the output would block")
                    done += n
                    view = view[n:]
                if self._stream is not None:
                    done = 0  # a buffered stream's flush failing says nothing of what reached the file
                    self._stream.flush()
            except OSError as exc:
                whole = data.rfind(b"\n", 0, done) + 1
                if self._cut_back(start, done, whole):
                    self.written += data.count(b"\n", 0, whole)
                    if self._end is not None:
                        self._end += whole
                raise WriteError(exc.errno or errno.EIO, exc.strerror or str(exc)) from exc
            self.written += count
            if self._end is not None:
                self._end += len(data)

    def _cut_back(self, start: int | None, done: int, keep: int) -> bool:
        """Cut the file back to `keep` bytes after `start` (where the failed write
        began, `done` bytes ago); whether it now ends there."""
        # A partial line would be read as a corrupt row (or silently as a short one).
        if start is None:
            return False
        try:
            if self._fd is not None:
                if self._append and os.fstat(self._fd).st_size != start + done:
                    return False  # another process appended meanwhile: its lines stay
                os.ftruncate(self._fd, start + keep)
                if not self._append:
                    os.lseek(self._fd, start + keep, os.SEEK_SET)
            else:
                self._opened().truncate(start + keep)
                self._opened().seek(start + keep)
        except (OSError, ValueError):
            return False
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def encode_line(record: dict[str, Any] | list[Any]) -> bytes:
    """`record` as one line of JSON Lines; raises UnicodeEncodeError, ValueError,
    TypeError or RecursionError when it cannot be written as JSON."""
    return (_ENCODER.encode(record) + "\n").encode("utf-8")


# Compact JSON, as pydantic's model_dump_json writes it (batch lines are made by
# both: batch.result_line), without json.dumps' check for circular references
# (records are built from dumped models, which cannot hold any; a record nested
# too deeply still raises RecursionError) and without an encoder per line.
_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))
