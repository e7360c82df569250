"""pytest's hooks and the shared fixtures; the shared helpers are in helpers.py."""

from __future__ import annotations

import importlib.util

import pytest

from mtus_rules import Engine

# tests/analysis needs the analysis extra. The core suite runs without it (that
# is the point of the first half of the README's test command); the second half
# installs the extras and runs tests/analysis on its own.
# pandas alone is not the extra: the dask extra brings it too, without the charts or Jupyter.
ANALYSIS_INSTALLED = all(
    importlib.util.find_spec(name) is not None for name in ("pandas", "matplotlib", "nbclient", "nbformat")
)
# tests/server needs the server extra (and httpx, from the test extra), the same way.
SERVER_INSTALLED = all(importlib.util.find_spec(name) is not None for name in ("fastapi", "uvicorn", "httpx"))
# tests/dask needs the dask extra (dask with its DataFrames, and distributed for the local cluster).
DASK_INSTALLED = all(importlib.util.find_spec(name) is not None for name in ("dask", "distributed", "pandas"))
collect_ignore = [
    name
    for name, installed in (("analysis", ANALYSIS_INSTALLED), ("server", SERVER_INSTALLED), ("dask", DASK_INSTALLED))
    if not installed
]


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        "mtus-rules: analysis extra installed; tests/analysis included"
        if ANALYSIS_INSTALLED
        else "mtus-rules: analysis extra not installed; tests/analysis left out (run it with .[test,analysis,notebook])",
        "mtus-rules: server extra installed; tests/server included"
        if SERVER_INSTALLED
        else "mtus-rules: server extra not installed; tests/server left out (run it with .[test,server])",
        "mtus-rules: dask extra installed; tests/dask included"
        if DASK_INSTALLED
        else "mtus-rules: dask extra not installed; tests/dask left out (run it with .[test,dask])",
    ]


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine()
