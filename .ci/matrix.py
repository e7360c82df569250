"""The whole test suite, as the README's test command runs it: the core suite on
the oldest and the newest supported Python this machine has, and the extras'
tests once. Run from anywhere with any Python 3: `python3 .ci/matrix.py`.

Each suite gets a virtual environment of its own in the checkout (`.venv-3.10`,
...), installs the package from the checkout into it as a user would
(`pip install '.[EXTRAS]'`, not editable), and runs pytest there. Suites
install side by side and run their tests one per CPU (the two core suites
first), each writing to a log in `.ci/logs/`; a line says
when each starts and ends, and a summary at the end names every suite with the
Python and the matcher (`durable_rules` or `python`) it ran, and its result.
The exit status is 0 only if every suite that ran passed.

A Python the plan lists but this machine lacks is not silently passed over:
the summary says in capitals which one was missing, and its core suite runs on
`python3` instead so the core is still tested.

    python3 .ci/matrix.py            run everything
    python3 .ci/matrix.py --plan     print the plan as JSON, run nothing
    python3 .ci/matrix.py -k core    run only the suites whose name contains "core"
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / ".ci" / "logs"

# -- the plan: the one place to change what CI runs ----------------------------------------

#: The oldest and the newest Python the package supports (requires-python >= 3.10).
#: durable_rules, the default matcher, imports before 3.13; the pure-Python one decides on 3.13.
CORE_PYTHONS = ("3.10", "3.13")
#: The extras whose tests run once, with the machine's python3, and the tests that need them.
EXTRAS = ("test", "analysis", "notebook", "server", "dask")
EXTRAS_TESTS = ("tests/analysis", "tests/server", "tests/dask")


@dataclass
class Suite:
    name: str
    python: str  # the version asked for, or "python3"
    extras: tuple[str, ...]
    tests: tuple[str, ...] = ()  # pytest arguments; () is the whole core suite (testpaths)
    venv: str = ""
    # Filled in as it runs:
    interpreter: str | None = None
    version: str | None = None
    backend: str | None = None
    status: str = "not run"
    seconds: float = 0.0
    note: str = ""
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step
    log: str = ""
    missing: list[str] = field(default_factory=list)


#: Tests marked `once` (slow, and the same on every Python and matcher) run in the
#: newest Python's core suite only: the oldest's, with durable_rules, is the
#: longest suite, and CI must stay under 10 minutes on 2 cores.
ONCE_IN = CORE_PYTHONS[-1]


def plan() -> list[Suite]:
    core = [
        Suite(f"core-{v}", v, ("test",), () if v == ONCE_IN else ("-m", "not once"), venv=f".venv-{v}")
        for v in CORE_PYTHONS
    ]
    extras = Suite("extras", "python3", EXTRAS, EXTRAS_TESTS, venv=".venv-analysis")
    return [*core, extras]


# -- finding the Pythons --------------------------------------------------------------------


def _version_of(exe: str) -> str | None:
    try:
        done = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def find_python(version: str) -> str | None:
    """An interpreter for `version` ("3.10") that runs, or None. A pyenv shim on
    PATH fails for a version pyenv has but has not selected, so pyenv's own
    versions are looked at too."""
    candidates = [shutil.which(f"python{version}")]
    root = os.environ.get("PYENV_ROOT") or (
        subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() if shutil.which("pyenv") else ""
    )
    if root:
        candidates += sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")), reverse=True)
    for exe in candidates:
        if exe and _version_of(exe) == version:
            return exe
    return None


# -- running --------------------------------------------------------------------------------

_print_lock = threading.Lock()
#: Test runs at a time (one per CPU, set by main). Installing is mostly waiting on
#: the network and the disk, so every suite installs at once; only pytest waits here.
_test_slots = threading.Semaphore(1)


def say(text: str) -> None:
    with _print_lock:
        print(f"matrix: {text}", flush=True)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # The suites test what pip installed in their own environment, not a source tree on the path.
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    return env


def run_suite(suite: Suite) -> None:
    started = time.monotonic()
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{suite.name}.log"
    suite.log = str(log_path.relative_to(ROOT))
    venv = ROOT / suite.venv
    py = venv / "bin" / "python"
    spec = f".[{','.join(suite.extras)}]"
    steps = [
        ("venv", [suite.interpreter, "-m", "venv", str(venv)]),
        ("install", [str(py), "-m", "pip", "install", "-q", spec]),
        ("backend", [str(py), "-c", "from mtus_rules.evaluation._backends import resolve; print(resolve())"]),
        ("pytest", [str(py), "-m", "pytest", "-p", "no:cacheprovider", *suite.tests]),
    ]
    say(f"{suite.name}: started ({suite.interpreter}, Python {suite.version}; log {suite.log})")
    suite.status = "passed"
    with log_path.open("w", encoding="utf-8") as log:
        for step, argv in steps:
            log.write(f"$ {' '.join(argv)}\n")
            log.flush()
            if step == "backend":
                done = subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, text=True)
                log.write(done.stdout + done.stderr)
                suite.backend = done.stdout.strip() or None
                continue
            step_started = time.monotonic()
            if step == "pytest":
                with _test_slots:
                    step_started = time.monotonic()
                    code = subprocess.run(argv, cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT).returncode
            else:
                code = subprocess.run(argv, cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT).returncode
            suite.steps[step] = round(time.monotonic() - step_started, 1)
            if code != 0:
                suite.status = "FAILED"
                suite.note = f"{step} exited with {code}"
                break
    suite.seconds = time.monotonic() - started
    say(f"{suite.name}: {suite.status} in {suite.seconds:.0f} s" + (f" ({suite.note})" if suite.note else ""))
    if suite.status != "passed":
        with _print_lock:
            tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
            print("\n".join(f"  {suite.name} | {line}" for line in tail), flush=True)


def resolve_pythons(suites: list[Suite]) -> list[str]:
    """Set each suite's interpreter; the versions this machine lacks."""
    missing = []
    for suite in suites:
        if suite.python == "python3":
            suite.interpreter = sys.executable if Path(sys.executable).name.startswith("python3") else shutil.which("python3")
        else:
            suite.interpreter = find_python(suite.python)
            if suite.interpreter is None:
                missing.append(suite.python)
                suite.missing.append(suite.python)
                suite.interpreter = shutil.which("python3") or sys.executable
                suite.note = f"Python {suite.python} not found; ran on python3 instead"
        suite.version = _version_of(suite.interpreter) if suite.interpreter else None
    # Two core suites that fell back to the same Python would run the same thing twice.
    seen: set[str | None] = set()
    for suite in suites:
        if suite.name.startswith("core"):
            if suite.version in seen:
                suite.status, suite.note = "skipped", f"{suite.note}; the same Python as another core suite"
            seen.add(suite.version)
    return missing


