"""pytest's hooks and the shared fixtures; the shared helpers are in helpers.py."""

from __future__ import annotations

import importlib.util

import pytest

from mtus_rules import Engine

# tests/analysis needs the analysis extra. The core suite runs without it (that
# is the point of the first half of the README's test command); the second half
# installs the extras and runs tests/analysis on its own.
ANALYSIS_INSTALLED = importlib.util.find_spec("pandas") is not None
if not ANALYSIS_INSTALLED:
    collect_ignore = ["analysis"]


def pytest_report_header(config: pytest.Config) -> str:
    if ANALYSIS_INSTALLED:
        return "mtus-rules: analysis extra installed; tests/analysis included"
    return "mtus-rules: analysis extra not installed; tests/analysis left out (run it with .[test,analysis,notebook])"


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine()
