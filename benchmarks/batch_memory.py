"""The JSON Lines batch path: nothing lost, and memory that does not grow with the file.

    PYTHONPATH=src python benchmarks/batch_memory.py [--sizes 10000 100000] [--broken 0.01] [--workers 1]

For each size it writes a JSON Lines file of generated cases with a share of
deliberately broken rows (bad JSON, a bad date, a missing field), runs
`mtus-rules batch` on it in a fresh process, and checks that there is exactly
one output line per input row, that exactly the broken rows are flagged, and
reports that process's peak resident memory. Exits 1 if a row is lost or
misflagged, or if peak memory grows by more than 25% from the smallest size to
the largest.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

# The child runs as batch_scale.py runs it and reports its own peak first
# (VmHWM, kB; see there why not ru_maxrss).
from batch_scale import RUNNER  # noqa: E402


def write_cases(path: Path, rows: int, broken: float, seed: int) -> set[int]:
    rng = random.Random(seed)
    pool = generate.generate_dicts(4000, seed=seed)
    bad: set[int] = set()
    with path.open("w", encoding="utf-8") as out:
        for row in range(rows):
            case = dict(pool[row % len(pool)], case_id=f"row-{row}")
            if rng.random() < broken:
                bad.add(row)
                kind = row % 3
                if kind == 0:
                    out.write('{"request_date": "2014-01-01", oops\n')
                    continue
                if kind == 1:
                    case["request_date"] = "2014-02-30"
                else:
                    case.pop("requested_items")
            out.write(json.dumps(case, default=str) + "\n")
    return bad


def run(path: Path, workers: int) -> tuple[list[int], set[int], int, float]:
    """Run the batch; return the output's row numbers, the flagged rows, the
    child's peak RSS (kB) and the seconds taken. Output is read line by line."""
    out = path.with_suffix(".out.jsonl")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUNNER, str(path), str(out), str(workers)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak_kb = int(done.stderr.strip().splitlines()[-1].split()[0])
    rows: list[int] = []
    flagged: set[int] = set()
    with out.open(encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            rows.append(record["row"])
            if "problems" in record:
                flagged.add(record["row"])
    return rows, flagged, peak_kb, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--broken", type=float, default=0.01)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    ok = True
    peaks = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = Path(tmp) / f"cases-{size}.jsonl"
            bad = write_cases(path, size, args.broken, seed=size)
            rows, flagged, peak_kb, seconds = run(path, args.workers)
            lost = size - len(rows)
            right = rows == list(range(size)) and flagged == bad
            ok &= right and lost == 0
            peaks.append(peak_kb)
            print(f"{size:>8,} rows: {len(rows):,} results, {len(flagged):,} flagged "
                  f"({len(bad):,} broken written), rows in order and flags exact: {right}; "
                  f"peak RSS {peak_kb / 1024:.1f} MB; {seconds:.1f} s ({size / seconds:,.0f} rows/s)")
    growth = peaks[-1] / peaks[0] - 1
    print(f"peak memory from {args.sizes[0]:,} to {args.sizes[-1]:,} rows: {growth:+.1%}")
    if growth > 0.25:
        ok = False
        print("FAIL: peak memory grows with the file size")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
