"""The backend seam: durable_rules where it imports, pure Python elsewhere,
the choice stated in every decision, and a clear error for a backend that
cannot run. Equality of the two backends' answers is held in
tests/evaluation/test_matchers.py (conditions) and tests/test_golden_decisions.py
(whole decisions)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from mtus_rules import Engine, load_case
from mtus_rules.evaluation import _backends
from mtus_rules.errors import BackendError, MtusRulesError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.yaml"))

# A child interpreter in which durable_rules cannot be imported, as on Python
# 3.13 (where its C extension fails with an undefined symbol) or without a compiler.
_WITHOUT_DURABLE = "import sys; sys.modules['durable_rules_engine'] = None; "


def _without_durable(code: str, env_backend: str | None = None) -> subprocess.CompletedProcess:
    env = None
    if env_backend is not None:
        import os

        env = {**os.environ, _backends.ENVIRONMENT: env_backend}
    return subprocess.run([sys.executable, "-c", _WITHOUT_DURABLE + code], capture_output=True, text=True, env=env)


def test_without_durable_rules_the_package_imports_and_decides_in_python():
    code = (
        "import json, sys; from mtus_rules import Engine, load_case; e = Engine(); "
        "print(json.dumps([e.backend] + [e.evaluate(load_case(p)).model_dump_json(exclude={'backend'}) for p in sys.argv[1:]]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_DURABLE + code, *EXAMPLES], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    backend, *decided = json.loads(done.stdout)
    assert backend == "python"
    engine = Engine(backend="durable_rules") if "durable_rules" in _backends.available() else Engine()
    assert decided == [engine.evaluate(load_case(p)).model_dump_json(exclude={"backend"}) for p in EXAMPLES]


def test_without_durable_rules_the_cli_decides_the_examples():
    code = "import sys; from mtus_rules.cli import main; sys.exit(main(['evaluate', *sys.argv[1:], '--format', 'json']))"
    done = subprocess.run([sys.executable, "-c", _WITHOUT_DURABLE + code, *EXAMPLES], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert {d["decision"]["backend"] for d in json.loads(done.stdout)} == {"python"}


def test_asking_for_durable_rules_where_it_cannot_run_says_why_and_what_to_use():
    done = _without_durable("from mtus_rules import Engine; Engine(backend='durable_rules')")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "durable_rules cannot be used here" in last and "'python'" in last


def test_the_environment_variable_picks_the_backend(monkeypatch):
    monkeypatch.setenv(_backends.ENVIRONMENT, "python")
    assert Engine().backend == "python"
    monkeypatch.setenv(_backends.ENVIRONMENT, "nonsense")
    with pytest.raises(BackendError) as caught:
        Engine()
    assert caught.value.problems[0].location == _backends.ENVIRONMENT
    assert "durable_rules, python" in str(caught.value)


def test_an_unknown_backend_is_a_library_error_naming_the_argument():
    with pytest.raises(MtusRulesError) as caught:
        Engine(backend="drools")
    assert caught.value.problems[0].location == "backend"


@pytest.mark.skipif("durable_rules" not in _backends.available(), reason="durable_rules does not import here")
def test_durable_rules_is_the_default_wherever_it_imports(monkeypatch):
    monkeypatch.delenv(_backends.ENVIRONMENT, raising=False)
    assert Engine().backend == "durable_rules"


@pytest.mark.parametrize("backend", _backends.available())
def test_a_what_if_engine_keeps_the_backend(backend):
    engine = Engine(backend=backend)
    changed = engine.with_overrides(limits={"mtus.cpmtg.massage.limit": 8})
    assert changed.backend == backend
    decision = changed.evaluate(load_case(ROOT / "examples" / "seed-004-deep-tissue-massage.yaml"))
    assert decision.backend == backend


@pytest.mark.parametrize("backend", _backends.available())
def test_every_matcher_meets_the_protocol(backend):
    matcher = _backends.factory(backend)("protocol", {"r": {"t": "x"}})
    assert isinstance(matcher, _backends.Matcher)
    assert matcher.match({"t": "x"}) == ["r"]


@pytest.mark.parametrize("cache_size", [4096, 0])
def test_the_python_backend_is_unharmed_by_interrupted_evaluations(cache_size):
    """It keeps no session state, so an evaluation interrupted anywhere (a
    timeout's exception, Ctrl-C) leaves the next ones right."""
    cases = [load_case(p) for p in EXAMPLES]
    expected = [Engine(backend="python").evaluate(c).model_dump_json() for c in cases]
    engine = Engine(backend="python", cache_size=cache_size)
    rng = random.Random(cache_size)
    interrupted = 0
    for k in range(300):
        sys.setprofile(_interrupt_at(rng.randint(1, 2000)))
        try:
            engine.evaluate(cases[k % len(cases)], what_if=k % 4 == 0)
        except _Interrupt:
            interrupted += 1
        finally:
            sys.setprofile(None)
    assert interrupted > 100
    assert [engine.evaluate(c).model_dump_json() for c in cases] == expected


class _Interrupt(BaseException):
    """Stands for KeyboardInterrupt or a timeout raised from a signal handler."""


def _interrupt_at(n: int):
    seen = [0]

    def hook(frame, event, arg):
        # Only where CPython can deliver a signal handler's exception (see
        # tests/test_engine_reliability.py), and not in this test's own frames.
        if event == "c_call" or frame.f_code.co_filename == __file__:
            return
        seen[0] += 1
        if seen[0] == n:
            raise _Interrupt()

    return hook


def test_forgetting_after_an_interruption_clears_every_memo():
    from collections import OrderedDict

    engine = Engine()
    for path in EXAMPLES:
        engine.evaluate(load_case(path), what_if=True)
    (compiled,) = engine._packs
    memos = [v for v in vars(compiled).values() if isinstance(v, OrderedDict)]
    assert len(memos) >= 4 and any(memos)
    compiled.forget()
    assert not any(memos)
