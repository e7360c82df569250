from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..helpers import ROOT


def _server_load():
    # The load run lives with the benchmarks; the tests start servers the same way it does.
    spec = importlib.util.spec_from_file_location("server_load", ROOT / "benchmarks" / "server_load.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


server_load = _server_load()
Server = server_load.Server


@pytest.fixture(scope="package")
def decision_log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server") / "decisions.jsonl"


@pytest.fixture(scope="package")
def server(decision_log_path: Path) -> Iterator[Server]:
    """One `mtus-rules serve` process on loopback, with a decision log, ready."""
    running = Server("--decision-log", str(decision_log_path))
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
