"""The `mtus-rules` command.

Exit status (also in `mtus-rules --help`): 0 all decided; 1 lint errors or a
failed rule test; 2 invalid input (a case, row, pack or option; the other
inputs are still decided); 3 the output or decision log could not be written
(a full disk): what was written is whole lines; 4 batch workers could not
start or kept dying; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). `batch` reports how many rows it wrote in every case.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .authoring import ruletests
from ._version import __version__
from .integration.jsonl import forget_signals, signal_behind, stop
from .integration.envelopes import OUTPUT_SCHEMAS, output_json_schema
from .authoring.coverage import markdown as coverage_markdown
from .authoring.schemas import FILES as AUTHOR_FILES, file_schema
from .explanation.render import decision_text, trace_text
from .errors import MtusRulesError
from .authoring.lint import lint_packs, pack_folders
from ._resources import bundled_rules_dir, install_command
from .packs.loading import load_pack
from .packs.model import PACK_FILE
from ._commands import (  # noqa: F401 - the exit statuses stay importable from cli
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OUTPUT,
    EXIT_TERMINATED,
    EXIT_WORKERS,
    Terminated,
    batch_command,
    compare_command,
    each_case,
)

EPILOG = """exit status:
  0    everything was decided (lint: no errors; test: every test passed); also
       when a request date is outside every loaded rule pack: its items are
       no_applicable_guideline (rule_pack is null) and a warning names the
       date and the years the packs cover on stderr
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


def _on_sigterm(signum: int, frame: object) -> None:
    stop(Terminated())


def _on_sigint(signum: int, frame: object) -> None:
    stop(KeyboardInterrupt())


