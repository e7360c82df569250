"""What a new user gets from `pip install`: a core without the analysis extra,
and one documented test command that CI runs as written."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from importlib import metadata

import pytest

from mtus_rules._resources import install_command

from .helpers import ROOT, run_python

#: What the analysis extra brings (and its notebook runner); the core must not need any of it.
ANALYSIS_PACKAGES = ("pandas", "numpy", "matplotlib", "nbclient", "nbformat", "ipykernel", "IPython")


def _requirements() -> list[str]:
    try:
        return metadata.requires("mtus-rules") or []
    except metadata.PackageNotFoundError:
        pytest.fail("mtus-rules is not installed: run the tests against an install (pip install '.[test]')")


def test_core_requirements_leave_out_the_analysis_packages():
    for requirement in _requirements():
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
        if name in {p.lower() for p in ANALYSIS_PACKAGES}:
            assert "extra ==" in requirement, f"{requirement!r} would be installed without an extra"


def test_the_analysis_extra_is_declared():
    extras = {
        re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower(): re.search(r"extra == [\"']([^\"']+)", r).group(1)
        for r in _requirements()
        if "extra ==" in r
    }
    assert extras["pandas"] == "analysis" and extras["matplotlib"] == "analysis"
    assert extras["nbclient"] == "notebook" and extras["ipykernel"] == "notebook"


def test_without_pandas_the_analysis_module_says_which_extra_to_install():
    run = run_python("""
        try:
            import mtus_rules.analysis
        except ModuleNotFoundError as exc:
            print(type(exc).__name__, exc.name, "|", exc)
        """, without=("pandas",))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        "ModuleNotFoundError pandas | mtus_rules.analysis needs pandas (pandas is not installed); "
        f"install the analysis extra: {install_command('analysis')}"
    )


def test_without_pandas_the_core_still_decides_and_displays():
    seed = ROOT / "examples" / "seed-001-chiropractic-pt-massage.yaml"
    run = run_python(f"""
        from mtus_rules import Engine, compare, load_case
        engine = Engine()
        case = load_case({str(seed)!r})
        decision = engine.evaluate(case, what_if=True)
        html = decision._repr_html_()
        comparison = compare(engine, engine.with_overrides(limits={{"mtus.cpmtg.massage.limit": 4}}), [case])
        print([i.outcome.value for i in decision.items], "mtus-decision" in html, comparison.items)
        """, without=("pandas",))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['upheld', 'upheld', 'upheld'] True 3"


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Run the whole test suite:\s*```sh\n(.*?)```", readme, re.DOTALL)
    assert block, "README.md has no 'Run the whole test suite:' command block"
    return block.group(1).replace("\\\n", " ")


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").replace("\\\n", " ")
    commands = [line for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    command = commands[-1]  # after the shebang-free preamble (set -e, cd to the checkout)
    assert " ".join(command.split()) == " ".join(_readme_test_command().split())


def _matrix():
    spec = importlib.util.spec_from_file_location("ci_matrix", ROOT / ".ci" / "matrix.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["ci_matrix"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_the_test_command_runs_the_core_suite_before_any_extra_is_installed():
    # The README's command runs .ci/matrix.py; its plan is where the property now lives:
    # the core suite in environments with only the test extra, on the oldest and the
    # newest supported Python, and the extras' tests once, in an environment of their own.
    assert " ".join(_readme_test_command().split()) == "python3 .ci/matrix.py"
    plan = json.loads(subprocess.run([sys.executable, str(ROOT / ".ci" / "matrix.py"), "--plan"],
                                     capture_output=True, text=True, check=True).stdout)
    core = [s for s in plan if s["name"].startswith("core")]
    assert [s["python"] for s in core] == ["3.10", "3.13"]
    assert all(s["extras"] == ["test"] for s in core), "the core suite must run without the extras"
    # The whole core suite on both; the oldest leaves out only the tests marked `once`,
    # which the newest runs.
    assert [s["tests"] for s in core] == [["-m", "not once"], []]
    (extras,) = [s for s in plan if not s["name"].startswith("core")]
    assert extras["extras"] == ["test", "analysis", "notebook", "server", "dask"]
    assert extras["tests"] == ["tests/analysis", "tests/server", "tests/dask"]
    assert len({s["venv"] for s in plan}) == len(plan)


def test_a_python_the_machine_lacks_is_named_not_passed_over(capsys, monkeypatch):
    matrix = _matrix()
    monkeypatch.setattr(matrix, "CORE_PYTHONS", ("3.99", "3.98"))
    suites = matrix.plan()
    missing = matrix.resolve_pythons(suites)
    assert missing == ["3.99", "3.98"]
    first, second = suites[:2]
    assert first.interpreter and "3.99 not found; ran on python3 instead" in first.note
    assert second.status == "skipped"  # the same python3 again would test nothing new
    for suite in suites:
        if suite.status != "skipped":
            suite.status, suite.backend = "passed", "python"
    assert matrix.summary(suites, missing, 1.0) == 0
    out = capsys.readouterr().out
    assert "PYTHON 3.99 IS MISSING on this machine: the core suite was NOT run on 3.99" in out
    assert "NO CORE SUITE RAN THE durable_rules BACKEND" in out
    first.status = "FAILED"
    assert matrix.summary(suites, missing, 1.0) == 1
