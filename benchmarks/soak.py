"""Soak check: memory stays flat over many decisions, and threads decide alike.

    PYTHONPATH=src python benchmarks/soak.py [--items 1000000] [--threads 2] [--max-growth-mb 50]

(a) Memory: one Engine in one process decides generated cases until `--items`
    requested ITEMS (not cases) have been decided, after a warm-up of
    `--warmup` items (default 10,000). Resident memory (current RSS from
    /proc/self/statm; ru_maxrss where /proc is missing) is sampled after the
    warm-up, every `--every` items (default 100,000) and at the end. Fails when
    RSS grows by `--max-growth-mb` (default 50) or more. Throughput per
    interval is printed too, so a slowdown over time shows.
(b) Threads: the same list of cases is decided single-threaded, then by
    `--threads` threads at once on one shared Engine, each thread deciding the
    whole list; every `decision.model_dump_json()` must be byte-identical to
    the single-threaded one. Fails on any difference.

Exit status: 0 when both pass, 1 otherwise. `--items 20000` is a smoke run of a
few seconds. Not a test: pytest only collects tests/.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if (HERE.parent / "src").is_dir():
    sys.path.insert(0, str(HERE.parent / "src"))

from generate import DEFAULT_SEED, generate_cases  # noqa: E402

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_mb() -> float:
    """Current resident set size in MB (peak RSS if /proc is not available)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def soak_memory(engine, cases, items: int, warmup: int, every: int, max_growth_mb: float) -> bool:
    print(f"(a) memory: {items:,} items after a {warmup:,}-item warm-up, one process, one Engine")
    sizes = [len(c.requested_items) for c in cases]
    n = len(cases)

    # Warm-up: decide items until `warmup` have been decided.
    i = done = 0
    while done < warmup:
        engine.evaluate(cases[i % n])
        done += sizes[i % n]
        i += 1
    gc.collect()
    start_rss = rss_mb()
    rows = [(0, start_rss, float("nan"))]
    print(f"    {'items decided':>14} {'RSS MB':>9} {'growth MB':>10} {'items/s (interval)':>19}")
    print(f"    {0:>14,} {start_rss:>9.1f} {0.0:>10.1f} {'(after warm-up)':>19}")

    decided = 0
    next_sample = every
    t_interval = t_start = time.perf_counter()
    items_interval = 0
    while decided < items:
        k = i % n
        case = cases[k]
        size = sizes[k]
        if decided + size > items:  # stop exactly at `items`: decide a trimmed copy of the last case
            case = case.model_copy(update={"requested_items": case.requested_items[: items - decided]})
            size = items - decided
        engine.evaluate(case)
        decided += size
        items_interval += size
        i += 1
        if decided >= next_sample or decided >= items:
            now = time.perf_counter()
            rate = items_interval / (now - t_interval)
            rss = rss_mb()
            rows.append((decided, rss, rate))
            print(f"    {decided:>14,} {rss:>9.1f} {rss - start_rss:>10.1f} {rate:>19,.0f}", flush=True)
            t_interval, items_interval = now, 0
            while next_sample <= decided:
                next_sample += every
    elapsed = time.perf_counter() - t_start
    gc.collect()
    end_rss = rss_mb()
    growth = end_rss - start_rss
    print(f"    RSS start {start_rss:.1f} MB, end {end_rss:.1f} MB (after gc.collect), growth {growth:+.1f} MB "
          f"(limit < {max_growth_mb:g} MB)")
    print(f"    throughput {decided / elapsed:,.0f} items/s overall ({decided:,} items in {elapsed:.1f} s)")
    ok = growth < max_growth_mb
    print(f"    {'PASS' if ok else 'FAIL'}: memory growth {growth:+.1f} MB")
    return ok


def check_threads(engine, cases, threads: int) -> bool:
    n_items = sum(len(c.requested_items) for c in cases)
    print(f"\n(b) threads: {len(cases):,} cases ({n_items:,} items), single-threaded vs {threads} threads "
          "on one shared Engine, each thread deciding the whole list")
    t0 = time.perf_counter()
    reference = [engine.evaluate(c).model_dump_json() for c in cases]
    single = time.perf_counter() - t0

    results: list[list[str] | None] = [None] * threads
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work(slot: int) -> None:
        try:
            barrier.wait()
            # Each thread walks the list from a different starting point, so the
            # threads decide different cases at the same moment.
            offset = slot * len(cases) // threads
            out: list[str] = [""] * len(cases)
            for j in range(len(cases)):
                k = (offset + j) % len(cases)
                out[k] = engine.evaluate(cases[k]).model_dump_json()
            results[slot] = out
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(s,), name=f"soak-{s}") for s in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    multi = time.perf_counter() - t0

    print(f"    single thread: {n_items / single:,.0f} items/s (evaluate + model_dump_json)")
    print(f"    {threads} threads:     {threads * n_items / multi:,.0f} items/s in total "
          f"({threads * n_items:,} items in {multi:.1f} s)")
    ok = True
    if errors:
        ok = False
        for exc in errors:
            print(f"    FAIL: a thread raised {type(exc).__name__}: {exc}")
    differing = 0
    for slot, out in enumerate(results):
        if out is None:
            continue
        for k, (want, got) in enumerate(zip(reference, out)):
            if want != got:
                differing += 1
                if differing <= 3:
                    print(f"    FAIL: thread {slot}, case {cases[k].case_id}: decision differs")
                    print(f"      single:  {want[:400]}")
                    print(f"      thread:  {got[:400]}")
    if differing:
        ok = False
        print(f"    FAIL: {differing} decisions differ from the single-threaded ones")
    if ok:
        print(f"    PASS: all {threads} x {len(cases):,} decisions byte-identical to single-threaded")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Soak check: RSS growth over many items, and thread agreement.")
    parser.add_argument("--items", type=int, default=1_000_000, help="items to decide in (a) (default 1,000,000)")
    parser.add_argument("--threads", type=int, default=2, help="threads in (b) (default 2)")
    parser.add_argument("--warmup", type=int, default=10_000, help="items decided before the first RSS sample")
    parser.add_argument("--every", type=int, default=100_000, help="items between RSS samples")
    parser.add_argument("--max-growth-mb", type=float, default=50.0, help="fail when RSS grows by this much or more")
    parser.add_argument("--distinct", type=int, default=20_000, help="distinct generated items to cycle through")
    parser.add_argument("--thread-items", type=int, default=20_000, help="items in the thread check (b)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)

    from mtus_rules import Engine

    engine = Engine()
    t0 = time.perf_counter()
    cases = generate_cases(max(args.distinct, 1), args.seed)
    print(f"mtus-rules soak: Python {sys.version.split()[0]}, pid {os.getpid()}, {len(cases):,} distinct cases "
          f"generated in {time.perf_counter() - t0:.1f} s, RSS {rss_mb():.1f} MB\n")

    ok_memory = soak_memory(engine, cases, args.items, args.warmup, args.every, args.max_growth_mb)
    thread_cases = cases if args.thread_items == args.distinct else generate_cases(max(args.thread_items, 1), args.seed)
    ok_threads = check_threads(engine, thread_cases, args.threads)
    print()
    print(f"memory: {'PASS' if ok_memory else 'FAIL'}; threads: {'PASS' if ok_threads else 'FAIL'}")
    return 0 if ok_memory and ok_threads else 1


if __name__ == "__main__":
    sys.exit(main())
