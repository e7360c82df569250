"""The commands of `mtus-rules` that decide cases (evaluate, explain, batch,
compare), and the engine the command-line options ask for. The parser, the
signals and the other commands are in cli.py."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import re
import sys
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast

from .integration.audit import DecisionLog
from .integration._pool import PoolError
from .integration.batch import LOG_LOCATION
from .integration.jsonl import JsonlWriter, WriteError, read_jsonl
from .case.reading import STDIN, load_case
from .engine import Engine
from .errors import MtusRulesError, Problem
from .integration.compare import compare, comparison_text

EXIT_INVALID = 2
EXIT_OUTPUT = 3
EXIT_WORKERS = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(BaseException):
    """SIGTERM arrived; raised like KeyboardInterrupt so the command can stop cleanly."""


def _engine(args: argparse.Namespace, packs: list[Path] | None = None, overrides: bool = True) -> Engine:
    """The engine the arguments ask for; raises MtusRulesError."""
    packs = packs if packs is not None else args.rules
    log_path = getattr(args, "decision_log", None)
    try:
        log = DecisionLog(log_path, include_identifying=args.log_identifying) if log_path else None
    except OSError as exc:
        raise MtusRulesError([Problem(file=str(log_path), location="--decision-log", message=exc.strerror or str(exc))]) from None
    engine = Engine(packs, decision_log=log) if packs else Engine(decision_log=log)
    limits: dict[str, int] = {}
    for text in getattr(args, "limit", []):
        rule, sep, number = text.partition("=")
        # ASCII digits only: str.isdigit() accepts '²', which int() refuses; and a
        # bound on the length keeps the number inside the engine's 64-bit range.
        if not sep or not _LIMIT_NUMBER.fullmatch(number.strip()):
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise MtusRulesError(
                [Problem(location="--limit", message=f"expected RULE=N with N a whole number of at most 18 digits, got {shown!r}")]
            )
        limits[rule.strip()] = int(number)
    disabled = getattr(args, "disable", [])
    if overrides and (limits or disabled):
        engine = engine.with_overrides(limits, disabled)
    return engine


_LIMIT_NUMBER = re.compile(r"[0-9]{1,18}")


class _TextBytes:
    """Bytes written to a text stream that has no binary buffer (a test's StringIO)."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, data: bytes | memoryview) -> int:
        self._stream.write(bytes(data).decode("utf-8"))
        return len(data)

    def flush(self) -> None:
        self._stream.flush()

    def seekable(self) -> bool:
        return False


def _end_progress(progress: bool) -> None:
    if progress:  # end the progress line so the next message starts on its own
        print(file=sys.stderr)


def batch_command(args: argparse.Namespace) -> int:
    try:
        engine = _engine(args)
    except MtusRulesError as exc:
        print(f"mtus-rules: {exc}", file=sys.stderr)
        return EXIT_INVALID
    where = str(args.output) if args.output else "standard output"
    with contextlib.ExitStack() as stack:
        try:
            stream = sys.stdin.buffer if str(args.input) == STDIN else stack.enter_context(args.input.open("rb"))
            if args.output:
                writer = JsonlWriter.create(args.output)
                stack.callback(writer.close)
            else:
                writer = JsonlWriter(cast(IO[bytes], getattr(sys.stdout, "buffer", None) or _TextBytes(sys.stdout)))
        except OSError as exc:
            print(f"mtus-rules: {exc.filename}: {exc.strerror}", file=sys.stderr)
            return EXIT_INVALID
        progress = sys.stderr.isatty()
        lines: deque[int] = deque()  # file lines of the rows in flight, oldest first
        last_line = 0

        def rows() -> Iterator[Any]:
            for number, data in read_jsonl(stream):
                lines.append(number)
                yield data

        failed = unlogged = 0
        results = engine.evaluate_many(rows(), workers=args.workers, what_if=args.what_if)
        stack.callback(getattr(results, "close", lambda: None))  # stop the workers on any way out

        def summary(head: str) -> str:
            through = f" (input lines 1-{last_line:,})" if writer.written else ""
            return f"mtus-rules: {head}: {writer.written:,} rows written to {where}{through}, {failed:,} bad"

        try:
            for result in results:
                line = lines.popleft()
                record: dict[str, Any] = {"row": result.row, "line": line}
                if result.decision is not None:
                    record["decision"] = result.decision.model_dump(mode="json")
                else:
                    failed += 1
                    unlogged += any(p.location == LOG_LOCATION for p in result.problems or [])
                    record["problems"] = [p.model_dump(mode="json", exclude_none=True) for p in result.problems or []]
                unwritable = {"row": result.row, "line": line, "problems": [{"message": "the result could not be written as JSON"}]}
                if not writer.write(record, fallback=unwritable):
                    failed += 1
                last_line = line
                if progress and writer.written % 1000 == 0:
                    print(f"\rmtus-rules: {writer.written:,} rows decided, {failed:,} bad", end="", file=sys.stderr, flush=True)
        except KeyboardInterrupt:
            _end_progress(progress)
            print(summary("interrupted; the rest were not decided"), file=sys.stderr)
            return EXIT_INTERRUPTED
        except Terminated:
            _end_progress(progress)
            print(summary("terminated (SIGTERM); the rest were not decided"), file=sys.stderr)
            return EXIT_TERMINATED
        except WriteError as exc:
            if exc.errno == errno.EPIPE and not args.output:
                raise BrokenPipeError(errno.EPIPE, "broken pipe") from None
            _end_progress(progress)
            print(f"mtus-rules: cannot write {where}: {exc.strerror}", file=sys.stderr)
            print(summary("stopped; the rest were not decided"), file=sys.stderr)
            return EXIT_OUTPUT
        except PoolError as exc:
            _end_progress(progress)
            print(f"mtus-rules: {exc}", file=sys.stderr)
            print(summary("stopped; the rest were not decided"), file=sys.stderr)
            return EXIT_WORKERS
        except OSError as exc:  # reading the input failed (a disk error, a vanished network file)
            _end_progress(progress)
            print(f"mtus-rules: cannot read {args.input}: {exc.strerror or exc}", file=sys.stderr)
            print(summary("stopped; the rest were not decided"), file=sys.stderr)
            return EXIT_INVALID
    if progress and writer.written >= 1000:
        print(file=sys.stderr)
    print(f"mtus-rules: {writer.written:,} rows, {failed:,} bad", file=sys.stderr)
    if unlogged:
        print(f"mtus-rules: the decision log could not record {unlogged:,} decided rows (flagged in the output)", file=sys.stderr)
        return EXIT_OUTPUT
    return EXIT_INVALID if failed else 0


def compare_command(args: argparse.Namespace) -> int:
    try:
        before = _engine(args, overrides=False)
        after = _engine(args, packs=args.against) if args.against else _engine(args)
    except MtusRulesError as exc:
        print(f"mtus-rules: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if not args.against and not (args.limit or args.disable):
        print("mtus-rules: nothing to compare: give --limit, --disable or --against", file=sys.stderr)
        return EXIT_INVALID

    def cases() -> Iterator[Any]:
        for path in args.cases:
            if path.suffix == ".jsonl":
                try:
                    stream = path.open("rb")
                except OSError as exc:
                    print(f"mtus-rules: {path}: {exc.strerror}", file=sys.stderr)
                    yield {"__invalid__": str(path)}
                    continue
                with stream:
                    for _, data in read_jsonl(stream):
                        yield data
            else:
                try:
                    yield load_case(path)
                except MtusRulesError as exc:
                    print(f"mtus-rules: {exc}", file=sys.stderr)
                    yield {"__invalid__": str(path)}

    result = compare(before, after, cases())
    if args.format == "json":
        print(result.model_dump_json(indent=2))
    else:
        print(comparison_text(result))
    return 0


def each_case(args: argparse.Namespace, run: Callable, render: Callable) -> int:
    """Load the engine, then each case file; print results for the valid ones.
    A file that cannot be read or decided is reported and the others are still
    decided and printed."""
    try:
        engine = _engine(args)
    except MtusRulesError as exc:
        print(f"mtus-rules: {exc}", file=sys.stderr)
        return EXIT_INVALID

    results: list[tuple[Path, Any]] = []
    failed = False
    for path in args.cases:
        try:
            results.append((path, run(engine, load_case(path))))
        except MtusRulesError as exc:
            # A case that does not read completely produces no output at all.
            print(f"mtus-rules: {exc}", file=sys.stderr)
            failed = True
        except RecursionError:
            print(f"mtus-rules: {path}: the case is nested too deeply to decide", file=sys.stderr)
            failed = True
        except OSError as exc:  # deciding does no I/O; recording in the decision log does
            print(f"mtus-rules: cannot write the decision log: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_OUTPUT
        except Exception as exc:  # a defect: name it, without the case's data, and go on with the others
            print(f"mtus-rules: {path}: internal error ({type(exc).__name__}); the other files are still decided", file=sys.stderr)
            failed = True

    if not results:  # nothing was decided: nothing on standard output, the problems are on stderr
        return EXIT_INVALID if failed else 0
    try:
        if args.format == "json":
            # The file goes beside what was made, never inside it: a decision is the
            # same shape here as everywhere else (integration.envelopes).
            key = "trace" if args.command == "explain" else "decision"
            out = [{"file": str(path), key: result.model_dump(mode="json")} for path, result in results]
            print(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            print("\n\n".join(render(result, str(path)) for path, result in results))
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        print(f"mtus-rules: cannot write standard output: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_OUTPUT
    return EXIT_INVALID if failed else 0

