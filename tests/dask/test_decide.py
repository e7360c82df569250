"""Deciding on a Dask cluster (mtus_rules.integration.dask) gives, row for row,
what the single-process `evaluate_many` gives, bad rows included; each worker
process builds one engine from the pack's folder, and refuses a pack whose
files differ from those the engine loaded."""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import shutil
from pathlib import Path
from typing import Any

import dask
import dask.bag as db
import dask.dataframe as dd
import pandas as pd
import pytest
from distributed import Client

from mtus_rules import Engine
from mtus_rules.integration.batch import BatchResult
from mtus_rules.integration.dask import EngineSpec, PackMismatchError, WorkerEngineError, decide_bag, decide_frame
from mtus_rules.integration.jsonl import read_jsonl
from mtus_rules.packs.loading import bundled_pack_dirs

from ..helpers import EXAMPLES, make_case, run_python

HISTORY = EXAMPLES / "history" / "generated-cases.jsonl"
CASES: list[dict[str, Any]] = [json.loads(line) for line in HISTORY.read_text(encoding="utf-8").splitlines()[:120]]

# Bad rows of each kind a collection can hold, each of which `batch` reports on its row.
BAD_LINES = [
    b"{not json",
    b'["a", "list"]',
    b'{"request_date": "2014-01-01", "requested_items": [{"description": "m", "treatment": "massage"}]}',
    b'{"case_id": ' + b"7" * 50 + b"}",
    b'{"case_id": "a\xed\xa0\x80"}',
]


def _record(result: BatchResult) -> dict[str, Any]:
    """A single-process result in the envelope `mtus-rules batch` writes, less the line."""
    if result.decision is not None:
        return {"row": result.row, "decision": result.decision.model_dump(mode="json")}
    return {"row": result.row, "problems": [p.model_dump(mode="json", exclude_none=True) for p in result.problems or []]}


def _jsonl(tmp_path: Path) -> Path:
    lines = [json.dumps(case).encode() for case in CASES]
    for n, bad in enumerate(BAD_LINES):
        lines.insert(7 + 23 * n, bad)
    lines.insert(40, b"   ")  # a blank line: no row, in batch or here
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _expected(engine: Engine, rows: Any, *, what_if: bool = False) -> list[dict[str, Any]]:
    return [_record(r) for r in engine.evaluate_many(rows, what_if=what_if)]


def _without_line(record: dict[str, Any]) -> dict[str, Any]:
    """A batch result as a collection gives it: its problems without "line N: ",
    since a collection has no file lines."""
    if "problems" not in record:
        return record
    problems = [{**p, "message": re.sub(r"^line [0-9]+: ", "", p["message"])} for p in record["problems"]]
    return {**record, "problems": problems}


def test_a_bag_of_json_lines_is_decided_as_batch_decides_the_file(client: Client, engine: Engine, tmp_path: Path):
    path = _jsonl(tmp_path)
    bag = db.read_text(str(path), blocksize=12_000, errors="surrogateescape")
    assert bag.npartitions >= 4, "the rows must be spread over several partitions"

    got = decide_bag(bag, engine).compute()

    expected = [_without_line(r) for r in _expected(engine, (d for _, d in read_jsonl(io.BytesIO(path.read_bytes()))))]
    assert len(got) == len(CASES) + len(BAD_LINES)
    assert got == expected  # row for row: the same numbering, decisions and problems
    assert sum("problems" in r for r in got) == len(BAD_LINES)


@pytest.fixture(scope="module")
def changed(engine: Engine) -> Engine:
    """An engine with a what-if override: a spec of its own, which the workers rebuild with the override."""
    return engine.with_overrides(limits={"mtus.cpmtg.massage.limit": 4})


def test_a_bag_of_mappings_with_overrides_and_what_if(client: Client, changed: Engine):
    rows: list[Any] = [*CASES[:60], 42, make_case({"description": "Massage", "treatment": "no such treatment"})]
    bag = db.from_sequence(rows, npartitions=5)

    got = decide_bag(bag, changed, what_if=True).compute()

    assert got == _expected(changed, rows, what_if=True)
    assert got[60]["problems"][0]["message"] == "a case must be a mapping of fields, got int"
    assert "problems" in got[61]
    assert {r["decision"]["rule_pack"]["overrides"]["limits"]["mtus.cpmtg.massage.limit"] for r in got[:60]} == {4}


def test_a_frame_with_a_column_of_json_keeps_its_index(client: Client, engine: Engine):
    texts = [json.dumps(case) for case in CASES[:50]] + [None, "{not json"]
    frame = dd.from_pandas(pd.DataFrame({"case": texts}, index=pd.RangeIndex(1000, 1000 + len(texts))), npartitions=4)

    got = decide_frame(frame, engine, column="case").compute()

    assert list(got.index) == list(range(1000, 1000 + len(texts)))
    expected = _expected(engine, [json.loads(t) for t in texts[:-2]])
    as_records = [
        {"row": int(row), **({"decision": json.loads(d)} if not pd.isna(d) else {"problems": json.loads(p)})}
        for row, d, p in zip(got["row"], got["decision"], got["problems"], strict=True)
    ]
    assert as_records[:-2] == expected
    empty, not_json = as_records[-2:]
    assert (empty["row"], not_json["row"]) == (len(texts) - 2, len(texts) - 1)
    assert [p["message"] for p in empty["problems"]] == ["no case: the column 'case' is empty on this row"]
    assert [p["message"] for p in not_json["problems"]] == [
        "invalid JSON: Expecting property name enclosed in double quotes (column 2)"
    ]


