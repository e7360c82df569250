"""The `mtus-rules` command.

Exit status (also in `mtus-rules --help`): 0 all decided; 1 lint errors or a
failed rule test; 2 invalid input (a case, row, pack or option; the other
inputs are still decided); 3 the output or decision log could not be written
(a full disk): what was written is whole lines; 130 interrupted (Ctrl-C);
143 terminated (SIGTERM). `batch` reports how many rows it wrote in every case.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import re
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from . import ruletests
from ._version import __version__
from .audit import DecisionLog
from ._pool import PoolError
from .batch import LOG_LOCATION, JsonlWriter, WriteError, read_jsonl, stop
from .case import case_json_schema, load_case
from .coverage import markdown as coverage_markdown
from .display import comparison_text, render_text
from .engine import Engine
from .errors import MtusRulesError, Problem
from .lint import lint_paths, pack_folders
from .pack import bundled_rules_dir, load_pack
from .trace import render as render_trace
from .whatif import compare

EXIT_INVALID = 2
EXIT_OUTPUT = 3
EXIT_WORKERS = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM

EPILOG = """exit status:
  0    everything was decided (lint: no errors; test: every test passed)
  1    lint found errors, or a rule test failed
  2    invalid input: a case, row, rule pack or option could not be used; the
       other inputs are still decided, and batch writes a result line per row
  3    the output or the decision log could not be written (e.g. a full disk);
       the output holds only whole lines
  4    batch: worker processes could not start or kept dying (e.g. out of
       memory); the output holds the rows decided before, as whole lines
  130  interrupted (Ctrl-C)
  143  terminated (SIGTERM)
