"""Memory check: engines created, used and dropped free their native memory (issue 10).

    PYTHONPATH=src python benchmarks/engine_churn.py [--engines 2000] [--max-growth-mb 50]

Creates `--engines` Engines in turn (every other one via `with_overrides`, as a
what-if loop does), each deciding one case whose items reach the largest
durable_rules rulesets, and drops it. Resident memory (/proc/self/statm) is
sampled after a warm-up of 20 engines and every fifth of the run; exit status 1
if it grew by `--max-growth-mb` or more. On a30c676 each such engine leaked
about 5 MB of durable session tables. Linux only (reads /proc). Not a test:
tests/test_engine_reliability.py runs 60.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

from mtus_rules import Engine
from mtus_rules.packs import bundled_pack_dirs, load_pack

CASE = {
    "date_of_injury": "2013-01-01",
    "request_date": "2014-01-01",
    "requested_items": [
        {"description": t, "treatment": t, "body_regions": ["lumbar"], "quantity": {"visits": 3}}
        for t in ["physical_therapy", "occupational_therapy", "aquatic_therapy", "manipulation", "massage", "tens",
                  "acupuncture", "mechanical_traction", "nmes"]
    ],
}


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", type=int, default=2000)
    parser.add_argument("--max-growth-mb", type=float, default=50)
    args = parser.parse_args()
    pack = load_pack(bundled_pack_dirs()[0])
    base = Engine([pack], cache_size=0)

    def one(i: int) -> None:
        engine = base.with_overrides({"mtus.cpmtg.massage.limit": i % 50}) if i % 2 else Engine([pack], cache_size=0)
        engine.evaluate(CASE)

    for i in range(20):
        one(i)
    gc.collect()
    start, began = rss_mb(), time.perf_counter()
    step = max(1, args.engines // 5)
    for i in range(1, args.engines + 1):
        one(i)
        if i % step == 0 or i == args.engines:
            gc.collect()
            print(json.dumps({"engines": i, "rss_mb": round(rss_mb(), 1), "growth_mb": round(rss_mb() - start, 1),
                              "seconds": round(time.perf_counter() - began, 1)}), flush=True)
    return 0 if rss_mb() - start < args.max_growth_mb else 1


if __name__ == "__main__":
    sys.exit(main())
