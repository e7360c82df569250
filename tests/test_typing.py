"""The package is typed (issue 12 point 3): mypy passes over src/ with the
configuration in pyproject.toml, and the wheel ships the py.typed marker that
tells a user's type checker to read the package's annotations rather than
treat it as Any."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .helpers import ROOT


def test_mypy_passes_over_the_package():
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install '.[test]'")
    # From the checkout's root, so mypy reads [tool.mypy] (files, plugin, overrides).
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_is_marked_typed():
    assert (ROOT / "src" / "mtus_rules" / "py.typed").is_file()


def test_the_wheel_ships_py_typed(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("mtus_rules-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "mtus_rules/py.typed" in names
    assert "mtus_rules/integration/envelopes.py" in names
