"""Soak check: memory stays flat over many decisions, and threads decide alike.

    PYTHONPATH=src python benchmarks/soak.py [--items 1000000] [--threads 2] [--max-growth-mb 50]
        [--min-thread-ratio X] [--only memory|threads]

(a) Memory: one Engine in one process decides generated cases until `--items`
    requested ITEMS (not cases) have been decided, after a warm-up of
    `--warmup` items (default 10,000). Resident memory (current RSS from
    /proc/self/statm; ru_maxrss where /proc is missing) is sampled after the
    warm-up, every `--every` items (default 100,000) and at the end. Fails when
    RSS grows by `--max-growth-mb` (default 50) or more. Throughput per
    interval is printed too, so a slowdown over time shows.
(b) Threads: does a second thread add throughput, and do threads decide alike?
    For each backend that imports (durable_rules, python), with the memo on
    (default cache_size) and off (cache_size=0): `--repeats` (default 3)
    interleaved pairs of runs, each on a fresh Engine: 1 thread decides the
    `--thread-items` list, then `--threads` threads sharing one Engine decide
    the same list split into interleaved parts (each case once in total).
    Only `evaluate` is timed (wall clock); decisions are serialized after.
    Prints the median items/s of each side, their ratio, the process's CPU
    seconds per wall second of each side (below 1: waiting, or the machine
    busy with others; above 1: threads running on two cores at once), the
    ratio in items per CPU second (what threads cost in work, steadier than
    the wall-clock ratio on a busy machine) and the wall-clock ratio of each
    repeat. Every threaded decision's
    `model_dump_json()` must be byte-identical to an untimed single-threaded
    pass. Fails on any difference, and, with `--min-thread-ratio X`, when any
    engine's ratio is below X.

    Under CPython's GIL only one thread runs Python at a time, so the best a
    second thread can do for this pure-Python work is to cost nothing (ratio
    1.0); use processes (`mtus-rules batch --workers N`) for more throughput.

Exit status: 0 when both pass, 1 otherwise. `--items 20000` is a smoke run of a
few seconds. Not a test: pytest only collects tests/.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
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


@dataclass
class ThreadFigures:
    """Throughput of one engine configuration, 1 thread against N, over the repeats."""

    label: str
    single: list[float] = field(default_factory=list)  # items/s, one per repeat
    multi: list[float] = field(default_factory=list)
    single_cpu: list[float] = field(default_factory=list)  # process CPU s / wall s
    multi_cpu: list[float] = field(default_factory=list)
    differing: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.multi) / statistics.median(self.single)

    @property
    def cpu_ratio(self) -> float:
        """The same ratio in items per CPU second: what the threads cost in
        work, whatever else the machine is running."""
        per_cpu = [rate / share for rate, share in zip(self.multi, self.multi_cpu)]
        return statistics.median(per_cpu) / statistics.median(r / c for r, c in zip(self.single, self.single_cpu))


def _decide(engine, cases, threads: int) -> tuple[list, float, float, list[BaseException]]:
    """Decide every case once: thread s decides cases[s::threads]. Returns the
    decisions in input order, wall and CPU seconds, and what the threads raised.
    Only `evaluate` is timed: serializing is the caller's, after the clock."""
    decisions: list = [None] * len(cases)
    errors: list[BaseException] = []
    if threads == 1:
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        for k, case in enumerate(cases):
            decisions[k] = engine.evaluate(case)
        return decisions, time.perf_counter() - w0, time.process_time() - c0, errors

    # Started together: the clock starts when every thread is ready, so thread
    # creation is not timed and no thread runs alone first.
    barrier = threading.Barrier(threads + 1)

    def work(slot: int) -> None:
        try:
            barrier.wait()
            for k in range(slot, len(cases), threads):  # interleaved: every thread sees every kind of case
                decisions[k] = engine.evaluate(cases[k])
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(s,), name=f"soak-{s}") for s in range(threads)]
    for w in workers:
        w.start()
    gc.collect()
    barrier.wait()
    w0, c0 = time.perf_counter(), time.process_time()
    for w in workers:
        w.join()
    return decisions, time.perf_counter() - w0, time.process_time() - c0, errors


def _configurations() -> list[tuple[str, dict]]:
    from mtus_rules.evaluation import _backends

    configs = []
    for backend in (b for b in (_backends.DURABLE, _backends.PYTHON) if b in _backends.available()):
        configs.append((f"{backend}, memo on", {"backend": backend}))
        configs.append((f"{backend}, cache_size=0", {"backend": backend, "cache_size": 0}))
    return configs


