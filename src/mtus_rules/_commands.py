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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast

from .integration.audit import DecisionLog, read_key_file
from .integration._pool import PoolError
from .integration.batch import ResumeError, Resumed, check_same_decisions, decide_jsonl, resume_point, tally
from .integration.jsonl import (
    JsonlWriter,
    WriteError,
    count_lines,
    interrupts_held,
    raise_pending,
    read_jsonl,
    read_lines,
    signal_behind,
)
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
    key_file = getattr(args, "audit_key_file", None)
    key = read_key_file(key_file) if key_file and log_path else None
    try:
        log = DecisionLog(log_path, include_identifying=args.log_identifying, mask_key=key) if log_path else None
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


def _show_progress(args: argparse.Namespace) -> bool:
    # A bar on a terminal; in a log file or a pipe it would be noise, unless asked for.
    return args.progress if args.progress is not None else sys.stderr.isatty()


class _NoBar:
    """What the commands call on a progress bar, when none is shown."""

    n = 0

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    @staticmethod
    def write(text: str, file: Any = None) -> None:
        print(text, file=file or sys.stderr)

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _progress_bar(show: bool, total: int | None, initial: int = 0, what: str = "batch") -> Any:
    """A progress bar on stderr (tqdm: total, rate and time left), or one that shows nothing."""
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(
        total=total, initial=initial, unit="row", desc=f"mtus-rules {what}", file=sys.stderr,
        dynamic_ncols=True, mininterval=0.25,
    )


def _lines_total(path: Path, show: bool) -> int | None:
    """The input's line count, for the bar's total: only when a bar is shown, and
    only for a regular file (standard input cannot be read twice)."""
    if not show or str(path) == STDIN or not path.is_file():
        return None
    try:
        return count_lines(path)
    except OSError:
        return None


