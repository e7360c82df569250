"""The command line prints exactly what it printed before the package layout
changed (issue 11): every example case and every RFA example, evaluated and
explained, compared byte for byte with files recorded before the first module
moved (tests/fixtures/golden/cli/). Never re-record these for a refactoring: a difference
is a change of behaviour, and a change of behaviour is not what a layout change is for.
They were re-recorded once on purpose, for issue 14's rule-title placeholders (the
massage and flare-up titles now state the limit in force; the pack's hash changed), and
once for issue 12's decision contract (the JSON outputs put the file beside the decision
or trace, `{file, decision}` / `{file, trace}`, and a decision has `format_version`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mtus_rules.evaluation._backends import resolve
from mtus_rules.cli import main

ROOT = Path(__file__).resolve().parents[1]
RECORDED = Path(__file__).resolve().parent / "fixtures" / "golden" / "cli"
RECORDED_BACKEND = "durable_rules"
# explain --format json is 3.4 MB; its sha256 stands for it.
EXPLAIN_JSON_SHA256 = "c3e88e883432c7f766a33d8f603b0215199d5614d31cce177a82ac23c646bc73"


def _examples() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("examples/*.yaml"))


def _rfa() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("examples/rfa/*.yaml"))


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(ROOT)  # the output names each file as given: relative to the repository
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    backend = resolve()
    if backend != RECORDED_BACKEND:  # recorded where durable_rules imports; the decisions are the same
        out = out.replace(f'"backend": "{backend}"', f'"backend": "{RECORDED_BACKEND}"')
    return out


@pytest.mark.parametrize(
    ("argv", "recorded"),
    [
        (["evaluate", "--format", "json", *_examples()], "evaluate-examples.json"),
        (["evaluate", "--format", "json", *_rfa()], "evaluate-rfa.json"),
        (["evaluate", *_examples(), *_rfa()], "evaluate-all.txt"),
        (["explain", *_examples(), *_rfa()], "explain-all.txt"),
    ],
    ids=["evaluate-json", "evaluate-rfa-json", "evaluate-text", "explain-text"],
)
def test_output_is_byte_identical_to_the_recording(argv, recorded, capsys, monkeypatch):
    assert _run(argv, capsys, monkeypatch) == (RECORDED / recorded).read_text(encoding="utf-8")


def test_explain_json_is_byte_identical_to_the_recording(capsys, monkeypatch):
    out = _run(["explain", "--format", "json", *_examples(), *_rfa()], capsys, monkeypatch)
    assert hashlib.sha256(out.encode()).hexdigest() == EXPLAIN_JSON_SHA256