def main(argv: Sequence[str] | None = None) -> int:
    forget_signals()
    try:
        previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, _on_sigterm)}
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread: leave signals to the host program
        previous = {}
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader closed the pipe (`mtus-rules evaluate ... | head`): it has what it
        # wanted. Point stdout at devnull so the interpreter's final flush does not print
        # a second BrokenPipeError as a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except (KeyboardInterrupt, Terminated, Exception) as exc:
        # A stop signal raised inside code a library called from C comes back
        # wrapped in the library's error (pydantic's serializers): still a stop.
        signalled = exc if isinstance(exc, (KeyboardInterrupt, Terminated)) else signal_behind(exc)
        if isinstance(signalled, KeyboardInterrupt):
            print("mtus-rules: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if isinstance(signalled, Terminated):
            print("mtus-rules: terminated", file=sys.stderr)
            return EXIT_TERMINATED
        raise
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
    evaluate.add_argument("cases", nargs="+", type=Path, metavar="CASE_FILE", help="case files (YAML or JSON, plain or RFA form); - reads standard input")
    evaluate.add_argument("--format", choices=("text", "json"), default="text")
    evaluate.add_argument(
        "-v", "--verbose", action="store_true", help="text: also the deciding rules' ids and how RFA codes were mapped"
    )
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
    batch.add_argument(
        "--resume", action="store_true",
        help="continue the output of an interrupted run after its last whole row (needs -o; the input must be the same)",
    )
    _add_progress(batch)
    batch.add_argument("--rules", action="append", type=Path, metavar="PACK_DIR")
    _add_overrides(batch)
    _add_log(batch)

    compare_cmd = commands.add_parser("compare", help="decide cases as the packs stand and with overrides; list the flips")
    compare_cmd.add_argument("cases", nargs="+", type=Path, metavar="CASE_FILE", help="case files, or .jsonl files of cases")
    compare_cmd.add_argument("--rules", action="append", type=Path, metavar="PACK_DIR", help="the packs to start from")
    compare_cmd.add_argument("--against", action="append", type=Path, metavar="PACK_DIR", help="compare with these packs instead")
    compare_cmd.add_argument("--format", choices=("text", "json"), default="text")
    compare_cmd.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    _add_progress(compare_cmd)
    _add_overrides(compare_cmd)

    explain = commands.add_parser("explain", help="show every rule considered for each item, and why it decided or not")
    explain.add_argument("cases", nargs="+", type=Path, metavar="CASE_FILE", help="case files; - reads standard input")
    explain.add_argument("--format", choices=("text", "json"), default="text")
    explain.add_argument("-v", "--verbose", action="store_true", help="text: also the rules for other treatments")
    explain.add_argument("--rules", action="append", type=Path, metavar="PACK_DIR")

    lint = commands.add_parser("lint", help="check rule packs without deciding any case")
    lint.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="pack folders or folders of packs (default: the bundled packs)")
    lint.add_argument("--format", choices=("text", "json"), default="text")
    lint.add_argument("--strict", action="store_true", help="exit 1 on warnings that are not accepted, too")
    lint.add_argument("--show-accepted", action="store_true", help="list the accepted warnings too (text format)")

    test = commands.add_parser("test", help="run the YAML rule tests next to the rules")
    test.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH",
        help="pack folders, folders of packs or test files (default: the pack this folder is in)",
    )
    test.add_argument("--run", metavar="PATTERN", help="run only the tests whose FILE::NAME this regular expression matches")
    test.add_argument(
        "--explain", choices=("fails",), help="print the explain trace of each failed test's case (text format)"
    )
    test.add_argument(
        "--coverage", action="store_true",
        help="report, per rule, whether a test makes it decide (for an overlay, the rules it adds or overrides)",
    )
    test.add_argument("--min-coverage", type=float, metavar="PERCENT", help="fail below this rule coverage")
    test.add_argument("--format", choices=("text", "json"), default="text")

    cover = commands.add_parser("coverage", help="print the coverage table (Markdown) of the rule packs")
    cover.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="pack folders or folders of packs (default: the bundled packs)")

    schema = commands.add_parser(
        "schema", help="print a JSON Schema: of the case format, of an output, or of a file a rule author writes",
        description=SCHEMA_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    schema.add_argument("what", nargs="?", default="case", choices=("case", *OUTPUT_SCHEMAS, *AUTHOR_FILES), help="default: case")

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
        printed = file_schema(args.what) if args.what in AUTHOR_FILES else output_json_schema(args.what)
        print(json.dumps(printed, indent=2, sort_keys=True))
        return 0
    if args.command == "lint":
        return _lint(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "batch":
        return batch_command(args)
    if args.command == "compare":
        return compare_command(args)
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
        return each_case(args, lambda engine, case: engine.explain(case), lambda trace, path: trace_text(trace, verbose=args.verbose))
    return each_case(
        args,
        lambda engine, case: engine.evaluate(case, what_if=not args.no_what_if),
        lambda decision, path: decision_text(decision, path, verbose=args.verbose),
    )


SCHEMA_DESCRIPTION = "Print a JSON Schema (draft 2020-12), generated from the library's models.\n\n" + "\n".join(
    [f"  {'case':18}  a case file, plain or RFA form (the default)"]
    + [f"  {name:18}  {what}" for name, (what, _) in OUTPUT_SCHEMAS.items()]
    + [f"  {name:18}  {what}" for name, (_, what) in AUTHOR_FILES.items()]
) + """

Every decision has the same shape wherever it comes from, with its format_version;
what a channel adds (the file, the row, the decision id) is beside it, in an envelope."""


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
            f"mtus-rules: serve needs the server extra ({exc.name} is not installed): {install_command('server')}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    return server.serve(
        host=args.host,
        port=args.port,
        rules=args.rules,
        decision_log=args.decision_log,
        log_identifying=args.log_identifying,
        audit_key_file=args.audit_key_file,
        max_body=args.max_body,
        max_batch_body=args.max_batch_body,
    )


def _test(args: argparse.Namespace) -> int:
    paths = args.paths
    if not paths:
        # The pack this folder is in, never silently the bundled one: an author
        # in their own pack would otherwise see the bundled tests pass.
        here = ruletests.pack_above(Path.cwd())
        if here is None:
            print(
                f"mtus-rules: no rule pack here (no {PACK_FILE} in {Path.cwd()} or a folder above it); "
                f"pass a pack folder or test file, e.g. mtus-rules test {bundled_rules_dir()}",
                file=sys.stderr,
            )
            return EXIT_INVALID
        paths = [Path(os.path.relpath(here))]  # named in the output as `mtus-rules test .` names it
    try:
        report = ruletests.run(paths, select=args.run)
    except MtusRulesError as exc:
        print(f"mtus-rules: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if args.format == "json":
        print(report.model_dump_json(indent=2))
    else:
        print(ruletests.report_text(
            report, show_coverage=args.coverage or args.min_coverage is not None, explain=args.explain == "fails"
        ))
    if not report.results:
        selected = f" matching --run {args.run!r}" if args.run is not None else ""
        print(f"mtus-rules: no tests ran{selected}", file=sys.stderr)
        return 1
    if report.failed:
        return 1
    if args.min_coverage is not None and report.coverage_percent < args.min_coverage:
        print(f"mtus-rules: rule coverage {report.coverage_percent:.1f}% is below {args.min_coverage:g}%", file=sys.stderr)
        return 1
    return 0


def _lint(args: argparse.Namespace) -> int:
    reports = lint_packs(args.paths or [bundled_rules_dir()])
    findings = [f for report in reports for f in report.findings]
    errors = [f for f in findings if f.severity == "error"]
    open_warnings = [f for f in findings if f.severity == "warning" and not f.accepted]
    accepted = [f for f in findings if f.accepted]
    if args.format == "json":
        print(json.dumps([f.model_dump(mode="json") for f in findings], indent=2))
    else:
        for report in reports:
            print(report.title)
            # Accepted warnings were looked at already: listed only when asked,
            # so what needs attention is not buried under them.
            shown = [f for f in report.findings if args.show_accepted or not f.accepted]
            for finding in sorted(shown, key=lambda f: (f.accepted is not None, f.severity != "error")):
                print(finding)
        by_code: dict[str, int] = {}
        for finding in accepted:
            by_code[finding.code] = by_code.get(finding.code, 0) + 1
        kinds = f" ({', '.join(f'{code}: {n}' for code, n in sorted(by_code.items()))})" if by_code else ""
        more = "; --show-accepted lists them" if accepted and not args.show_accepted else ""
        print(f"{len(errors)} errors, {len(open_warnings)} warnings, {len(accepted)} accepted warnings{kinds}{more}")
    return 1 if errors or (args.strict and open_warnings) else 0


def _add_log(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--decision-log", type=Path, metavar="LOG.jsonl", help="append an audit record per decision")
    parser.add_argument(
        "--log-identifying", action="store_true", help="keep claimant, date of injury, case id and free text in the log"
    )
    parser.add_argument(
        "--audit-key-file",
        type=Path,
        metavar="PATH",
        help="the secret key that masks case ids and input hashes in the decision log (default: $MTUS_RULES_AUDIT_KEY); "
        "the same key in every run keeps the logs joinable",
    )


def _add_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None,
        help="a progress bar on standard error (default: only when it is a terminal)",
    )


def _add_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit", action="append", default=[], metavar="RULE=N", help="what if RULE's number were N (repeatable)"
    )
    parser.add_argument("--disable", action="append", default=[], metavar="RULE", help="what if RULE were off (repeatable)")


if __name__ == "__main__":
    raise SystemExit(main())