def batch_command(args: argparse.Namespace) -> int:
    if args.resume and not args.output:
        print("mtus-rules: --resume needs the output file (-o OUT.jsonl) to continue", file=sys.stderr)
        return EXIT_INVALID
    if args.workers < 1:
        print("mtus-rules: --workers: expected a whole number of at least 1", file=sys.stderr)
        return EXIT_INVALID
    where = str(args.output) if args.output else "standard output"
    show = _show_progress(args)
    with contextlib.ExitStack() as stack:
        try:
            stream = sys.stdin.buffer if str(args.input) == STDIN else stack.enter_context(args.input.open("rb"))
            lines = read_lines(stream)
            # Checked before anything is built or opened for writing: an output
            # that cannot be continued is left exactly as it is.
            done = resume_point(args.output, lines) if args.resume else Resumed()
            engine = _engine(args)
            check_same_decisions(engine, args.output, done, args.what_if)
            if args.output:
                resuming = args.resume and args.output.exists()
                writer = JsonlWriter.resume(args.output, done.size) if resuming else JsonlWriter.create(args.output)
                stack.callback(writer.close)
            else:
                writer = JsonlWriter(cast(IO[bytes], getattr(sys.stdout, "buffer", None) or _TextBytes(sys.stdout)))
        except ResumeError as exc:
            print(f"mtus-rules: cannot resume: {exc.problems[0]}", file=sys.stderr)
            return EXIT_INVALID
        except MtusRulesError as exc:
            print(f"mtus-rules: {exc}", file=sys.stderr)
            return EXIT_INVALID
        except OSError as exc:
            print(f"mtus-rules: {exc.filename or args.input}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_INVALID
        if done.rows:
            print(
                f"mtus-rules: resuming after the {done.rows:,} rows already in {where} (input lines 1-{done.last_line:,})",
                file=sys.stderr,
            )
        failed, unlogged, last_line = done.bad, done.unlogged, done.last_line
        bar = _progress_bar(show, _lines_total(args.input, show), initial=last_line)
        stack.callback(bar.close)
        blocks = decide_jsonl(engine, lines, workers=args.workers, what_if=args.what_if, first_row=done.rows)
        stack.callback(blocks.close)  # stop the workers on any way out

        def summary(head: str) -> str:
            bar.close()  # the bar's line ends before the summary starts
            rows = done.rows + writer.written
            through = f" (input lines 1-{last_line:,})" if rows else ""
            again = "; the same command with --resume goes on from there" if args.output else ""
            return f"mtus-rules: {head}: {rows:,} rows written to {where}{through}, {failed:,} bad{again}"

        shown = last_line
        try:
            for block in blocks:
                before = writer.written
                try:
                    # The count, the bad rows and the last line change with the lines
                    # written, so a Ctrl-C that waited for the write reports them exactly.
                    with interrupts_held():
                        writer.write_lines(block.data, block.rows)
                        failed, unlogged, last_line = failed + block.bad, unlogged + block.unlogged, block.last_line
                except WriteError:
                    part = tally(block.data, writer.written - before)
                    failed, unlogged = failed + part.bad, unlogged + part.unlogged
                    last_line = part.last_line or last_line
                    raise
                bar.update(block.last_line - shown)
                shown = block.last_line
                raise_pending()  # a stop whose exception a finalizer swallowed
        except WriteError as exc:
            if exc.errno == errno.EPIPE and not args.output:
                raise BrokenPipeError(errno.EPIPE, "broken pipe") from None
            bar.close()
            print(f"mtus-rules: cannot write {where}: {exc.strerror}", file=sys.stderr)
            print(summary("stopped; the rest were not decided"), file=sys.stderr)
            return EXIT_OUTPUT
        except PoolError as exc:
            bar.close()
            print(f"mtus-rules: {exc}", file=sys.stderr)
            print(summary("stopped; the rest were not decided"), file=sys.stderr)
            return EXIT_WORKERS
        except OSError as exc:  # reading the input failed (a disk error, a vanished network file)
            bar.close()
            print(f"mtus-rules: cannot read {args.input}: {exc.strerror or exc}", file=sys.stderr)
            print(summary("stopped; the rest were not decided"), file=sys.stderr)
            return EXIT_INVALID
        except (KeyboardInterrupt, Terminated, Exception) as exc:
            # A stop signal, raised as itself or wrapped by a library in its own error.
            signalled = exc if isinstance(exc, (KeyboardInterrupt, Terminated)) else signal_behind(exc)
            if isinstance(signalled, KeyboardInterrupt):
                print(summary("interrupted; the rest were not decided"), file=sys.stderr)
                return EXIT_INTERRUPTED
            if isinstance(signalled, Terminated):
                print(summary("terminated (SIGTERM); the rest were not decided"), file=sys.stderr)
                return EXIT_TERMINATED
            raise
    rows = done.rows + writer.written
    print(f"mtus-rules: {rows:,} rows, {failed:,} bad", file=sys.stderr)
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

    if args.workers < 1:
        print("mtus-rules: --workers: expected a whole number of at least 1", file=sys.stderr)
        return EXIT_INVALID
    show = _show_progress(args)
    counts = {path: _lines_total(path, show) for path in args.cases if path.suffix == ".jsonl"}
    known = None not in counts.values()
    total = sum(n or 0 for n in counts.values()) + len(args.cases) - len(counts) if show and known else None
    bar = _progress_bar(show, total, what="compare")

    def cases() -> Iterator[Any]:
        for path in args.cases:
            if path.suffix == ".jsonl":
                try:
                    stream = path.open("rb")
                except OSError as exc:
                    bar.write(f"mtus-rules: {path}: {exc.strerror}", file=sys.stderr)
                    yield {"__invalid__": str(path)}
                    continue
                with stream:
                    shown = 0
                    for number, data in read_jsonl(stream):
                        bar.update(number - shown)  # by input lines, as the total counts them
                        shown = number
                        raise_pending()  # a stop whose exception a finalizer swallowed
                        yield data
                    bar.update((counts.get(path) or shown) - shown)  # blank lines at the end
            else:
                try:
                    yield load_case(path)
                except MtusRulesError as exc:
                    bar.write(f"mtus-rules: {exc}", file=sys.stderr)
                    yield {"__invalid__": str(path)}
                bar.update(1)

    try:
        with bar:
            result = compare(before, after, cases(), workers=args.workers)
    except PoolError as exc:
        print(f"mtus-rules: {exc}", file=sys.stderr)
        return EXIT_WORKERS
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
        raise_pending()  # a stop whose exception a finalizer swallowed
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
    for path, result in results:
        warn_outside_packs(engine, path, result)
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



def warn_outside_packs(engine: Engine, path: Path, result: Any) -> None:
    """One line on stderr when a case's request date is outside every loaded
    pack, so its items came out `no_applicable_guideline` for that reason, not
    because a guideline is silent. The exit status stays 0: the output is a
    complete decision (with `rule_pack: null`) and a batch of mixed dates should
    not fail on it; the warning is for the person reading the terminal."""
    if result.rule_pack is not None:
        return
    periods = "; ".join(f"{p.name} {p.version} covers {p.effective}" for p in engine.packs) or "no pack is loaded"
    count = len(result.items)
    print(
        f"mtus-rules: warning: {path}: request date {result.request_date} is outside every loaded rule pack "
        f"({periods}); {count} item{'' if count == 1 else 's'} not decided (no_applicable_guideline)",
        file=sys.stderr,
    )
