"""Issue 10 (input/output half): no input aborts a batch, every bad input is a
clean error, claimant values are not echoed, outputs are private.

Each reproducer of ../shared/reliability-repros/ that concerns input and output
has a test here (named in its docstring); each failed on a30c676.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mtus_rules import CaseError, DecisionLog, Engine, load_case
from mtus_rules.integration.audit import input_hash
from mtus_rules.integration.batch import JsonlWriter, evaluate_many
from mtus_rules.case import InputLimits, parse_case
from mtus_rules.cli import main

from ..helpers import EXAMPLES, ROOT, DiskFills

BASE = {
    "date_of_injury": "2013-01-01",
    "request_date": "2014-01-01",
    "requested_items": [{"description": "Massage", "treatment": "massage"}],
}
GOOD_ROW = json.dumps(BASE)
SEED = next(EXAMPLES.glob("seed-004-*.yaml"))


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def problems_of(path: Path) -> list:
    with pytest.raises(CaseError) as info:
        load_case(path)
    return info.value.problems


# -- case files: clean errors, not tracebacks (README lines 1-5 of the reproducers) -----


def test_nul_byte_is_a_clean_error_and_the_good_file_is_still_decided(tmp_path, capsys):
    """Reproducer: `mtus-rules evaluate good.yaml nul_byte.yaml` (ReaderError traceback, good output lost)."""
    bad = tmp_path / "nul.yaml"
    bad.write_text("case_id: a\x00\ndate_of_injury: 2013-01-01\n", encoding="utf-8")
    assert main(["evaluate", str(SEED), str(bad), "--format", "json", "--no-what-if"]) == 2
    out, err = capsys.readouterr()
    assert [d["file"] for d in json.loads(out)] == [str(SEED)]
    assert f"{bad}:1: invalid YAML: control character U+0000 is not allowed" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_an_integer_over_4300_digits_is_a_limit_error(tmp_path, suffix):
    """Reproducer: bigint_4301_digits.yaml / .json (ValueError traceback)."""
    path = tmp_path / f"case{suffix}"
    case = dict(BASE, requested_items=[{"description": "m", "treatment": "massage", "quantity": {"visits": 0}}])
    text = json.dumps(case, indent=1).replace('"visits": 0', '"visits": ' + "9" * 4301)
    path.write_text(text)
    (p,) = problems_of(path)
    assert "max_int_digits" in p.message and p.location == "requested_items[0].quantity.visits"
    assert p.line == text[: text.index('"visits"')].count("\n") + 1


@pytest.mark.parametrize("depth", [40, 493, 5000])
def test_deep_nesting_is_a_limit_error(tmp_path, depth):
    """Reproducer: deep_nesting.yaml (RecursionError at a 493-deep flow list)."""
    path = tmp_path / "deep.yaml"
    path.write_text("case_id: " + "[" * depth + "]" * depth + "\n" + "date_of_injury: 2013-01-01\n")
    (p,) = problems_of(path)
    assert p.line == 1 and "nested more than 32 levels deep" in p.message and "max_depth" in p.message


def test_lone_surrogate_is_refused_at_validation(tmp_path, capsys):
    """Reproducer: lone_surrogate.json (accepted, then UnicodeEncodeError when printed)."""
    path = tmp_path / "case.json"
    path.write_text(json.dumps(dict(BASE, case_id="\udfff x")))
    assert main(["evaluate", str(path), str(SEED)]) == 2
    out, err = capsys.readouterr()
    assert "case_id: not valid Unicode text: a lone surrogate U+DFFF" in err
    assert "Case seed-004" in out


def test_rfa_surrogate_diagnosis_is_a_case_error(tmp_path):
    """Reproducer: rfa_surrogate_diagnosis.yaml (raw pydantic ValidationError from the RFA reader)."""
    path = tmp_path / "rfa.yaml"
    path.write_text(
        "date_of_injury: 2013-08-07\nrequest_date: 2014-05-09\nrfa_lines:\n"
        '  - {diagnosis: "\\ud800", icd10: S13.4XXA, service: Physical therapy, code: "97110", quantity: x 6}\n'
    )
    (p,) = problems_of(path)
    assert p.location == "rfa_lines[0].diagnosis" and p.line == 4 and "surrogate" in p.message


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    """Reproducer: make_many_values.py 10 m.json (26 s and 750 MB for a 10 MB file)."""
    path = tmp_path / "big.json"
    item = json.dumps({"description": "Lumbar sprain", "body_regions": ["lumbar"], "group": "sprain_strain"})
    with path.open("w") as out:
        out.write('{"date_of_injury": "2013-01-01", "request_date": "2014-01-01", "diagnoses": [')
        out.write(", ".join([item] * (10 * 2**20 // (len(item) + 2))) + "]}")
    started = time.perf_counter()
    (p,) = problems_of(path)
    assert time.perf_counter() - started < 2
    assert "larger than 1,048,576 bytes" in p.message and "max_bytes" in p.message


def test_values_are_counted_while_composing(tmp_path):
    # With a small limit: the default's 100,000 values took PyYAML 10 s to compose.
    path = tmp_path / "many.yaml"
    path.write_text("diagnoses: [" + ", ".join(["x"] * 1_010) + "]\n")
    (p,) = problems_of_with(path, InputLimits(max_values=1_000))
    assert "more than 1,000 values" in p.message and "max_values" in p.message


def test_limits_are_configurable_for_the_api(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(dict(BASE, case_id="x" * 50)))
    assert load_case(path).case_id == "x" * 50
    (p,) = problems_of_with(path, InputLimits(max_string=10))
    assert "max_string" in p.message
    (p,) = problems_of_with(path, InputLimits(max_bytes=100))
    assert "max_bytes" in p.message
    with pytest.raises(CaseError, match="max_depth"):
        parse_case(dict(BASE, case_id=nested(3)), limits=InputLimits(max_depth=3))
    assert parse_case(dict(BASE, case_id="x" * 50), limits=InputLimits(max_string=50)).case_id == "x" * 50


def problems_of_with(path: Path, limits: InputLimits) -> list:
    with pytest.raises(CaseError) as info:
        load_case(path, limits=limits)
    return info.value.problems


# -- the API (api_repros.py) ----------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        {**BASE, "requested_items": [{"description": "Massage", "treatment": "massage", "quantity": {"visits": 10**5000}}]},
        {**BASE, "case_id": nested(994)},
        {**BASE, "date_of_injury": nested(2000)},
        {**BASE, "case_id": "\udfff x"},
        {"date_of_injury": "2013-01-01", "request_date": "2014-01-01",
         "rfa_lines": [{"diagnosis": "\ud800", "icd10": "S13.4XXA", "service": "Physical therapy", "code": "97110", "quantity": "x 6"}]},
    ],
    ids=["visits-10**5000", "case_id-nested-994", "date_of_injury-nested-2000", "case_id-surrogate", "rfa-diagnosis-surrogate"],
)
def test_api_hostile_values_are_case_errors(engine, case):
    """Reproducer: api_repros.py (ValueError, RecursionError, unserialisable decision, DecisionLog failure)."""
    with pytest.raises(CaseError):
        engine.evaluate(case)
    logged = Engine(engine.packs, decision_log=DecisionLog(io.StringIO()))
    with pytest.raises(CaseError):
        logged.evaluate(case)


def test_a_case_that_contains_itself_is_a_case_error(engine):
    case = dict(BASE)
    case["diagnoses"] = [case]
    with pytest.raises(CaseError, match="max_depth"):
        engine.evaluate(case)


# -- batches: one hostile row is that row's error --------------------------------------


HOSTILE_LINES = {
    "bigint": ('{"case_id": ' + "1" * 4301 + "}").encode(),
    "deep": ('{"case_id": ' + "[" * 1000 + "]" * 1000 + "}").encode(),
    "surrogate": json.dumps(dict(BASE, case_id="\udfff x")).encode(),
    "invalid_utf8": GOOD_ROW.replace('"Massage"', '"M\udcad"').encode("utf-8", "surrogateescape"),
    "too_long": json.dumps(dict(BASE, case_id="x" * (1 << 20))).encode(),
    "not_json": b"{not json",
    "not_a_mapping": b"[1, 2]",
}


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("kind", sorted(HOSTILE_LINES))
def test_cli_batch_hostile_row_is_flagged_and_the_others_decided(tmp_path, capsys, kind, workers):
    """Reproducer: `mtus-rules batch batch_row_{bigint,deep,surrogate,invalid_utf8}.jsonl` (3 rows in, 1 or 0 out)."""
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join([GOOD_ROW.encode(), HOSTILE_LINES[kind], GOOD_ROW.encode()]) + b"\n")
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(source), "-o", str(out), "--workers", str(workers)]) == 2
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["row"], r["line"], "decision" in r) for r in records] == [(0, 1, True), (1, 2, False), (2, 3, True)]
    assert records[1]["problems"][0]["message"]
    assert "3 rows, 1 bad" in capsys.readouterr().err


class _Boom(dict):
    def __contains__(self, key: object) -> bool:
        raise KeyboardInterrupt("raised by the row")


class _KillOnUnpickle:
    def __reduce__(self):
        return (os._exit, (13,))


def _killed_once(marker: str) -> dict:
    # Dies the first time a worker unpickles it, as a worker killed from outside
    # would; decided normally when retried.
    if not os.path.exists(marker):
        Path(marker).touch()
        os._exit(9)
    return dict(BASE)


class _KillOnce:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (_killed_once, (self.marker,))


def _rows(n: int, bad_at: int, bad: object) -> list:
    rows: list = [dict(BASE, case_id=f"row-{i}") for i in range(n)]
    rows[bad_at] = bad
    return rows


@pytest.mark.parametrize(
    "bad",
    [lambda: dict(BASE, case_id=lambda: 1), lambda: dict(BASE, case_id=nested(1500)), lambda: dict(BASE, case_id=nested(200_000)),
     lambda: _Boom(BASE), lambda: dict(BASE, case_id=_KillOnUnpickle())],
    ids=["unpicklable", "too-deep", "pickle-recursion", "keyboard-interrupt-in-worker", "worker-dies"],
)
def test_evaluate_many_with_workers_loses_no_row(engine, bad):
    """Reproducer: evaluate_many_workers.py (1,168-1,424 of 1,424 results lost to one row or a dead worker)."""
    rows = _rows(60, 23, bad())
    results = list(evaluate_many(engine, rows, workers=2, chunk_size=8))
    assert [r.row for r in results] == list(range(60))
    assert [r.row for r in results if not r.ok] == [23]
    assert results[22].decision.case_id == "row-22" and results[24].decision.case_id == "row-24"


def test_evaluate_many_survives_a_worker_killed_mid_run(engine, tmp_path):
    rows = _rows(80, 37, _KillOnce(tmp_path / "killed"))
    results = list(evaluate_many(engine, rows, workers=2, chunk_size=8))
    assert (tmp_path / "killed").exists()  # a worker did die
    assert [r.row for r in results] == list(range(80)) and all(r.ok for r in results)


def test_keyboard_interrupt_in_the_calling_process_stops_the_batch(engine):
    # In-process, a KeyboardInterrupt cannot be told from Ctrl-C: it stops the
    # batch as the caller asked; the rows yielded before it stand.
    results = []
    with pytest.raises(KeyboardInterrupt):
        for result in engine.evaluate_many(_rows(5, 3, _Boom(BASE))):
            results.append(result)
    assert [r.row for r in results] == [0, 1, 2]


# -- privacy ---------------------------------------------------------------------------


def test_claimant_values_are_not_echoed_in_errors(tmp_path, capsys):
    """Reproducer: phi_in_error_messages.yaml (claimant data echoed verbatim)."""
    path = tmp_path / "phi.yaml"
    path.write_text(
        "case_id: CLAIM-ADJ-778812-JOHNSMITH\n"
        'claimant: {age: "Jane Q. Doe DOB 1952-07-04 SSN 123-45-6789", sex: female}\n'
        'date_of_injury: "07/04/1952 Jane Doe"\n'
        "request_date: 2014-02-11\n"
        "treatment_history:\n"
        '  - {treatment: massage, visits: "Jane Doe had 4 visits, MRN 99812, phone 555-0100" , functional_improvement: no}\n'
        "requested_items:\n"
        '  - {description: "Massage x 6", treatment: "massage for Jane Q. Doe, 12 Elm St", body_regions: [lumbar]}\n'
        f'  - {{description: "x", treatment: massage, device_leads: "{"Jane Doe " * 1_600}"}}\n'
    )
    assert main(["evaluate", str(path)]) == 2
    err = capsys.readouterr().err
    for secret in ("Jane", "Doe", "1952", "123-45", "99812", "555-0100", "Elm"):
        assert secret not in err
    assert "got '99/99/9999 Xxxx Xxx'" in err  # the shape is still there to read
    assert len(err) < 3000  # 14 KB of text is not echoed


def test_output_and_log_files_are_created_private(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text(GOOD_ROW + "\n")
    old = os.umask(0o022)
    try:
        assert main(["batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--decision-log", str(tmp_path / "log.jsonl")]) == 0
    finally:
        os.umask(old)
    for name in ("out.jsonl", "log.jsonl"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_the_log_input_hash_is_keyed():
    case = load_case(SEED)
    one, two = io.StringIO(), io.StringIO()
    Engine(decision_log=DecisionLog(one, mask_key=b"k1")).evaluate(case)
    Engine(decision_log=DecisionLog(two, mask_key=b"k2")).evaluate(case)
    first, second = json.loads(one.getvalue())["input_hash"], json.loads(two.getvalue())["input_hash"]
    canonical = json.dumps(case.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() not in (first, second)  # not guessable by hashing candidates
    assert first != second and first == input_hash(case, b"k1")


# -- signals, disks and options --------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "9" * 5000, "-1", "1.5"])
def test_bad_limit_numbers_are_clean_errors(capsys, value):
    assert main(["evaluate", str(SEED), "--limit", f"mtus.cpmtg.massage.limit={value}"]) == 2
    err = capsys.readouterr().err
    assert "--limit: expected RULE=N" in err and len(err) < 300


def test_a_full_disk_is_one_clean_line_and_no_partial_row(tmp_path, capsys, monkeypatch):
    source = tmp_path / "in.jsonl"
    source.write_text((GOOD_ROW + "\n") * 20)
    out = tmp_path / "out.jsonl"

    def create(path: Path) -> JsonlWriter:
        stream = DiskFills(path, "w")
        stream.room = 5_000  # a few rows, then the disk is full in the middle of one
        return JsonlWriter(stream)

    monkeypatch.setattr(JsonlWriter, "create", staticmethod(create))
    assert main(["batch", str(source), "-o", str(out)]) == 3
    err = capsys.readouterr().err
    data = out.read_bytes()
    written = data.count(b"\n")
    assert written > 0 and data.endswith(b"\n")
    assert [json.loads(line)["row"] for line in data.splitlines()] == list(range(written))
    assert f"cannot write {out}: No space left on device" in err
    assert f"{written:,} rows written" in err and "Traceback" not in err


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_batch(tmp_path: Path, rows: int) -> tuple[subprocess.Popen, Path]:
    source = tmp_path / "in.jsonl"
    source.write_text((GOOD_ROW + "\n") * rows)
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mtus_rules", "batch", str(source), "-o", str(out)],
        stderr=subprocess.PIPE, text=True, env=env,
        # As from a terminal: a test run started in the background (`pytest &`)
        # ignores SIGINT, its children inherit that, and a command started with
        # SIGINT ignored rightly keeps ignoring it (the CLI leaves it alone).
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 60
    while not (out.exists() and out.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc, out


@pytest.mark.parametrize("sig, status, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_ends_a_batch_with_a_summary(tmp_path, sig, status, word):
    proc, out = _start_batch(tmp_path, 100_000)
    proc.send_signal(sig)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == status
    data = out.read_bytes()
    assert data.endswith(b"\n") and "Traceback" not in err
    lines = data.count(b"\n")
    assert f"mtus-rules: {word}" in err and f"{lines:,} rows written to {out}" in err


# -- the acceptance check, small (benchmarks/acceptance_batch.py is the 200,000-row run) --


def _acceptance():
    import importlib.util

    spec = importlib.util.spec_from_file_location("acceptance_batch", ROOT / "benchmarks" / "acceptance_batch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("workers", [1, 2])
def test_acceptance_small_batch_flags_exactly_the_hostile_rows(tmp_path, workers):
    acceptance = _acceptance()
    source = tmp_path / "in.jsonl"
    hostile = acceptance.build_jsonl(source, 400, seed=workers)
    ok, figures = acceptance.check_cli(source, tmp_path / "out.jsonl", 400, hostile, workers)
    assert ok, figures


def test_acceptance_small_evaluate_many_with_a_worker_killed(tmp_path):
    """Once hung about one run in twenty under ProcessPoolExecutor (a worker
    killed while writing its result); the pool now gives each worker its own pipe."""
    ok, figures = _acceptance().check_api(600, seed=5, workers=2)
    assert ok, figures


def test_help_documents_the_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for status in ("0 ", "1 ", "2 ", "3 ", "130", "143"):
        assert f"\n  {status}" in out


def test_an_unusable_decision_log_is_a_clean_error(tmp_path, capsys):
    assert main(["evaluate", str(SEED), "--decision-log", str(tmp_path / "missing" / "log.jsonl")]) == 2
    assert "--decision-log: No such file or directory" in capsys.readouterr().err
    if Path("/dev/full").exists():
        assert main(["evaluate", str(SEED), "--decision-log", "/dev/full", "--no-what-if"]) == 3
        assert "cannot write the decision log: No space left on device" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device whose writes fail with ENOSPC)")
@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_whose_decision_log_cannot_be_written_keeps_every_row_and_exits_3(tmp_path, capsys, workers):
    """The documented status for a log that cannot be written is 3, in a batch
    as in `evaluate`: the rows are all in the output, each flagged, and the
    end says the audit trail has a gap."""
    case = load_case(SEED).model_dump(mode="json")
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({**case, "case_id": f"c{n}"}) + "\n" for n in range(5)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    status = main(["batch", str(source), "-o", str(out), "--decision-log", "/dev/full", "--workers", str(workers)])
    assert status == 3
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == list(range(5))
    assert all(r["problems"][0]["location"] == "decision log" for r in rows)
    assert "the decision log could not record 5 decided rows" in capsys.readouterr().err


def _dies_at_start(*_args: object) -> None:
    os._exit(3)


def test_a_batch_whose_workers_keep_dying_stops_with_status_4_and_keeps_the_rows_written(tmp_path, capsys, monkeypatch):
    """Workers that cannot start (out of memory, say) must not be retried for
    ever, nor end in a traceback: one line, the documented status, whole lines."""
    import mtus_rules.integration.batch

    monkeypatch.setattr(mtus_rules.integration.batch, "_start_worker", _dies_at_start)  # forked workers inherit it
    case = load_case(SEED).model_dump(mode="json")
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({**case, "case_id": f"c{n}"}) + "\n" for n in range(3)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(source), "-o", str(out), "--workers", "2"]) == 4
    err = capsys.readouterr().err
    assert "worker processes died 20 times in a row" in err and "Traceback" not in err
    assert "0 rows written" in err and out.read_bytes() == b""
