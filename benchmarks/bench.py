"""Throughput benchmark: Engine.evaluate against a hand-written baseline.

    PYTHONPATH=src python benchmarks/bench.py [--items 20000] [--repeat 3] [--min-items-per-second 20000] [--extended] [--no-memo] [--clock wall|cpu]

In one process it
1. generates `--items` requested items as validated `Case` objects (benchmarks/generate.py;
   with `--extended`, varied further with surgeries, the cap authorization, a home
   program reason, high frequencies and long durations, as generate.py --extended);
2. checks that the engine and the baseline (benchmarks/baseline.py) agree on
   every item's outcome and deciding rule ids, and aborts (exit 2) on the first
   mismatch, printing the case;
3. times `engine.evaluate(case)` (validated case in, full Decision with findings,
   citations and rationale out) and the baseline (outcome + deciding rule ids
   only) over the same cases, `--repeat` times each. Each timed pass of
   evaluate runs on a fresh Engine (built outside the timing), so its memo of
   decisions has never seen these cases: every case is distinct (its own dates,
   history and request), and the memo serves only what an earlier case of the
   same pass shares with it, as it would in a stream of new cases. The memo's
   hit rates over the timed passes are printed. With `--no-memo` the gated
   figure is Engine(cache_size=0)'s, which decides every item from scratch;
   both figures are printed either way;
4. times `Case.model_validate(dict)` over the same cases, and evaluate with the
   other matcher backend (memo and no memo, evaluation._backends), for
   information (neither is part of the gated figure);
5. prints a table and exits 1 when evaluate's median items/second is below
   `--min-items-per-second`, so it can gate a CI job.

Not a test: pytest only collects tests/.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if (HERE.parent / "src").is_dir():
    sys.path.insert(0, str(HERE.parent / "src"))

from baseline import decide_items  # noqa: E402
from generate import DEFAULT_SEED, count_items, generate_dicts  # noqa: E402


def machine_info() -> list[tuple[str, str]]:
    from importlib import metadata

    import mtus_rules

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("platform", platform.platform()),
        ("cpu", f"{cpu} ({os.cpu_count()} logical, {affinity} usable)"),
        ("python", f"{platform.python_implementation()} {sys.version.split()[0]} ({sys.executable})"),
        ("mtus-rules", mtus_rules.__version__),
        ("pydantic", version("pydantic")),
        ("durable-rules", version("durable-rules")),
    ]


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


class Timing:
    def __init__(self, name: str, what: str):
        self.name = name
        self.what = what
        self.rates: list[float] = []  # items/second, one per repeat
        self.cpu_rates: list[float] = []  # items per second of this process's CPU time, one per repeat
        self.per_item_us: list[float] = []  # one sample per item, pooled over repeats

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def cpu_rate(self) -> float:
        return statistics.median(self.cpu_rates)

    def summary(self) -> tuple[float, float, float]:
        s = sorted(self.per_item_us)
        return self.rate, percentile(s, 0.5), percentile(s, 0.99)


def time_calls(
    timing: Timing,
    fn: Callable[[Any], Any] | None,
    inputs: list[Any],
    sizes: list[int],
    repeat: int,
    fresh: Callable[[], Callable[[Any], Any]] | None = None,
) -> None:
    """Call fn on every input, `repeat` times; per call time is shared by its
    items. With `fresh`, each pass times the function it returns, made
    before the pass starts (outside the timing)."""
    clock = time.perf_counter_ns
    total_items = sum(sizes)
    for _ in range(repeat):
        if fresh is not None:
            fn = fresh()
        assert fn is not None
        gc.collect()
        per_call = [0] * len(inputs)
        cpu_start = time.process_time()
        start = clock()
        for i, x in enumerate(inputs):
            t0 = clock()
            fn(x)
            per_call[i] = clock() - t0
        wall = (clock() - start) / 1e9
        cpu = time.process_time() - cpu_start
        timing.rates.append(total_items / wall)
        timing.cpu_rates.append(total_items / cpu)
        for ns, n in zip(per_call, sizes):
            timing.per_item_us.extend([ns / n / 1000.0] * n)


def check_agreement(engine: Any, cases: list[Any]) -> int:
    """Compare outcomes and deciding rule ids on every item; abort loudly on a mismatch."""
    checked = 0
    for case in cases:
        decision = engine.evaluate(case)
        got = [(item.outcome.value, list(item.rules)) for item in decision.items]
        expected = decide_items(case)
        if got != expected:
            print("\n" + "!" * 78, file=sys.stderr)
            print("MISMATCH between Engine.evaluate and benchmarks/baseline.py", file=sys.stderr)
            print("case:", case.model_dump_json(indent=1, exclude_defaults=True), file=sys.stderr)
            for index, (g, e) in enumerate(zip(got, expected)):
                flag = "" if g == e else "   <-- differs"
                print(f"item {index}: engine   {g[0]} {g[1]}{flag}", file=sys.stderr)
                print(f"item {index}: baseline {e[0]} {e[1]}", file=sys.stderr)
            print("!" * 78, file=sys.stderr)
            sys.exit(2)
        checked += len(got)
    return checked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark Engine.evaluate against a hand-written baseline.")
    parser.add_argument("--items", type=int, default=20_000, help="requested items to generate (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the cases (default 3)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--extended",
        action="store_true",
        help="generate the extended variety (surgery, cap authorization, ...; see generate.py) instead of the plain cases",
    )
    parser.add_argument(
        "--no-memo",
        action="store_true",
        help="gate on Engine(cache_size=0), which keeps no memo of decisions (both figures are printed either way)",
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="gate on wall-clock time (default) or on this process's CPU time, steadier on a shared machine",
    )
    parser.add_argument(
        "--min-items-per-second",
        type=float,
        default=20_000,
        help="exit 1 when evaluate's median items/s is below this (default 20000; 0 disables)",
    )
    args = parser.parse_args(argv)

    from mtus_rules import Case, Engine

    print("mtus-rules benchmark")
    for key, value in machine_info():
        print(f"  {key:<14} {value}")

    dicts = generate_dicts(args.items, args.seed, extended=args.extended)
    t0 = time.perf_counter()
    cases = [Case.model_validate(d) for d in dicts]  # once, up front: evaluate gets a validated case
    sizes = [len(c.requested_items) for c in cases]
    n_items = count_items(cases)
    multi = sum(1 for s in sizes if s > 1)
    print(f"  cases          {len(cases)} cases, {n_items} items ({multi} multi-item cases), seed {args.seed}"
          f"{', extended variety' if args.extended else ''}, "
          f"generated+validated in {time.perf_counter() - t0:.2f} s")

    engine = Engine()
    checked = check_agreement(engine, cases)  # also warms the engine up
    print(f"  agreement      engine and baseline agree on outcome and deciding rules for all {checked} items")
    print(f"  backend        {engine.backend} (MTUS_RULES_BACKEND or the default); the other is timed for information")
    print()

    ev = Timing("engine.evaluate", "Decision: outcome, rules, findings, citations, rationale (memo on)")
    bl = Timing("baseline", "outcome + deciding rule ids only (no findings/citations/text)")
    val = Timing("Case.model_validate", "dict -> Case, for information (not in evaluate)")
    # For information, each on a fresh engine: without the memo of engine
    # answers (durable_rules asked for every region of every item), and with
    # the what-if search that evaluate(what_if=True) adds.
    no_memo = Timing("evaluate, no memo", "same Decision; Engine(cache_size=0): durable_rules on every facet")
    what_if = Timing("evaluate, what_if", "Decision + supported visits + alternatives (evaluate(what_if=True))")
    # For information: the other matcher (evaluation._backends) decides the same
    # conditions; both figures of the one this engine does not use, each pass on
    # a fresh engine as above. Not gated.
    other_backend = "python" if engine.backend != "python" else None
    if other_backend is None:
        from mtus_rules.evaluation._backends import DURABLE, available

        other_backend = DURABLE if DURABLE in available() else None
    other = Timing(f"{other_backend}, memo", f"same Decision; Engine(backend={other_backend!r})")
    other_no_memo = Timing(f"{other_backend}, no memo", f"same Decision; Engine(cache_size=0, backend={other_backend!r})")
    fresh: list[Any] = []  # one Engine per timed pass: its memo starts empty

    def fresh_engine() -> Callable[[Any], Any]:
        fresh.append(Engine())
        return fresh[-1].evaluate

    time_calls(ev, None, cases, sizes, args.repeat, fresh=fresh_engine)
    time_calls(no_memo, Engine(cache_size=0).evaluate, cases, sizes, args.repeat)
    with_search = Engine()
    time_calls(what_if, lambda case: with_search.evaluate(case, what_if=True), cases, sizes, args.repeat)
    if other_backend is not None:
        time_calls(other, None, cases, sizes, args.repeat, fresh=lambda: Engine(backend=other_backend).evaluate)
        time_calls(other_no_memo, Engine(cache_size=0, backend=other_backend).evaluate, cases, sizes, args.repeat)
    time_calls(bl, decide_items, cases, sizes, args.repeat)
    time_calls(val, Case.model_validate, dicts, sizes, args.repeat)

    header = f"{'':22} {'items/s':>11} {'CPU items/s':>12} {'median µs/item':>15} {'p99 µs/item':>12}   output"
    print(f"{n_items} items x {args.repeat} repeats; items/s is the median over repeats (wall clock; CPU items/s")
    print("counts this process's CPU time only); µs/item: each call's wall time shared by its items, pooled over repeats.")
    print(header)
    print("-" * (len(header) + 50))
    shown = [ev, no_memo, what_if, *([other, other_no_memo] if other_backend else []), bl, val]
    for t in shown:
        rate, med, p99 = t.summary()
        print(f"{t.name:22} {rate:>11,.0f} {t.cpu_rate:>12,.0f} {med:>15.1f} {p99:>12.1f}   {t.what}")
    print("-" * (len(header) + 50))
    ratio = bl.rate / ev.rate
    print(f"engine/baseline time ratio: {ratio:.1f}x  (baseline {bl.rate:,.0f} items/s vs engine {ev.rate:,.0f} items/s); "
          f"CPU time: {bl.cpu_rate / ev.cpu_rate:.1f}x; without the memo {bl.rate / no_memo.rate:.1f}x wall, "
          f"{bl.cpu_rate / no_memo.cpu_rate:.1f}x CPU")
    print(f"validation adds {1e6 / val.rate:.1f} µs/item on top of evaluate when a dict is passed in")
    item_hits = sum(c.item_hits for e in fresh for c in e._packs)
    item_lookups = sum(c.item_lookups for e in fresh for c in e._packs)
    match_hits = sum(c.match_hits for e in fresh for c in e._packs)
    match_lookups = sum(c.match_lookups for e in fresh for c in e._packs)
    engine_calls = sum(c.engine_calls for e in fresh for c in e._packs)
    print(f"memo hit rate over the timed passes (each on a fresh engine): item decisions "
          f"{item_hits / max(item_lookups, 1):.1%} of {item_lookups:,}; engine answers per region "
          f"{match_hits / max(match_lookups, 1):.1%} of {match_lookups:,}; durable_rules asked {engine_calls:,} times "
          f"(the rest put together from what each rule answered before)")
    print(f"memo on / memo off: {ev.rate / no_memo.rate:.2f}x")
    print(f"per-repeat items/s: evaluate {', '.join(f'{r:,.0f}' for r in ev.rates)} "
          f"(CPU {', '.join(f'{r:,.0f}' for r in ev.cpu_rates)}); "
          f"baseline {', '.join(f'{r:,.0f}' for r in bl.rates)}")

    gated = no_memo if args.no_memo else ev
    rate = gated.cpu_rate if args.clock == "cpu" else gated.rate
    what = f"{gated.name} {rate:,.0f} items/s ({'CPU' if args.clock == 'cpu' else 'wall-clock'} time)"
    if args.min_items_per_second and rate < args.min_items_per_second:
        print(f"\nFAIL: {what} is under the threshold {args.min_items_per_second:,.0f} items/s")
        return 1
    print(f"\nOK: {what} >= threshold {args.min_items_per_second:,.0f} items/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