def test_a_frame_whose_columns_are_the_fields(client: Client, engine: Engine):
    # Nested fields stay lists and mappings only with Dask's string conversion off.
    with dask.config.set({"dataframe.convert-string": False}):
        cases = [*CASES[:30], {k: v for k, v in CASES[0].items() if k != "date_of_injury"}]
        frame = dd.from_pandas(pd.DataFrame(cases), npartitions=3)
        got = decide_frame(frame, engine).compute()
    decided = [json.loads(d) for d in got["decision"][:-1]]
    assert decided == [r["decision"] for r in _expected(engine, cases[:-1])]
    assert json.loads(got["problems"].iloc[-1])[0]["location"] == "date_of_injury"


def test_one_engine_per_worker_process_built_there_from_the_spec(client: Client, changed: Engine):
    spec = EngineSpec.of(changed)
    assert len(pickle.dumps(spec)) < 2_000, "what the tasks carry is the spec, not the engine"
    with pytest.raises(TypeError):
        pickle.dumps(changed)  # so no task could have carried it to a worker process

    decide_bag(db.from_sequence(CASES, npartitions=12), changed).compute()

    def builds() -> tuple[int, int]:
        from mtus_rules.integration import dask as on_dask

        return os.getpid(), on_dask._builds.get(spec, 0)

    per_worker = client.run(builds)
    assert len(per_worker) == 2
    assert all(pid != os.getpid() for pid, _ in per_worker.values())
    assert sorted(count for _, count in per_worker.values()) in ([0, 1], [1, 1])
    assert sum(count for _, count in per_worker.values()) >= 1


def _pack_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(bundled_pack_dirs()[0], folder)
    return folder


def _touch_a_rule_file(folder: Path) -> tuple[Path, bytes]:
    """A comment added to a rule file: the same rules, other files. The file and its bytes before."""
    rule_file = sorted(p for p in folder.glob("*.yaml") if p.name != "pack.yaml")[0]
    before = rule_file.read_bytes()
    rule_file.write_bytes(before + b"\n# changed on this machine\n")
    return rule_file, before


def test_a_worker_refuses_a_pack_whose_files_differ(client: Client, tmp_path: Path):
    folder = _pack_copy(tmp_path)
    engine = Engine([folder], cache_size=0)
    expected_hash = engine.pack_refs[0].content_hash
    results = decide_bag(db.from_sequence(CASES[:10], npartitions=2), engine)
    rule_file, before = _touch_a_rule_file(folder)  # what a worker with other pack files would find

    with pytest.raises(PackMismatchError) as raised:
        results.compute()

    message = str(raised.value)
    assert "worker tcp://" in message and str(folder) in message
    assert f"not {expected_hash} as the engine loaded it" in message

    # A worker without the folder at all says so, the same way.
    rule_file.write_bytes(before)
    results = decide_frame(dd.from_pandas(pd.DataFrame({"case": ["{}"]}), npartitions=1), engine, column="case")
    folder.rename(tmp_path / "elsewhere")
    with pytest.raises(PackMismatchError, match=r"worker tcp://[0-9.:]+: not a folder"):
        results.compute()


def test_the_caller_refuses_a_pack_changed_since_the_engine_loaded_it(tmp_path: Path):
    folder = _pack_copy(tmp_path)
    engine = Engine([folder], cache_size=0)
    _touch_a_rule_file(folder)
    with pytest.raises(PackMismatchError, match=f"process {os.getpid()} found rule pack"):
        decide_bag(db.from_sequence(CASES[:2]), engine)


def test_an_engine_with_a_decision_log_is_refused(tmp_path: Path):
    from mtus_rules import DecisionLog

    engine = Engine(decision_log=DecisionLog(tmp_path / "log.jsonl"))
    with pytest.raises(ValueError, match="decision log"):
        decide_bag(db.from_sequence(CASES[:2]), engine)


def test_without_dask_the_module_says_which_extra_to_install():
    run = run_python(
        """
        try:
            import mtus_rules.integration.dask
        except ModuleNotFoundError as exc:
            print(type(exc).__name__, exc.name, "|", exc)
        """,
        without=("dask",),
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        "ModuleNotFoundError dask | mtus_rules.integration.dask needs dask (dask is not installed); "
        "install the dask extra: pip install 'mtus-rules[dask]'"
    )


def test_an_engine_a_process_cannot_build_is_an_error_that_travels_whole():
    spec = EngineSpec.bundled().model_copy(update={"backend": "no_such_backend"})
    with pytest.raises(WorkerEngineError) as raised:
        spec.build()
    # Errors come back from a worker pickled: the problems must survive, not be re-read from the text.
    travelled = pickle.loads(pickle.dumps(raised.value))
    assert type(travelled) is WorkerEngineError
    assert travelled.problems == raised.value.problems
    assert travelled.problems[0].message.startswith(f"process {os.getpid()}: ")
    assert "no_such_backend" in str(travelled)


# Dask warns that the cluster of the other tests is not used here: that is the point.
@pytest.mark.filterwarnings("ignore:Running on a single-machine scheduler:UserWarning")
def test_without_a_cluster_the_default_engine_decides_in_this_process(engine: Engine):
    # No engine given: the bundled packs, as Engine() has them; any Dask scheduler will do.
    rows = CASES[:20]
    got = decide_bag(db.from_sequence(rows, npartitions=3)).compute(scheduler="sync")
    assert got == _expected(engine, rows)


def test_the_package_and_its_commands_import_no_dask():
    # With dask installed an import of it would go unnoticed elsewhere: the core must stay free of it.
    run = run_python(
        """
        import sys
        import mtus_rules, mtus_rules.integration, mtus_rules.cli, mtus_rules._commands
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed") or m == "mtus_rules.integration.dask"))
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
