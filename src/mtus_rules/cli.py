"""The `mtus-rules` command."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .case import case_json_schema, load_case
from .decision import Decision, Outcome
from .engine import Engine
from .errors import MtusRulesError

EXIT_INVALID = 2

_OUTCOME_WORDS = {
    Outcome.UPHELD: "UPHELD (not medically necessary)",
    Outcome.OVERTURNED: "OVERTURNED (medically necessary)",
    Outcome.NO_APPLICABLE_GUIDELINE: "NO APPLICABLE GUIDELINE",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mtus-rules",
        description="Decide treatment requests against MTUS/ODG guideline rules.",
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

    evaluate.add_argument(
        "--no-what-if",
        action="store_true",
        help="leave out the visits supported and the changes that would overturn an upheld item",
    )

    commands.add_parser("schema", help="print the JSON Schema of the case format")

    args = parser.parse_args(argv)
    if args.command == "schema":
        print(json.dumps(case_json_schema(), indent=2, sort_keys=True))
        return 0
    return _evaluate(args)


def _evaluate(args: argparse.Namespace) -> int:
    try:
        engine = Engine(args.rules) if args.rules else Engine()
    except MtusRulesError as exc:
        print(f"mtus-rules: {exc}", file=sys.stderr)
        return EXIT_INVALID

    decisions: list[tuple[Path, Decision]] = []
    failed = False
    for path in args.cases:
        try:
            case = load_case(path)
        except MtusRulesError as exc:
            # A case that does not read completely produces no output at all.
            print(f"mtus-rules: {exc}", file=sys.stderr)
            failed = True
            continue
        decisions.append((path, engine.evaluate(case, what_if=not args.no_what_if)))

    if args.format == "json":
        out = [{"file": str(path), **decision.model_dump(mode="json")} for path, decision in decisions]
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(render_text(decision, str(path)) for path, decision in decisions))
    return EXIT_INVALID if failed else 0


def render_text(decision: Decision, source: str | None = None) -> str:
    """A decision as a claims examiner reads it."""
    wrap = textwrap.TextWrapper(width=100, initial_indent="      ", subsequent_indent="      ")
    pack = decision.rule_pack
    head = f"Case {decision.case_id or '(no id)'}" + (f"  [{source}]" if source else "")
    lines = [
        head,
        f"  Request date {decision.request_date}; rule pack "
        + (f"{pack.name} {pack.version} (sha256:{pack.content_hash[:12]})" if pack else "none in force"),
    ]
    for item in decision.items:
        lines.append("")
        lines.append(f"  {item.index + 1}. {item.description}: {_OUTCOME_WORDS[item.outcome]}")
        if item.citations:
            lines.append("    Guideline: " + "; ".join(str(c) for c in item.citations))
        if item.rules:
            lines.append("    Decided by: " + ", ".join(item.rules))
        for title, text in (
            ("What the guideline says", item.rationale.guideline),
            ("This case", item.rationale.case),
            ("Conclusion", item.rationale.conclusion),
        ):
            if text:
                lines.append(f"    {title}:")
                lines.extend(wrap.wrap(text))
        what_if = item.what_if
        if what_if is None:
            continue
        if item.outcome is Outcome.UPHELD:
            lines.append("    What would change the outcome:")
            if what_if.alternatives:
                lines.extend(line for a in what_if.alternatives for line in wrap.wrap(f"- {a.text}"))
            else:
                lines.extend(wrap.wrap("Nothing these rules read: no change of the documented facts makes it medically necessary."))
        shown = "no upper bound in these rules" if what_if.supported_visits is None else str(what_if.supported_visits)
        lines.append(f"    Visits supported: {shown}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