def measure_threads(cases, threads: int, repeats: int) -> list[ThreadFigures]:
    """For each backend that imports, memo on and off: `repeats` interleaved
    pairs of (1 thread, `threads` threads), each on a fresh Engine, every
    multi-threaded decision compared with an untimed single-threaded pass."""
    from mtus_rules import Engine

    figures = []
    n_items = sum(len(c.requested_items) for c in cases)
    for label, options in _configurations():
        fig = ThreadFigures(label)
        reference = [d.model_dump_json() for d in _decide(Engine(**options), cases, 1)[0]]
        for repeat in range(repeats):
            # Alternate which goes first, so a drift in the machine's load
            # does not favour one side.
            order = (1, threads) if repeat % 2 == 0 else (threads, 1)
            for t in order:
                engine = Engine(**options)  # fresh: no memo or state from an earlier pass
                decisions, wall, cpu, errors = _decide(engine, cases, t)
                fig.errors += [f"{type(e).__name__}: {e}" for e in errors]
                (fig.single if t == 1 else fig.multi).append(n_items / wall)
                (fig.single_cpu if t == 1 else fig.multi_cpu).append(cpu / wall)
                if t > 1:
                    for k, (want, got) in enumerate(zip(reference, decisions)):
                        if got is None or got.model_dump_json() != want:
                            fig.differing += 1
                            if fig.differing <= 3:
                                print(f"    FAIL: {label}, case {cases[k].case_id}: decision differs")
                                print(f"      single:  {want[:400]}")
                                print(f"      thread:  {got.model_dump_json()[:400] if got is not None else None}")
        figures.append(fig)
        print(f"    {label:<28} {statistics.median(fig.single):>10,.0f} {statistics.median(fig.multi):>12,.0f} "
              f"{fig.ratio:>6.2f}   {statistics.median(fig.single_cpu):>8.2f} {statistics.median(fig.multi_cpu):>5.2f}   "
              f"{fig.cpu_ratio:>9.2f}   "
              f"{' '.join(f'{m / s:.2f}' for s, m in zip(fig.single, fig.multi))}", flush=True)
    return figures


def check_threads(cases, threads: int, repeats: int, min_ratio: float | None) -> bool:
    n_items = sum(len(c.requested_items) for c in cases)
    print(f"\n(b) threads: {len(cases):,} cases ({n_items:,} items), 1 thread vs {threads} threads sharing one "
          f"Engine, each case decided once, split into {threads} interleaved parts; a fresh Engine per run, "
          f"evaluate only (serialized after the clock), {repeats} interleaved repeats, medians; "
          f"{os.cpu_count()} CPUs")
    print(f"    {'engine':<28} {'1 thread/s':>10} {f'{threads} threads/s':>12} {'ratio':>6}   "
          f"{'CPU/wall 1, N':>14}   {'CPU ratio':>9}   ratio per repeat")
    figures = measure_threads(cases, threads, repeats)
    ok = True
    for fig in figures:
        for message in fig.errors[:3]:
            print(f"    FAIL: {fig.label}: a thread raised {message}")
        if fig.errors:
            ok = False
        if fig.differing:
            ok = False
            print(f"    FAIL: {fig.label}: {fig.differing} decisions differ from the single-threaded ones")
        if min_ratio is not None and fig.ratio < min_ratio:
            ok = False
            print(f"    FAIL: {fig.label}: {threads} threads / 1 thread = {fig.ratio:.2f}, below {min_ratio:g}")
    if ok:
        print(f"    PASS: every {threads}-thread decision byte-identical to single-threaded"
              + (f", every ratio >= {min_ratio:g}" if min_ratio is not None else ""))
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Soak check: RSS growth over many items, and threads deciding alike.")
    parser.add_argument("--items", type=int, default=1_000_000, help="items to decide in (a) (default 1,000,000)")
    parser.add_argument("--threads", type=int, default=2, help="threads in (b) (default 2)")
    parser.add_argument("--warmup", type=int, default=10_000, help="items decided before the first RSS sample")
    parser.add_argument("--every", type=int, default=100_000, help="items between RSS samples")
    parser.add_argument("--max-growth-mb", type=float, default=50.0, help="fail when RSS grows by this much or more")
    parser.add_argument("--distinct", type=int, default=20_000, help="distinct generated items to cycle through")
    parser.add_argument("--thread-items", type=int, default=20_000, help="items in the thread check (b)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved 1-thread/N-thread pairs in (b) (default 3)")
    parser.add_argument("--min-thread-ratio", type=float, default=None, metavar="X",
                        help="fail when N threads / 1 thread is below X for any engine in (b) (default: no gate)")
    parser.add_argument("--only", choices=("memory", "threads"), help="run only part (a) memory or (b) threads")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.threads < 2:
        parser.error("--threads must be at least 2")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    from mtus_rules import Engine

    t0 = time.perf_counter()
    cases = generate_cases(max(args.distinct, 1), args.seed)
    print(f"mtus-rules soak: Python {sys.version.split()[0]}, pid {os.getpid()}, {len(cases):,} distinct cases "
          f"generated in {time.perf_counter() - t0:.1f} s, RSS {rss_mb():.1f} MB\n")

    ok_memory = ok_threads = True
    if args.only != "threads":
        ok_memory = soak_memory(Engine(), cases, args.items, args.warmup, args.every, args.max_growth_mb)
    if args.only != "memory":
        thread_cases = cases if args.thread_items == args.distinct else generate_cases(max(args.thread_items, 1), args.seed)
        ok_threads = check_threads(thread_cases, args.threads, args.repeats, args.min_thread_ratio)
    print()
    print(f"memory: {'PASS' if ok_memory else 'FAIL'}{' (not run)' if args.only == 'threads' else ''}; "
          f"threads: {'PASS' if ok_threads else 'FAIL'}{' (not run)' if args.only == 'memory' else ''}")
    return 0 if ok_memory and ok_threads else 1


if __name__ == "__main__":
    sys.exit(main())
