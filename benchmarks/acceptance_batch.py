"""Acceptance check of issue 10 for batches: nothing lost, only hostile rows flagged.

    PYTHONPATH=src python benchmarks/acceptance_batch.py [--rows 200000] [--seed 3] [--runs cli1,cli2,api4]

(a) cli1, cli2: a JSON Lines file of `--rows` generated valid cases
    (benchmarks/generate.py, extended) with one row of each hostile kind put at
    random positions (an integer of 4,301 digits, nesting 1,000 deep, a lone
    surrogate, an invalid UTF-8 byte, a NUL byte, a line over the 1 MiB limit,
    a line that is not JSON, a row that is not a mapping, a case with a field
    missing) goes through `mtus-rules batch` with --workers 1, then 2. Passes
    when the output has exactly `--rows` lines, rows 0.. in order with their
    input line numbers, and the flagged rows are exactly the hostile ones.
(b) api4: the same cases as Python objects, with the API's hostile kinds (an
    unpicklable value, nesting 200,000 deep, an object whose unpickling kills
    its worker, a row raising KeyboardInterrupt inside the worker, a huge
    integer, a lone surrogate) go through `Engine.evaluate_many(workers=4)`,
    and one worker process is killed with SIGKILL from outside a third of the
    way through. Passes when `--rows` results come back in order and the
    flagged rows are exactly the hostile ones (the killed worker's rows are
    decided again, not flagged).

Prints the figures of each run; exits 1 if any run fails. With 200,000 rows
each run takes a few minutes on one core. Not a test: pytest only collects
tests/ (tests/test_reliability_io.py runs a small version of it).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if (HERE.parent / "src").is_dir():
    sys.path.insert(0, str(HERE.parent / "src"))

from generate import generate_dicts  # noqa: E402

HOSTILE_LINES: dict[str, bytes] = {
    "bigint": b'{"date_of_injury": "2013-01-01", "request_date": "2014-01-01", "case_id": ' + b"7" * 4301 + b"}",
    "deep": b'{"case_id": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    "surrogate": b'{"case_id": "\\udfff x", "date_of_injury": "2013-01-01", "request_date": "2014-01-01", '
    b'"requested_items": [{"description": "Massage", "treatment": "massage"}]}',
    "invalid_utf8": b'{"case_id": "a\xed\xa0\x80", "date_of_injury": "2013-01-01"}',
    "nul": b'{"case_id": "a\x00", "date_of_injury": "2013-01-01"}',
    "too_long": b'{"case_id": "' + b"x" * (1 << 20) + b'"}',
    "not_json": b"{not json",
    "not_a_mapping": b'["a", "list"]',
    "missing_field": b'{"request_date": "2014-01-01", "requested_items": [{"description": "m", "treatment": "massage"}]}',
}


def cases(rows: int, seed: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < rows:
        out += generate_dicts(min(rows, 50_000), seed=seed + len(out), extended=True)
    return out[:rows]


def build_jsonl(path: Path, rows: int, seed: int) -> dict[int, str]:
    """Write the input; the row (0-based) of each hostile kind."""
    rng = random.Random(seed)
    hostile = dict(zip(rng.sample(range(rows), len(HOSTILE_LINES)), HOSTILE_LINES, strict=True))
    with path.open("wb") as out:
        for row, data in enumerate(cases(rows, seed)):
            out.write((HOSTILE_LINES[hostile[row]] if row in hostile else json.dumps(data).encode()) + b"\n")
    return hostile


def check_cli(source: Path, out: Path, rows: int, hostile: dict[int, str], workers: int) -> tuple[bool, str]:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mtus_rules", "batch", str(source), "-o", str(out), "--workers", str(workers)],
        env=env, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started
    flagged, order_ok, count = set(), True, 0
    with out.open("rb") as results:
        for count, line in enumerate(results):
            record = json.loads(line)
            order_ok &= record["row"] == count and record["line"] == count + 1
            if "problems" in record:
                flagged.add(record["row"])
        count += 1
    ok = done.returncode == 2 and order_ok and count == rows and flagged == set(hostile) and "Traceback" not in done.stderr
    figures = (
        f"cli --workers {workers}: {rows:,} rows in, {count:,} results, in order: {order_ok}, "
        f"flagged {len(flagged)} (hostile {len(hostile)}, exactly those: {flagged == set(hostile)}), "
        f"exit {done.returncode}, {seconds:.0f} s ({rows / seconds:,.0f} rows/s); stderr: {done.stderr.strip()[-120:]}"
    )
    return ok, figures


class KillOnUnpickle:
    def __reduce__(self) -> tuple:
        return (os._exit, (13,))


class InterruptsInWorker(dict):
    def __contains__(self, key: object) -> bool:
        raise KeyboardInterrupt("raised by the row")


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def check_api(rows: int, seed: int, workers: int) -> tuple[bool, str]:
    from mtus_rules import Engine

    data: list[Any] = cases(rows, seed)
    base = data[0]
    kinds = {
        "unpicklable": dict(base, case_id=lambda: 1),
        "nested_200000": dict(base, case_id=_nested(200_000)),
        "kills_its_worker": dict(base, case_id=KillOnUnpickle()),
        "keyboard_interrupt_in_worker": InterruptsInWorker(base),
        "bigint": dict(base, case_id=10**5000),
        "surrogate": dict(base, case_id="\udfff x"),
    }
    rng = random.Random(seed + 1)
    hostile = dict(zip(rng.sample(range(rows), len(kinds)), kinds, strict=True))
    for row, kind in hostile.items():
        data[row] = kinds[kind]
    engine = Engine()
    killed: list[int] = []
    seen = 0

    def kill_one() -> None:
        children = multiprocessing.active_children()
        if children:
            os.kill(children[0].pid, signal.SIGKILL)
            killed.append(children[0].pid)

    started = time.perf_counter()
    flagged, order_ok = set(), True
    for result in engine.evaluate_many(data, workers=workers):
        order_ok &= result.row == seen
        if not result.ok:
            flagged.add(result.row)
        seen += 1
        # Killed from the loop that reads the results, a third of the way
        # through: a thread polling for that moment could miss a fast run.
        if seen == rows // 3:
            kill_one()
    seconds = time.perf_counter() - started
    ok = order_ok and seen == rows and flagged == set(hostile) and len(killed) == 1
    figures = (
        f"evaluate_many(workers={workers}): {rows:,} rows in, {seen:,} results, in order: {order_ok}, "
        f"worker killed mid-run: {len(killed)}, flagged {len(flagged)} (hostile {len(hostile)}, exactly those: "
        f"{flagged == set(hostile)}), {seconds:.0f} s ({rows / seconds:,.0f} rows/s)"
    )
    return ok, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--runs", default="cli1,cli2,api4")
    parser.add_argument("--workdir", type=Path, default=None, help="where the input and output files go (default: a temporary folder)")
    args = parser.parse_args()
    import tempfile

    failed = False
    with tempfile.TemporaryDirectory(dir=args.workdir) as folder:
        source = Path(folder) / "in.jsonl"
        hostile: dict[int, str] = {}
        for run in args.runs.split(","):
            if run.startswith("cli"):
                if not hostile:
                    hostile = build_jsonl(source, args.rows, args.seed)
                    print(f"input: {args.rows:,} rows; hostile rows: {dict(sorted(hostile.items()))}", flush=True)
                ok, figures = check_cli(source, Path(folder) / "out.jsonl", args.rows, hostile, int(run[3:]))
            else:
                ok, figures = check_api(args.rows, args.seed, int(run[3:]))
            print(("PASS " if ok else "FAIL ") + figures, flush=True)
            failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