def run_all(suites: list[Suite], jobs: int) -> None:
    """Run the suites, their tests at most `jobs` at a time, in plan order."""
    global _test_slots
    _test_slots = threading.Semaphore(jobs)
    threads = []
    for suite in suites:
        if suite.status == "skipped":
            continue
        threads.append(threading.Thread(target=run_suite, args=(suite,)))
        threads[-1].start()
        time.sleep(1)  # in plan order: the earlier suites reach the test slots first
    for thread in threads:
        thread.join()


def summary(suites: list[Suite], missing: list[str], seconds: float) -> int:
    print("\nmatrix: summary", flush=True)
    for s in suites:
        print(
            f"  {s.name:10} {s.status:8} {s.seconds:5.0f} s  Python {s.version or '?':5} backend {s.backend or '?':13} "
            f"{s.log}" + (f"  (install {s.steps['install']:.0f} s, tests {s.steps['pytest']:.0f} s)" if "pytest" in s.steps else "")
            + (f"  ({s.note})" if s.note else "")
        )
    failed = [s.name for s in suites if s.status not in ("passed", "skipped")]
    for version in missing:
        print(f"matrix: PYTHON {version} IS MISSING on this machine: the core suite was NOT run on {version}")
    core = [s for s in suites if s.name.startswith("core")]
    if core and not any(s.backend == "durable_rules" for s in core):
        print("matrix: NO CORE SUITE RAN THE durable_rules BACKEND (it imports only before Python 3.13)")
    used = sorted({s.version for s in suites if s.version})
    passed = sum(s.status == "passed" for s in suites)
    print(f"matrix: Pythons used: {', '.join(used)}; {passed} of {len(suites)} suites passed in {seconds:.0f} s")
    if failed:
        print(f"matrix: FAILED: {', '.join(failed)}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", action="store_true", help="print the plan as JSON and run nothing")
    parser.add_argument("-k", metavar="TEXT", default="", help="run only the suites whose name contains TEXT")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="suites at a time (default: one per CPU)")
    args = parser.parse_args(argv)
    suites = [s for s in plan() if args.k in s.name]
    if args.plan:
        print(json.dumps([asdict(s) for s in suites], indent=2))
        return 0
    started = time.monotonic()
    missing = resolve_pythons(suites)
    for version in missing:
        say(f"PYTHON {version} IS MISSING on this machine: its core suite runs on python3 instead")
    run_all(suites, max(1, args.jobs))
    return summary(suites, missing, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
