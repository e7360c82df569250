"""The command line as a Unix tool: `-` for standard input, and nothing on
standard output when nothing was decided (issue 12 point 4)."""

from __future__ import annotations

import json
import subprocess
import sys

from .. import helpers

SEED = next(helpers.EXAMPLES.glob("seed-004-*.yaml"))


def _mtus(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtus_rules", *args], input=stdin, capture_output=True)


def test_evaluate_reads_a_case_from_standard_input():
    piped = _mtus("evaluate", "-", "--format", "json", "--no-what-if", stdin=SEED.read_bytes())
    from_file = _mtus("evaluate", str(SEED), "--format", "json", "--no-what-if")
    assert piped.returncode == 0, piped.stderr
    piped_element, = json.loads(piped.stdout)
    file_element, = json.loads(from_file.stdout)
    assert piped_element["file"] == "-"
    assert piped_element["decision"] == file_element["decision"]


def test_an_invalid_case_on_standard_input_is_named_stdin_with_its_line():
    done = _mtus("evaluate", "-", stdin=b"case_id: x\nrequested_items: [oops\n")
    assert done.returncode == 2
    assert b"<stdin>:" in done.stderr and done.stdout == b""


def test_nothing_on_standard_output_when_no_case_was_decided(tmp_path):
    for fmt in ("text", "json"):
        done = _mtus("evaluate", str(tmp_path / "missing.yaml"), "--format", fmt)
        assert done.returncode == 2
        assert done.stdout == b"", f"{fmt}: {done.stdout!r}"
        assert b"file not found" in done.stderr
