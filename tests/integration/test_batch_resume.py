"""Issue 13 points 4 and 5: a batch killed at any moment leaves whole lines and
`--resume` finishes it exactly as an uninterrupted run would; progress bars
where people expect them, and `compare --workers`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mtus_rules.cli import main
from mtus_rules.integration.jsonl import JsonlWriter

from ..helpers import ROOT, DiskFills, make_case

MASSAGE_LIMIT = "mtus.cpmtg.massage.limit"
ITEMS = [
    {"description": "massage", "treatment": "massage", "quantity": {"visits": 6}},
    {"description": "massage", "treatment": "massage", "quantity": {"visits": 5}},
    {"description": "manipulation", "treatment": "manipulation", "body_regions": ["lumbar"], "quantity": {"visits": 6}},
    {"description": "pt", "treatment": "physical_therapy", "quantity": {"visits": 10}},
    {"description": "nmes", "treatment": "nmes"},
]


def write_input(path: Path, rows: int) -> int:
    """`rows` cases, with a bad row every 97 and a blank line every 50; the number of rows."""
    lines = []
    for n in range(rows):
        if n % 97 == 13:
            lines.append("{not json")
        else:
            lines.append(json.dumps(make_case(ITEMS[n % len(ITEMS)], case_id=f"case-{n}")))
        if n % 50 == 7:
            lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rows


def _start(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.Popen(
        [sys.executable, "-m", "mtus_rules", "batch", *args], stderr=subprocess.PIPE, text=True, env=env
    )


def _with_reference(folder: Path, cases: int) -> tuple[Path, int, bytes]:
    source = folder / "in.jsonl"
    rows = write_input(source, cases)
    reference = folder / "reference.jsonl"
    assert main(["batch", str(source), "-o", str(reference)]) == 2  # the bad rows
    return source, rows, reference.read_bytes()


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, int, bytes]:
    """An input long enough to be killed in the middle of, and its uninterrupted output."""
    return _with_reference(tmp_path_factory.mktemp("resume"), 2000)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, int, bytes]:
    return _with_reference(tmp_path_factory.mktemp("small"), 120)


@pytest.mark.parametrize(
    "sig, status, workers", [(signal.SIGKILL, -signal.SIGKILL, "2"), (signal.SIGTERM, 143, "1")], ids=["SIGKILL", "SIGTERM"]
)
def test_a_batch_killed_mid_run_resumes_to_exactly_the_uninterrupted_output(big, tmp_path, sig, status, workers):
    source, rows, reference = big
    out = tmp_path / "out.jsonl"
    proc = _start(str(source), "-o", str(out), "--workers", workers)
    deadline = time.monotonic() + 60
    while not (out.exists() and out.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(sig)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == status, err
    partial = out.read_bytes()
    assert 0 < partial.count(b"\n") < rows, "the batch was not stopped in the middle"
    assert reference.startswith(partial[: partial.rfind(b"\n") + 1])  # whole lines, the same as uninterrupted
    if sig == signal.SIGTERM:
        assert partial.endswith(b"\n") and "Traceback" not in err

    resumed = _start(str(source), "-o", str(out), "--resume", "--workers", workers)
    err = resumed.communicate(timeout=120)[1]
    assert resumed.returncode == 2, err  # as the uninterrupted run: some rows are bad
    assert out.read_bytes() == reference
    done = partial.count(b"\n")
    assert f"resuming after the {done:,} rows already in {out}" in err
    bad = sum(b'"problems"' in line for line in reference.splitlines())
    assert f"{rows:,} rows, {bad:,} bad" in err  # counted over the whole output, as uninterrupted
    records = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert [r["row"] for r in records] == list(range(rows))


def test_a_line_cut_short_by_a_crash_is_written_again(small, tmp_path, capsys):
    source, rows, reference = small
    out = tmp_path / "out.jsonl"
    cut = reference.index(b"\n", len(reference) // 2) + 40  # 40 bytes into a line
    out.write_bytes(reference[:cut])
    assert main(["batch", str(source), "-o", str(out), "--resume"]) == 2
    assert out.read_bytes() == reference
    bad = sum(b'"problems"' in line for line in reference.splitlines())
    assert f"{rows:,} rows, {bad:,} bad" in capsys.readouterr().err  # counted over the whole output


def test_after_a_full_disk_the_batch_resumes_where_it_stopped(small, tmp_path, capsys, monkeypatch):
    source, _, reference = small
    out = tmp_path / "out.jsonl"

    def create(path: Path) -> JsonlWriter:
        stream = DiskFills(path, "w")
        stream.room = len(reference) // 3
        return JsonlWriter(stream)

    with monkeypatch.context() as patch:
        patch.setattr(JsonlWriter, "create", staticmethod(create))
        assert main(["batch", str(source), "-o", str(out), "--workers", "2"]) == 3
    partial = out.read_bytes()
    assert partial.endswith(b"\n") and 0 < len(partial) <= len(reference) // 3
    capsys.readouterr()
    assert main(["batch", str(source), "-o", str(out), "--resume"]) == 2
    assert out.read_bytes() == reference


def test_a_batch_with_a_decision_log_resumes_with_the_same_rows(small, tmp_path):
    source, _, reference = small
    out, log = tmp_path / "out.jsonl", tmp_path / "log.jsonl"
    half = reference[: reference.index(b"\n", len(reference) // 2) + 1]
    out.write_bytes(half)
    assert main(["batch", str(source), "-o", str(out), "--resume", "--workers", "2", "--decision-log", str(log)]) == 2
    assert out.read_bytes() == reference

    def decided(data: bytes) -> int:
        return sum(b'"decision"' in line for line in data.splitlines())

    # Only the rows decided on resuming are logged, each once.
    assert len(log.read_bytes().splitlines()) == decided(reference) - decided(half)


def test_resuming_a_finished_batch_decides_nothing_and_ends_as_it_did(small, tmp_path, capsys):
    source, rows, reference = small
    out = tmp_path / "out.jsonl"
    out.write_bytes(reference)
    assert main(["batch", str(source), "-o", str(out), "--resume"]) == 2
    assert out.read_bytes() == reference
    assert f"resuming after the {rows:,} rows" in capsys.readouterr().err


def test_resume_without_an_output_yet_is_a_fresh_run(small, tmp_path):
    source, _, reference = small
    out = tmp_path / "new.jsonl"
    assert main(["batch", str(source), "-o", str(out), "--resume", "--workers", "2"]) == 2
    assert out.read_bytes() == reference


def test_an_output_from_other_input_is_refused_naming_its_line(small, tmp_path, capsys):
    source, _, reference = small
    out = tmp_path / "out.jsonl"
    half = reference[: reference.index(b"\n", len(reference) // 2) + 1]
    written = half.count(b"\n")

    # The same cases with one line more at the top: every row is on another line.
    shifted = tmp_path / "shifted.jsonl"
    shifted.write_bytes(b"\n" + source.read_bytes())
    out.write_bytes(half)
    assert main(["batch", str(shifted), "-o", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"cannot resume: {out}:1: row 0 was read from input line 1, but this input's row 0 is on line 2" in err
    assert out.read_bytes() == half  # left as it was

    # The same layout, other cases.
    other = tmp_path / "other.jsonl"
    other.write_bytes(source.read_bytes().replace(b'"case-', b'"other-'))
    assert main(["batch", str(other), "-o", str(out), "--resume"]) == 2
    assert f"{out}:{written}: row {written - 1} has another case id" in capsys.readouterr().err

    # An input shorter than the output.
    short = tmp_path / "short.jsonl"
    short.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[:10]))
    assert main(["batch", str(short), "-o", str(out), "--resume"]) == 2
    assert "is past the end of the input" in capsys.readouterr().err

    # The same input, other options: the rest would be decided differently.
    out.write_bytes(half)
    assert main(["batch", str(source), "-o", str(out), "--resume", "--limit", f"{MASSAGE_LIMIT}=9"]) == 2
    assert f"{out}:{written}: row {written - 1} is not what these options decide" in capsys.readouterr().err
    assert out.read_bytes() == half

    # A line that is not a batch result.
    out.write_bytes(half + b'{"something": "else"}\n')
    assert main(["batch", str(source), "-o", str(out), "--resume"]) == 2
    assert f"{out}:{written + 1}: not a result line of mtus-rules batch" in capsys.readouterr().err


def test_resume_needs_an_output_file(small, capsys):
    assert main(["batch", str(small[0]), "--resume"]) == 2
    assert "--resume needs the output file" in capsys.readouterr().err


# -- progress -------------------------------------------------------------------------


def test_no_bar_when_stderr_is_not_a_terminal_and_one_with_its_total_when_asked(small, tmp_path, capsys):
    source, rows, _ = small
    lines = source.read_bytes().count(b"\n")
    assert main(["batch", str(source), "-o", str(tmp_path / "a.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "mtus-rules batch" not in err and "\r" not in err
    assert main(["batch", str(source), "-o", str(tmp_path / "b.jsonl"), "--progress"]) == 2
    err = capsys.readouterr().err
    assert "mtus-rules batch: 100%" in err and f" {lines}/{lines} [" in err and "row/s" in err


def test_a_terminal_gets_a_bar_unless_told_not_to(small, tmp_path, capsys, monkeypatch):
    source, _, _ = small
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main(["batch", str(source), "-o", str(tmp_path / "a.jsonl")]) == 2
    assert "mtus-rules batch: 100%" in capsys.readouterr().err
    assert main(["batch", str(source), "-o", str(tmp_path / "b.jsonl"), "--no-progress"]) == 2
    assert "mtus-rules batch" not in capsys.readouterr().err


def test_compare_with_two_workers_gives_the_same_flips_and_shows_progress(tmp_path, capsys):
    source = tmp_path / "cases.jsonl"
    source.write_text("\n".join(
        [json.dumps(make_case({"description": f"massage x{n}", "treatment": "massage", "quantity": {"visits": n}},
                              case_id=f"c{n}")) for n in range(1, 40)] + ["{not json"]
    ) + "\n")
    args = ["compare", str(source), "--limit", f"{MASSAGE_LIMIT}=4", "--format", "json"]
    assert main(args) == 0
    one = json.loads(capsys.readouterr().out)
    assert main([*args, "--workers", "2", "--progress"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == one
    assert one["flips"] and one["errors"]  # the comparison is not empty
    assert "mtus-rules compare: 100%" in captured.err and " 40/40 [" in captured.err

