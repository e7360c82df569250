"""The load run of the decision service, bounded: benchmarks/server_load.py with
10,000 requests from 8 concurrent clients against a real server on loopback."""

from __future__ import annotations

from .conftest import server_load


def test_ten_thousand_requests_from_concurrent_clients_without_an_error(capsys):
    figures = server_load.run(requests=10_000, clients=8, max_seconds=150)
    with capsys.disabled():  # the figures belong in the test log: the issue asks for them
        print(
            f"\nserver load: {figures['requests']:,} requests, {figures['clients']} clients, {figures['errors']} errors, "
            f"{figures['seconds']} s, {figures['throughput_per_s']} req/s, p50 {figures['p50_ms']} ms, "
            f"p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms"
        )
    assert figures["errors"] == 0, figures["first_errors"]
    assert figures["answered"] == 10_000
    assert figures["server_exit_code"] == 143  # stopped by SIGTERM, cleanly