"""


class Terminated(BaseException):
    """SIGTERM arrived; raised like KeyboardInterrupt so the command can stop cleanly."""


def _on_sigterm(signum: int, frame: object) -> None:
    stop(Terminated())


def _on_sigint(signum: int, frame: object) -> None:
    stop(KeyboardInterrupt())


def main(argv: Sequence[str] | None = None) -> int:
    try:
        previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, _on_sigterm)}
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread: leave signals to the host program
        previous = {}
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("mtus-rules: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("mtus-rules: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        # The reader closed the pipe (`mtus-rules evaluate ... | head`): it has what it
        # wanted. Point stdout at devnull so the interpreter's final flush does not print
        # a second BrokenPipeError as a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _main(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="mtus-rules",
        description="Decide treatment requests against MTUS/ODG guideline rules.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser("evaluate", help="decide one or more case files (YAML or JSON)")
    evaluate.add_argument("cases", nargs="+", type=Path, metavar="CASE_FILE")
    evaluate.add_argument("--format", choices=("text", "json"), default="text")
    evaluate.add_argument(
        "--rules",
        action="append",
        type=Path,
        metavar="PACK_DIR",
        help="use this rule pack folder instead of the bundled packs (repeatable)",
    )

    _add_overrides(evaluate)
    _add_log(evaluate)
    evaluate.add_argument(
        "--no-what-if",
        action="store_true",
        help="leave out the visits supported and the changes that would overturn an upheld item",
    )

    batch = commands.add_parser("batch", help="decide a JSON Lines file of cases, one result line per input line")
    batch.add_argument("input", type=Path, metavar="CASES.jsonl", help="one case (a JSON object) per line; - for standard input")
    batch.add_argument("-o", "--output", type=Path, metavar="OUT.jsonl", help="write here instead of standard output")
    batch.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    batch.add_argument("--what-if", action="store_true", help="add what the rules would support to each item")
    batch.add_argument("--rules", action="append", type=Path, metavar="PACK_DIR")
    _add_overrides(batch)
    _add_log(batch)

    compare_cmd = commands.add_parser("compare", help="decide cases as the packs stand and with overrides; list the flips")
    compare_cmd.add_argument("cases", nargs="+", type=Path, metavar="CASE_FILE", help="case files, or .jsonl files of cases")
    compare_cmd.add_argument("--rules", action="append", type=Path, metavar="PACK_DIR", help="the packs to start from")
    compare_cmd.add_argument("--against", action="append", type=Path, metavar="PACK_DIR", help="compare with these packs instead")
    compare_cmd.add_argument("--format", choices=("text", "json"), default="text")
    _add_overrides(compare_cmd)

    explain = commands.add_parser("explain", help="show every rule considered for each item, and why it decided or not")
    explain.add_argument("cases", nargs="+", type=Path, metavar="CASE_FILE")
    explain.add_argument("--format", choices=("text", "json"), default="text")
    explain.add_argument("--rules", action="append", type=Path, metavar="PACK_DIR")

    lint = commands.add_parser("lint", help="check rule packs without deciding any case")
    lint.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="pack folders or folders of packs (default: the bundled packs)")
    lint.add_argument("--format", choices=("text", "json"), default="text")
    lint.add_argument("--strict", action="store_true", help="exit 1 on warnings that are not accepted, too")

    test = commands.add_parser("test", help="run the YAML rule tests next to the rules")
    test.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="pack folders, folders of packs or test files (default: the bundled packs)")
    test.add_argument("--coverage", action="store_true", help="report, per rule, whether a test makes it decide")
    test.add_argument("--min-coverage", type=float, metavar="PERCENT", help="fail below this rule coverage")
    test.add_argument("--format", choices=("text", "json"), default="text")

    cover = commands.add_parser("coverage", help="print the coverage table (Markdown) of the rule packs")
    cover.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="pack folders or folders of packs (default: the bundled packs)")

    commands.add_parser("schema", help="print the JSON Schema of the case format")

    serve = commands.add_parser(
        "serve", help="decide cases over HTTP (needs the server extra)", description=SERVE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0 picks a free one)")
    serve.add_argument(
        "--rules", action="append", type=Path, metavar="PACK_DIR", help="use this rule pack folder instead of the bundled packs (repeatable)"
    )
    _add_log(serve)
    serve.add_argument(
        "--max-body", type=int, default=None, metavar="BYTES", help="largest body of one case (default 1 MiB)"
    )
    serve.add_argument(
        "--max-batch-body", type=int, default=None, metavar="BYTES", help="largest body of a batch (default 64 MiB)"
    )

    args = parser.parse_args(argv)
    if args.command == "schema":
        print(json.dumps(case_json_schema(), indent=2, sort_keys=True))
        return 0
    if args.command == "lint":
        return _lint(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "batch":
        return _batch(args)
    if args.command == "compare":
        return _compare(args)
    if args.command == "test":
        return _test(args)
    if args.command == "coverage":
        try:
            packs = [load_pack(folder) for folder in pack_folders(args.paths or [bundled_rules_dir()])]
        except MtusRulesError as exc:
            print(f"mtus-rules: {exc}", file=sys.stderr)
            return EXIT_INVALID
        print(coverage_markdown(packs), end="")
        return 0
    if args.command == "explain":
        return _each_case(args, lambda engine, case: engine.explain(case), lambda trace, path: render_trace(trace))
    return _each_case(
        args,
        lambda engine, case: engine.evaluate(case, what_if=not args.no_what_if),
        lambda decision, path: render_text(decision, path),
    )


SERVE_DESCRIPTION = """Decide cases over HTTP: POST /decisions (one case, JSON), POST /decisions/batch
(JSON Lines in and out), GET /packs, /health, /ready, /openapi.json.
Needs the server extra: pip install 'mtus-rules[server]' (from a checkout: pip install '.[server]')."""


def _serve(args: argparse.Namespace) -> int:
    try:
        # The server's dependencies are an optional extra; the rest of the library never imports them.
        from . import server
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] == "mtus_rules":
            raise
        print(
            f"mtus-rules: serve needs the server extra ({exc.name} is not installed): "
            "pip install 'mtus-rules[server]', or from a checkout: pip install '.[server]'",
            file=sys.stderr,
        )
        return EXIT_INVALID
    return server.serve(
        host=args.host,
        port=args.port,
        rules=args.rules,
        decision_log=args.decision_log,
        log_identifying=args.log_identifying,
        max_body=args.max_body,
        max_batch_body=args.max_batch_body,
    )


def _test(args: argparse.Namespace) -> int:
    try:
        report = ruletests.run(args.paths or [bundled_rules_dir()])
    except MtusRulesError as exc:
        print(f"mtus-rules: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if args.format == "json":
        print(report.model_dump_json(indent=2))
    else:
        print(ruletests.render(report, show_coverage=args.coverage or args.min_coverage is not None))
    if not report.results:
        print("mtus-rules: no tests ran", file=sys.stderr)
        return 1
    if report.failed:
        return 1
    if args.min_coverage is not None and report.coverage_percent < args.min_coverage:
        print(f"mtus-rules: rule coverage {report.coverage_percent:.1f}% is below {args.min_coverage:g}%", file=sys.stderr)
        return 1
    return 0


def _lint(args: argparse.Namespace) -> int:
    findings = lint_paths(args.paths or [bundled_rules_dir()])
    errors = [f for f in findings if f.severity == "error"]
    open_warnings = [f for f in findings if f.severity == "warning" and not f.accepted]
    accepted = [f for f in findings if f.accepted]
    if args.format == "json":
        print(json.dumps([f.model_dump(mode="json") for f in findings], indent=2))
    else:
        for finding in sorted(findings, key=lambda f: (f.accepted is not None, f.severity != "error")):
            print(finding)
        by_code: dict[str, int] = {}
        for finding in accepted:
            by_code[finding.code] = by_code.get(finding.code, 0) + 1
        kinds = f" ({', '.join(f'{code}: {n}' for code, n in sorted(by_code.items()))})" if by_code else ""
        print(f"{len(errors)} errors, {len(open_warnings)} warnings, {len(accepted)} accepted warnings{kinds}")
    return 1 if errors or (args.strict and open_warnings) else 0


def _add_log(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--decision-log", type=Path, metavar="LOG.jsonl", help="append an audit record per decision")
    parser.add_argument(
        "--log-identifying", action="store_true", help="keep claimant, date of injury, case id and free text in the log"
    )


def _add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit", action="append", default=[], metavar="RULE=N", help="what if RULE's number were N (repeatable)"
    )
    parser.add_argument("--disable", action="append", default=[], metavar="RULE", help="what if RULE were off (repeatable)")


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


def _batch(args: argparse.Namespace) -> int:
    try:
        engine = _engine(args)
    except MtusRulesError as exc:
        print(f"mtus-rules: {exc}", file=sys.stderr)
        return EXIT_INVALID
    where = str(args.output) if args.output else "standard output"
    with contextlib.ExitStack() as stack:
        try:
            stream = sys.stdin.buffer if str(args.input) == "-" else stack.enter_context(args.input.open("rb"))
            if args.output:
                writer = JsonlWriter.create(args.output)
                stack.callback(writer.close)
            else:
                writer = JsonlWriter(getattr(sys.stdout, "buffer", None) or _TextBytes(sys.stdout))
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


def _compare(args: argparse.Namespace) -> int:
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


def _each_case(args: argparse.Namespace, run: Callable, render: Callable) -> int:
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

    try:
        if args.format == "json":
            out = [{"file": str(path), **result.model_dump(mode="json")} for path, result in results]
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


if __name__ == "__main__":
    raise SystemExit(main())
