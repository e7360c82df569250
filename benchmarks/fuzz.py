"""Long fuzzing run of the readers (issue 10). Not a test: pytest only collects tests/.

    PYTHONPATH=src python benchmarks/fuzz.py [--inputs 20000] [--seed 1] [--kinds dicts,files,rows,packs]

Runs the checks of tests/fuzzing.py (the same ones tests/test_fuzz_io.py runs a
few hundred times) on `--inputs` inputs of each kind:

- dicts: generated valid cases (benchmarks/generate.py, extended) given one to
  three hostile changes (huge or long integers, NaN, deep nesting, loops, lone
  surrogates, control characters, long text, wrong types, odd keys) and decided
  through `Engine.evaluate`: a decision that serialises, or a CaseError.
- files: the same cases written as YAML or JSON and mutated as bytes (flipped
  bytes, invalid UTF-8, NUL, brackets, long digits, YAML tags, anchors and
  aliases, cuts): `load_case` gives a Case or a CaseError and `mtus-rules
  evaluate` exits 0 or 2 without a traceback (one engine is shared by all
  calls, as building one per call would take most of a second).
- rows: JSON Lines files of 1,000 rows (valid, hostile values, mutated bytes)
  through `mtus-rules batch`, alternately with 1 and 2 workers: one result
  line per input line, in order, each a decision or problems.

- packs: a pack of the bundled pack.yaml and one rule file that stands on its
  own, one of the two mutated as data or as bytes: `load_pack` gives a pack or
  a RulePackError whose problems name their file, a pack that loads builds an
  Engine (or a RulePackError) and decides a seed case, and `mtus-rules lint`
  exits 0 or 1 without a traceback. About 0.2 s an input (YAML reading
  dominates): run two seeds side by side for 20,000.

Prints the counts per kind and every failure (the first 20 in full); exits 1 on
any failure. 20,000 inputs of each kind take about 10-20 minutes on one core.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # for tests.fuzzing
if (HERE.parent / "src").is_dir():
    sys.path.insert(0, str(HERE.parent / "src"))

from generate import generate_dicts  # noqa: E402

from mtus_rules import Engine  # noqa: E402
from tests.fuzzing import (  # noqa: E402
    Broken,
    case_file_bytes,
    check_batch,
    check_case,
    check_file,
    check_pack,
    cli_engine,
    jsonl_row,
    mutate_case,
    write_mutated_pack,
)


def _report(kind: str, counts: dict[str, int], failures: list[str], seconds: float) -> None:
    shown = ", ".join(f"{name} {n:,}" for name, n in sorted(counts.items()))
    print(f"{kind}: {sum(counts.values()):,} inputs in {seconds:.0f} s: {shown}; {len(failures)} failures", flush=True)


def fuzz_dicts(engine: Engine, bases: list[dict], rng: random.Random, n: int, failures: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in range(n):
        data = mutate_case(rng, rng.choice(bases))
        try:
            outcome = check_case(engine, data)
        except Broken as exc:
            failures.append(f"dict {i}: {exc}\n{''.join(traceback.format_exception(exc.__cause__ or exc))}")
            outcome = "BROKEN"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def fuzz_files(engine: Engine, bases: list[dict], rng: random.Random, n: int, failures: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder, cli_engine(engine):
        for i in range(n):
            suffix = rng.choice([".yaml", ".json"])
            path = Path(folder) / f"case{suffix}"
            path.write_bytes(case_file_bytes(rng, rng.choice(bases), suffix))
            try:
                outcome = check_file(path, engine)
            except Broken as exc:
                kept = Path(folder).parent / f"fuzz-failure-{i}{suffix}"
                kept.write_bytes(path.read_bytes())
                failures.append(f"file {i} (kept as {kept}): {exc}\n{''.join(traceback.format_exception(exc.__cause__ or exc))}")
                outcome = "BROKEN"
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def fuzz_rows(engine: Engine, bases: list[dict], rng: random.Random, n: int, failures: list[str]) -> dict[str, int]:
    counts = {"decided": 0, "flagged": 0, "blank lines": 0}
    with tempfile.TemporaryDirectory() as folder, cli_engine(engine):
        done, batch = 0, 0
        while done < n:
            size = min(1000, n - done)
            source, out = Path(folder) / "in.jsonl", Path(folder) / "out.jsonl"
            source.write_bytes(b"".join(jsonl_row(rng, rng.choice(bases)) + b"\n" for _ in range(size)))
            try:
                rows, bad = check_batch(source, out, workers=1 + batch % 2)
                counts["decided"] += rows - bad
                counts["flagged"] += bad
                counts["blank lines"] += size - rows
            except Broken as exc:
                kept = Path(folder).parent / f"fuzz-failure-batch-{batch}.jsonl"
                kept.write_bytes(source.read_bytes())
                failures.append(f"batch {batch} (kept as {kept}): {exc}\n{''.join(traceback.format_exception(exc.__cause__ or exc))}")
            done += size
            batch += 1
    return counts


def fuzz_packs(engine: Engine, bases: list[dict], rng: random.Random, n: int, failures: list[str]) -> dict[str, int]:
    from mtus_rules import load_case
    from mtus_rules._resources import bundled_rules_dir

    source = bundled_rules_dir() / "mtus-2009"
    case = load_case(next((HERE.parent / "examples").glob("seed-004-*.yaml")))
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        pack = Path(folder) / "pack"
        for i in range(n):
            how = write_mutated_pack(rng, source, pack)
            try:
                outcome = check_pack(pack, case)
            except Broken as exc:
                kept = Path(folder).parent / f"fuzz-failure-pack-{i}"
                shutil.copytree(pack, kept, dirs_exist_ok=True)
                failures.append(f"pack {i}, {how} (kept as {kept}): {exc}\n{''.join(traceback.format_exception(exc.__cause__ or exc))}")
                outcome = "BROKEN"
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=20_000, help="inputs of each kind (default 20,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default="dicts,files,rows,packs")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bases = generate_dicts(2000, seed=args.seed, extended=True)
    engine = Engine()
    failures: list[str] = []
    runs = {"dicts": fuzz_dicts, "files": fuzz_files, "rows": fuzz_rows, "packs": fuzz_packs}
    for kind in args.kinds.split(","):
        started = time.perf_counter()
        mine: list[str] = []
        counts = runs[kind](engine, bases, rng, args.inputs, mine)
        _report(kind, counts, mine, time.perf_counter() - started)
        failures += mine
    for failure in failures[:20]:
        print("\n" + failure)
    print(f"total failures: {len(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
