"""A Ctrl-C or SIGTERM that lands while pydantic serializes a decision (its
`decision_id`, the pack reference's own serializer: Python called from C) is
still a stop: pydantic wraps it in a PydanticSerializationError, which once
ended `mtus-rules batch` with a traceback and exit 1 (seen in CI, 2 runs in 12
by hand). Delivered here deterministically, by calling the CLI's own handler
from a profile hook when that serializer is entered."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from mtus_rules import cli
from mtus_rules.integration import jsonl

from ..helpers import EXAMPLES

GOOD_ROW = (EXAMPLES / "history" / "generated-cases.jsonl").read_text().splitlines()[0]


def _signal_inside(name: str, handler, after: int = 3):
    """Call `handler` (the CLI's signal handler) the `after`-th time a function
    called `name` is entered: where a real signal can land."""
    seen = [0]

    def hook(frame, event, arg):
        if event == "call" and frame.f_code.co_name == name:
            seen[0] += 1
            if seen[0] == after:
                sys.setprofile(None)
                handler(signal.SIGINT, None)  # raises, as the signal would

    return hook


@pytest.mark.parametrize("handler, status, word", [
    (cli._on_sigint, 130, "interrupted"),
    (cli._on_sigterm, 143, "terminated"),
], ids=["sigint", "sigterm"])
# The pack reference's serializer runs inside pydantic's; the id's digest runs
# inside it when the decision_id property is serialized (what-if rows) and
# beside it otherwise (decision.decision_json).
@pytest.mark.parametrize("where, what_if", [
    ("_layers_only_for_overlays", False), ("_digest", False), ("_digest", True), ("decision_id", True),
])
def test_a_stop_inside_a_serializer_ends_the_batch_with_its_summary(
    tmp_path: Path, capsys, monkeypatch, handler, status, word, where, what_if
):
    monkeypatch.setattr(jsonl._Held, "received", None)
    source = tmp_path / "in.jsonl"
    source.write_text((GOOD_ROW + "\n") * 20)
    out = tmp_path / "out.jsonl"
    sys.setprofile(_signal_inside(where, handler))
    try:
        code = cli.main(["batch", str(source), "-o", str(out), "--no-progress", *(["--what-if"] if what_if else [])])
    finally:
        sys.setprofile(None)
    err = capsys.readouterr().err
    assert code == status, err
    assert "Traceback" not in err and f"mtus-rules: {word}" in err
    data = out.read_bytes()
    assert data.count(b"\n") < 20 and (not data or data.endswith(b"\n"))
    assert b"internal error" not in data  # the stop is not taken for a defect of a row


def test_a_signal_of_an_earlier_command_does_not_colour_the_next(tmp_path: Path, capsys, monkeypatch):
    # A host program ran a command that was interrupted; the next one's defects are
    # still a row's problem, not taken for that old Ctrl-C.
    monkeypatch.setattr(jsonl._Held, "received", KeyboardInterrupt())
    source = tmp_path / "in.jsonl"
    source.write_text(GOOD_ROW + "\n")
    assert cli.main(["batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--no-progress"]) == 0
    assert jsonl._Held.received is None


class _StopsWhenCollected:
    """Calls the CLI's handler from __del__, where the interpreter prints the
    exception it raises as "Exception ignored" and drops it."""

    def __init__(self, handler):
        self.handler = handler

    def __del__(self):
        self.handler(signal.SIGINT, None)


@pytest.mark.parametrize("handler, status, word", [
    (cli._on_sigint, 130, "interrupted"),
    (cli._on_sigterm, 143, "terminated"),
], ids=["sigint", "sigterm"])
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the interpreter reports what it dropped
def test_a_stop_whose_exception_a_finalizer_swallowed_still_ends_the_batch(tmp_path: Path, capsys, monkeypatch, handler, status, word):
    from mtus_rules.integration import batch

    rows = 600  # more than one block of 256 rows
    source = tmp_path / "in.jsonl"
    source.write_text((GOOD_ROW + "\n") * rows)
    out = tmp_path / "out.jsonl"
    real = batch.decide_row
    seen = [0]

    def decide_row(*args, **kwargs):
        seen[0] += 1
        if seen[0] == 3:
            _StopsWhenCollected(handler)  # collected at once: the handler's exception is lost
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "decide_row", decide_row)
    code = cli.main(["batch", str(source), "-o", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == status, err
    assert f"mtus-rules: {word}" in err
    written = out.read_bytes().count(b"\n")
    assert 0 < written < rows and f"{written:,} rows written" in err
