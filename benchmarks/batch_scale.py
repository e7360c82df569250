"""`mtus-rules batch` at scale: items per second with N workers and with one,
and peak memory that does not grow with the file.

    PYTHONPATH=src python benchmarks/batch_scale.py                      # 100,000 and 1,000,000 items
    PYTHONPATH=src python benchmarks/batch_scale.py --items 100000 --single-at 100000   # a quick look

Writes JSON Lines of generated cases (benchmarks/generate.py, all distinct,
the plain generator: 1,000,000 items is about 740,000 rows), then for each
size runs `mtus-rules batch IN -o OUT --workers W` in a fresh process and
prints the wall time, items/s, the batch process's peak resident memory
(VmHWM) and the largest worker's, and where the CPU time went (the parent
reads and writes; the workers parse, decide and serialize). At `--single-at`
it also runs `--workers 1` and prints the ratio, and a plain Python baseline
over the same file (one process: read, validate, decide with
benchmarks/baseline.py, outcome only, write) with each run's items/s as a
multiple of it: the figure to compare across machines. Checks every run has one
output line per input row, in order; exits 1 if not, or if the parent's peak
memory at the largest size is more than 25% over the smallest.

It loads every core for the length of the run: run it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

# The child reports its own peak (VmHWM, not getrusage's ru_maxrss, which on
# Linux survives fork and exec), the largest worker's peak (ru_maxrss of the
# children it waited for) and the CPU seconds of itself and of its workers.
RUNNER = (
    "import resource, runpy, sys\n"
    "sys.argv = ['mtus-rules', 'batch', sys.argv[1], '-o', sys.argv[2], '--workers', sys.argv[3], '--no-progress']\n"
    "try:\n    runpy.run_module('mtus_rules', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(hwm, kids.ru_maxrss, me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime, file=sys.stderr)\n"
)


# The same-run yardstick: the same file read, validated and decided by the
# hand-written baseline (benchmarks/baseline.py: outcome and deciding rule ids
# only, no findings or text) and written as a line per row, in one plain Python
# process. Items/s of a batch over this is a figure that carries from one
# machine to another, where items/s alone does not.
BASELINE = (
    "import json, sys\n"
    "sys.path.insert(0, sys.argv[3])\n"
    "from baseline import decide_items\n"
    "from mtus_rules.case.model import Case\n"
    "with open(sys.argv[1], 'rb') as rows, open(sys.argv[2], 'w') as out:\n"
    "    for row, line in enumerate(rows):\n"
    "        decided = decide_items(Case.model_validate(json.loads(line)))\n"
    "        out.write(json.dumps({'row': row, 'items': decided}) + '\\n')\n"
)


def baseline_seconds(path: Path) -> float:
    # Timed as `run` times a batch: the whole process, start-up included.
    out = path.with_suffix(".baseline.jsonl")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", BASELINE, str(path), str(out), str(HERE)], check=True)
    seconds = time.perf_counter() - started
    out.unlink()
    return seconds


def write_cases(path: Path, items: int, seed: int) -> tuple[int, int]:
    """Distinct generated cases until `items` items, one a line; (rows, items)."""
    rng = random.Random(seed)
    rows = total = 0

    with path.open("w", encoding="utf-8") as out:
        while total < items:
            case = generate.generate_case_dict(rng, rows)
            case["requested_items"] = case["requested_items"][: items - total]
            total += len(case["requested_items"])
            out.write(json.dumps(case, default=str) + "\n")
            rows += 1
    return rows, total


def run(path: Path, workers: int) -> dict:
    out = path.with_suffix(f".w{workers}.out.jsonl")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUNNER, str(path), str(out), str(workers)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    hwm, worker_kb, parent_cpu, workers_cpu = done.stderr.strip().splitlines()[-1].split()
    lines = 0
    in_order = True
    with out.open("rb") as stream:
        for number, line in enumerate(stream):
            in_order &= line.startswith(b'{"row":%d,' % number)
            lines += 1
    out.unlink()
    return {
        "seconds": seconds, "parent_mb": int(hwm) / 1024, "worker_mb": int(worker_kb) / 1024,
        "parent_cpu": float(parent_cpu), "workers_cpu": float(workers_cpu), "lines": lines, "in_order": in_order,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--single-at", type=int, default=None, metavar="ITEMS",
                        help="also run --workers 1 at this size (default: the largest)")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    args = parser.parse_args()
    single_at = args.single_at or max(args.items)
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {os.cpu_count()} cores ({affinity} usable by this process); "
          f"load average {os.getloadavg()[0]:.1f} at start; Python {sys.version.split()[0]}")
    ok = True
    peaks: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for items in args.items:
            path = Path(tmp) / f"cases-{items}.jsonl"
            rows, total = write_cases(path, items, args.seed)
            runs = [args.workers] + ([1] if items == single_at and args.workers != 1 else [])
            figures = {}
            for workers in runs:
                f = run(path, workers)
                figures[workers] = f
                right = f["lines"] == rows and f["in_order"]
                ok &= right
                print(f"{total:>9,} items ({rows:,} rows), --workers {workers}: {f['seconds']:.1f} s, "
                      f"{total / f['seconds']:,.0f} items/s; peak RSS batch process {f['parent_mb']:.1f} MB, "
                      f"largest worker {f['worker_mb']:.1f} MB; CPU s: batch process {f['parent_cpu']:.1f}, "
                      f"workers {f['workers_cpu']:.1f}; every row once, in order: {right}")
                if workers == args.workers:
                    peaks.append(f["parent_mb"])
            if len(figures) == 2:
                ratio = figures[1]["seconds"] / figures[args.workers]["seconds"]
                print(f"          --workers {args.workers} is {ratio:.2f}x as fast as --workers 1 at {total:,} items")
            if items == single_at:
                base = baseline_seconds(path)
                print(f"{total:>9,} items, plain Python baseline (one process: read, validate, outcome only, write): "
                      f"{base:.1f} s, {total / base:,.0f} items/s")
                for workers, f in sorted(figures.items()):
                    print(f"          --workers {workers}: {base / f['seconds']:.2f}x the baseline's items/s")
            path.unlink()
    if len(peaks) > 1:
        growth = peaks[-1] / peaks[0] - 1
        print(f"peak RSS of the batch process from {args.items[0]:,} to {args.items[-1]:,} items: {growth:+.1%}")
        if growth > 0.25:
            ok = False
            print("FAIL: peak memory grows with the file size")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
