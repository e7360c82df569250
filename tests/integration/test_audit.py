"""The decision log: one audit record per decision, without identity by default."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import logging

from mtus_rules import CareStage, DecisionLog, Engine, load_case
from mtus_rules.integration.audit import input_hash
from mtus_rules.cli import main

from ..helpers import EXAMPLES

SEED = next(EXAMPLES.glob("seed-004-*.yaml"))


def _records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_per_decision_with_identity_left_out():
    stream = io.StringIO()
    engine = Engine(decision_log=DecisionLog(stream))
    case = load_case(SEED)
    decision = engine.evaluate(case)
    engine.evaluate(case)
    first, second = _records(stream)
    assert set(first) == {"decision_id", "record_id", "time", "input_hash", "case_id", "request_date", "rule_pack",
                          "library_version", "items"}
    # Each record has its own id; both name the decision, which the caller was returned (issue 14 point 7).
    assert first["record_id"] != second["record_id"]
    assert first["decision_id"] == second["decision_id"] == decision.decision_id
    # Keyed with the log's key (issue 10): matchable by whoever holds the key, not by hashing guesses.
    assert first["input_hash"] == second["input_hash"] == engine.decision_log.input_hash(case)
    assert first["input_hash"] != input_hash(case)
    assert first["rule_pack"]["content_hash"] == decision.rule_pack.content_hash
    assert first["items"] == [{"index": 0, "treatment": "massage", "body_regions": ["cervical"], "outcome": "upheld",
                               "rules": ["mtus.cpmtg.massage.ongoing_care"]}]
    # The case id is masked, the same way within one log, so a case's records stay linked.
    assert first["case_id"].startswith("masked:") and first["case_id"] == second["case_id"]
    text = stream.getvalue()
    for identifying in ("seed-004", "2013-11-14", "Deep tissue massage", '"age"', '"sex"'):
        assert identifying not in text


def test_a_decision_id_is_the_digest_of_the_decision_in_uuid_form():
    # The recipe is published (decisions made earlier are found by it): sha256 of
    # the decision's JSON without the backend and the what-if advice, its first
    # 16 bytes as a UUID. Asking for the what-if or another backend keeps the id.
    case = load_case(SEED)
    plain = Engine().evaluate(case)
    said = plain.model_dump_json(exclude={"backend": True, "decision_id": True, "items": {"__all__": {"what_if"}}})
    assert plain.decision_id == str(uuid.UUID(bytes=hashlib.sha256(said.encode()).digest()[:16]))
    assert Engine().evaluate(case, what_if=True).decision_id == plain.decision_id
    assert Engine(backend="python").evaluate(case).decision_id == plain.decision_id


def test_identifying_fields_kept_when_asked():
    stream = io.StringIO()
    Engine(decision_log=DecisionLog(stream, include_identifying=True)).evaluate(load_case(SEED))
    (record,) = _records(stream)
    assert record["case_id"] == "seed-004" and record["date_of_injury"] == "2013-11-14"
    assert record["claimant"] == {"age": 65, "sex": "male"}
    assert record["items"][0]["description"].startswith("Deep tissue massage")


def test_input_hash_changes_with_any_fact():
    case = load_case(SEED)
    changed = case.model_copy(update={"care_stage": CareStage.FIRST_EVALUATION})
    assert input_hash(case) != input_hash(changed)


def test_batches_log_each_decided_row_once_even_across_processes():
    stream = io.StringIO()
    engine = Engine(decision_log=DecisionLog(stream))
    rows = [load_case(SEED), {"bad": 1}] * 40
    results = list(engine.evaluate_many(rows, workers=2))
    assert sum(r.ok for r in results) == 40
    assert len(_records(stream)) == 40


def test_cli_writes_the_log(tmp_path, capsys):
    log = tmp_path / "decisions.jsonl"
    assert main(["evaluate", str(SEED), "--decision-log", str(log), "--no-what-if"]) == 0
    capsys.readouterr()
    (record,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert record["items"][0]["outcome"] == "upheld" and record["case_id"].startswith("masked:")


def _failing_half_way(real_write, before_failing=None):
    """An os.write that takes half of the first line it is given (as a nearly
    full disk does, returning the count), then fails with ENOSPC."""
    calls = []

    def write(fd, data):
        calls.append(fd)
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        if before_failing:
            before_failing()
        raise OSError(28, "No space left on device")

    return write


def test_a_full_disk_leaves_the_log_with_whole_lines_only(tmp_path, monkeypatch):
    import mtus_rules.integration.jsonl

    path = tmp_path / "log.jsonl"
    path.write_text('{"earlier": "record"}\n', encoding="utf-8")
    log = DecisionLog(path)
    case = load_case(SEED)
    Engine(decision_log=log).evaluate(case)
    before = path.read_bytes()
    monkeypatch.setattr(mtus_rules.integration.jsonl.os, "write", _failing_half_way(mtus_rules.integration.jsonl.os.write))
    try:
        Engine(decision_log=log).evaluate(case)
    except OSError as exc:
        assert exc.errno == 28
    else:
        raise AssertionError("the failed write was not reported")
    assert path.read_bytes() == before  # the half line is gone, the earlier records stay
    assert all(json.loads(line) for line in before.decode().splitlines())


def test_a_failed_write_never_removes_lines_another_process_appended(tmp_path, monkeypatch):
    import os

    import mtus_rules.integration.jsonl

    path = tmp_path / "log.jsonl"
    log = DecisionLog(path)
    other = '{"from": "another process"}\n'

    def another_process_appends():
        with open(path, "a", encoding="utf-8") as f:
            f.write(other)

    monkeypatch.setattr(mtus_rules.integration.jsonl.os, "write", _failing_half_way(os.write, another_process_appends))
    try:
        Engine(decision_log=log).evaluate(load_case(SEED))
    except OSError:
        pass
    assert path.read_text(encoding="utf-8").endswith(other)


# -- joinable logs (issue 14 point 7) --------------------------------------------------------------

KEY = "a-shared-secret-of-some-length"


def _one_record(log: DecisionLog, case) -> dict:
    Engine(decision_log=log).evaluate(case)
    (record,) = _records(log._stream)
    return record


def test_the_same_key_masks_a_claimant_the_same_in_two_runs(monkeypatch):
    case = load_case(SEED)
    monkeypatch.setenv("MTUS_RULES_AUDIT_KEY", KEY)
    first = _one_record(DecisionLog(io.StringIO()), case)
    second = _one_record(DecisionLog(io.StringIO()), case)
    assert first["case_id"] == second["case_id"] and first["input_hash"] == second["input_hash"]
    assert first["decision_id"] == second["decision_id"]
    monkeypatch.setenv("MTUS_RULES_AUDIT_KEY", KEY + "-other")
    other = _one_record(DecisionLog(io.StringIO()), case)
    assert other["case_id"] != first["case_id"] and other["input_hash"] != first["input_hash"]
    # A key given in code wins over the environment.
    given = _one_record(DecisionLog(io.StringIO(), mask_key=KEY.encode()), case)
    assert given["case_id"] == first["case_id"]


def test_without_a_key_a_warning_says_the_log_cannot_be_joined(monkeypatch, caplog):
    monkeypatch.delenv("MTUS_RULES_AUDIT_KEY", raising=False)
    with caplog.at_level(logging.WARNING, logger="mtus_rules.audit"):
        first = _one_record(DecisionLog(io.StringIO()), load_case(SEED))
    assert any("cannot be joined" in r.getMessage() for r in caplog.records)
    second = _one_record(DecisionLog(io.StringIO()), load_case(SEED))
    assert first["case_id"] != second["case_id"]


def test_cli_key_file_makes_two_runs_joinable(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MTUS_RULES_AUDIT_KEY", raising=False)
    key = tmp_path / "audit.key"
    key.write_text(KEY + "\n")
    masked = []
    for run in ("one", "two"):
        log = tmp_path / f"{run}.jsonl"
        assert main(["evaluate", str(SEED), "--decision-log", str(log), "--audit-key-file", str(key), "--no-what-if"]) == 0
        (record,) = [json.loads(line) for line in log.read_text().splitlines()]
        masked.append(record["case_id"])
    capsys.readouterr()
    assert masked[0] == masked[1] and masked[0].startswith("masked:")


def test_an_unusable_key_is_a_clear_error(tmp_path, capsys, monkeypatch):
    log = str(tmp_path / "log.jsonl")
    missing = tmp_path / "no-such.key"
    assert main(["evaluate", str(SEED), "--decision-log", log, "--audit-key-file", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "Traceback" not in err
    short = tmp_path / "short.key"
    short.write_text("abc")
    assert main(["evaluate", str(SEED), "--decision-log", log, "--audit-key-file", str(short)]) == 2
    err = capsys.readouterr().err
    assert "at least 16 bytes" in err and str(short) in err
    monkeypatch.setenv("MTUS_RULES_AUDIT_KEY", "abc")
    assert main(["evaluate", str(SEED), "--decision-log", log]) == 2
    assert "MTUS_RULES_AUDIT_KEY" in capsys.readouterr().err


def test_records_go_through_python_logging_too(caplog):
    stream = io.StringIO()
    with caplog.at_level(logging.INFO, logger="mtus_rules.audit"):
        decision = Engine(decision_log=DecisionLog(stream, mask_key=KEY.encode())).evaluate(load_case(SEED))
    (written,) = _records(stream)
    (logged,) = [r for r in caplog.records if r.name == "mtus_rules.audit" and r.levelno == logging.INFO]
    assert logged.audit_record == written
    assert decision.decision_id in logged.getMessage()


class _Defective(Engine):
    def evaluate(self, case, *, what_if=False):
        if isinstance(case, dict) and case.get("case_id") == "defect":
            raise ZeroDivisionError("a defect inside the engine")
        return super().evaluate(case, what_if=what_if)


def test_a_defect_in_a_batch_row_keeps_its_traceback_in_the_log(caplog):
    good = load_case(SEED).model_dump(mode="json")
    rows = [good, {**good, "case_id": "defect"}]
    with caplog.at_level(logging.ERROR, logger="mtus_rules.batch"):
        results = list(_Defective().evaluate_many(rows))
    assert results[0].ok and results[1].problems[0].message.startswith("internal error (ZeroDivisionError)")
    (logged,) = [r for r in caplog.records if r.name == "mtus_rules.batch"]
    assert logged.exc_info and logged.exc_info[0] is ZeroDivisionError
    assert "a defect inside the engine" in caplog.text and "Traceback" in caplog.text
