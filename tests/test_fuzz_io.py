"""Fuzzing the readers (issue 10): mutated case dicts, case files and JSON Lines
rows give a decision or a documented error (CaseError; a row's problems), never
a traceback from the command line and never a lost row.

A few hundred examples here; `benchmarks/fuzz.py --inputs 20000` is the long run
of the same checks (tests/fuzzing.py).
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtus_rules import Engine, load_case
from mtus_rules.testing import case_dicts

from .fuzzing import (
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
from .helpers import EXAMPLES, ROOT

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def shared() -> Engine:
    return Engine()


@FUZZ
@given(data=case_dicts(), rng=st.randoms(use_true_random=False))
def test_mutated_case_dicts_decide_or_raise_case_error(shared, data, rng):
    check_case(shared, mutate_case(rng, data))


@settings(FUZZ, max_examples=100)
@given(data=case_dicts(), rng=st.randoms(use_true_random=False), suffix=st.sampled_from([".yaml", ".json"]))
def test_mutated_case_files_load_or_raise_case_error_and_the_cli_never_tracebacks(shared, data, rng, suffix):
    with tempfile.TemporaryDirectory() as folder, cli_engine(shared):
        path = Path(folder) / f"case{suffix}"
        path.write_bytes(case_file_bytes(rng, data, suffix))
        check_file(path, shared)


@settings(FUZZ, max_examples=40)
@given(rows=st.lists(case_dicts(), min_size=1, max_size=8), rng=st.randoms(use_true_random=False))
def test_mutated_jsonl_rows_each_get_one_result_in_order(shared, rows, rng):
    with tempfile.TemporaryDirectory() as folder, cli_engine(shared):
        source = Path(folder) / "in.jsonl"
        source.write_bytes(b"".join(jsonl_row(rng, row) + b"\n" for row in rows))
        check_batch(source, Path(folder) / "out.jsonl")


def test_mutated_jsonl_rows_through_two_workers(shared, tmp_path):
    seeds = [load_case(path).model_dump(mode="json", exclude_none=True) for path in sorted(EXAMPLES.glob("seed-*.yaml"))]
    rng = random.Random(10)
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(jsonl_row(rng, rng.choice(seeds)) + b"\n" for _ in range(300)))
    with cli_engine(shared):
        rows, bad = check_batch(source, tmp_path / "out.jsonl", workers=2)
    assert rows >= 250 and 0 < bad < rows


@pytest.mark.once  # YAML and lint only: the same on every Python and matcher
@settings(FUZZ, max_examples=60)
@given(rng=st.randoms(use_true_random=False))
def test_mutated_rule_packs_load_or_raise_rule_pack_error_and_lint_never_tracebacks(rng, tmp_path_factory):
    pack = tmp_path_factory.mktemp("pack")
    write_mutated_pack(rng, ROOT / "rules" / "mtus-2009", pack)
    check_pack(pack, load_case(next(EXAMPLES.glob("seed-004-*.yaml"))))
