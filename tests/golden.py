"""Recorded decisions: what the engine decided for the example cases and for
two sets of generated cases, so that a refactoring, a speed-up or a memo can be
shown to change nothing (tests/test_golden_decisions.py).

The example cases' decisions are stored whole, so a failure shows the diff; the
generated cases' decisions (examples/history and the extended cases stored
here) are stored as a sha256 of their JSON, to keep the file small.

A change that is meant to change decisions (a rule-pack edit) re-records them,
and says so in the CHANGELOG:

    PYTHONPATH=src python tests/golden.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECORDED = Path(__file__).resolve().parent / "fixtures" / "golden" / "decisions.json"
EXTENDED = RECORDED.parent / "extended-cases.jsonl"
HISTORY = ROOT / "examples" / "history" / "generated-cases.jsonl"


def example_files() -> list[Path]:
    return sorted(ROOT.glob("examples/*.yaml")) + sorted(ROOT.glob("examples/rfa/*.yaml"))


def generated_rows() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for source in (HISTORY, EXTENDED):
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
            out.append((f"{source.relative_to(ROOT)}:{number}", json.loads(line)))
    return out


def decision_json(engine: Any, case: Any) -> str:
    """The decision as a user stores it, with what-if, as JSON; without the name
    of the backend, so that every backend is held to the same recording."""
    return engine.evaluate(case, what_if=True).model_dump_json(exclude={"backend"})


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def record() -> dict[str, Any]:
    from mtus_rules import Engine, load_case

    engine = Engine()
    examples = {str(p.relative_to(ROOT)): json.loads(decision_json(engine, load_case(p))) for p in example_files()}
    generated = {where: digest(decision_json(engine, row)) for where, row in generated_rows()}
    return {"examples": examples, "generated": generated}


if __name__ == "__main__":
    RECORDED.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"recorded {RECORDED.relative_to(ROOT)}", file=sys.stderr)
