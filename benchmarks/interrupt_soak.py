"""Soak check: interrupted evaluations never corrupt later decisions (issue 10).

    PYTHONPATH=src python benchmarks/interrupt_soak.py [--interrupted 10000] [--checked 10000] [--cache-sizes 4096,0]

For each cache size: one Engine evaluates generated cases (extended, with and
without what-if) under a SIGALRM interval timer set to a random 20 us - 1 ms,
whose handler raises an exception (as a request timeout or Ctrl-C would),
until `--interrupted` evaluations were interrupted. The same engine then
decides `--checked` other cases, each compared byte for byte with what a
fresh, never interrupted engine decides. Prints one JSON line per cache size;
exit status 1 if any decision differs or raises. POSIX only (SIGALRM). Not a
test: pytest only collects tests/ (tests/test_engine_reliability.py is the
fast version).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate_dicts  # noqa: E402

from mtus_rules import Engine  # noqa: E402
from mtus_rules.case import parse_case  # noqa: E402


class Timeout(Exception):
    pass


def _cases(count: int, seed: int) -> list:
    dicts = generate_dicts(count * 2, seed=seed, extended=True)
    return [parse_case(d) for d in dicts[:count]]


def soak(cache_size: int, interrupted_target: int, checked: list, expected: list[str], warm: list, seed: int) -> dict:
    engine = Engine(cache_size=cache_size)
    rng = random.Random(seed)
    armed = False

    def handler(*_: object) -> None:
        if armed:
            raise Timeout()

    previous = signal.signal(signal.SIGALRM, handler)
    interrupted = attempts = 0
    started = time.perf_counter()
    try:
        while interrupted < interrupted_target:
            case = warm[attempts % len(warm)]
            attempts += 1
            try:
                armed = True
                signal.setitimer(signal.ITIMER_REAL, rng.uniform(0.00002, 0.001))
                engine.evaluate(case, what_if=attempts % 4 == 0)
                armed = False
            except Timeout:
                armed = False
                interrupted += 1
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    interrupt_seconds = time.perf_counter() - started
    wrong = errors = 0
    example = None
    for case, reference in zip(checked, expected):
        try:
            got = engine.evaluate(case).model_dump_json()
        except Exception as exc:  # noqa: BLE001 - counted and shown
            errors += 1
            example = example or repr(exc)[:200]
            continue
        if got != reference:
            wrong += 1
            example = example or case.case_id
    return {
        "cache_size": cache_size,
        "evaluations_started": attempts,
        "interrupted": interrupted,
        "interrupt_phase_s": round(interrupt_seconds, 1),
        "checked": len(checked),
        "wrong": wrong,
        "errors": errors,
        "example": example,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interrupted", type=int, default=10_000)
    parser.add_argument("--checked", type=int, default=10_000)
    parser.add_argument("--cache-sizes", default="4096,0")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    checked = _cases(args.checked, seed=args.seed)
    warm = _cases(5_000, seed=10**6 + args.seed)
    fresh = Engine()
    expected = [fresh.evaluate(c).model_dump_json() for c in checked]
    failed = False
    for size in (int(s) for s in args.cache_sizes.split(",")):
        result = soak(size, args.interrupted, checked, expected, warm, args.seed)
        print(json.dumps(result), flush=True)
        failed |= bool(result["wrong"] or result["errors"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
