"""Load run of the HTTP decision service (`mtus-rules serve`, the server extra).

    PYTHONPATH=src python benchmarks/server_load.py [--requests 10000] [--clients 8] [--url URL] [--json]

Without --url it starts `mtus-rules serve --port 0` on loopback, waits for
/ready, and stops it (SIGTERM) at the end. `--clients` concurrent clients (threads), each
on its own connection, send `--requests` POST /decisions in all, cycling
through every example case (examples/*.yaml and examples/rfa/*.yaml, plain and
RFA form, sent as JSON). A request is an error unless it is answered 200 with
a decision identical to every other answer to the same case (decisions are
deterministic). Prints the count, errors, wall time, throughput and the p50,
p90, p99 and max latency; exits 1 on any error. tests/server/test_load.py runs
it with 10,000 requests. Targets loopback only.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from mtus_rules.yamlio import parse

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SERVING = re.compile(r"serving on (http://\S+)")


def example_bodies() -> list[tuple[str, bytes]]:
    """(name, JSON body) of every example case, in the form its file has."""
    bodies = []
    for path in sorted(EXAMPLES.glob("*.yaml")) + sorted((EXAMPLES / "rfa").glob("*.yaml")):
        data, _ = parse(path.read_text(encoding="utf-8"), str(path))
        bodies.append((path.relative_to(EXAMPLES).as_posix(), json.dumps(data).encode()))
    return bodies


class Server:
    """`mtus-rules serve --port 0` in a child process, on loopback."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mtus_rules", "serve", "--host", "127.0.0.1", "--port", "0", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.stderr: list[str] = []
        found = threading.Event()
        self.url = ""

        def read() -> None:  # keeps the pipe drained for the whole life of the server
            assert self.process.stderr is not None
            for line in self.process.stderr:
                self.stderr.append(line)
                match = SERVING.search(line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()
            found.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        if not found.wait(timeout) or not self.url:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "".join(self.stderr))

    def wait_ready(self, timeout: float = 60) -> float:
        """Seconds until /ready answered 200."""
        start = time.monotonic()
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() - start < timeout:
                if self.process.poll() is not None:
                    break
                try:
                    if client.get("/ready").status_code == 200:
                        return time.monotonic() - start
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise RuntimeError("the server did not become ready:\n" + "".join(self.stderr))

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._reader.join(5)
        return code


def _decision(body: bytes) -> Any:
    try:
        return json.loads(body)["decision"]
    except (ValueError, KeyError, TypeError):
        return None


def _load(url: str, bodies: list[tuple[str, bytes]], requests: int, clients: int, max_seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + max_seconds
    latencies: list[float] = []
    errors: list[str] = []
    answers: dict[str, bytes] = {}
    numbers = iter(range(requests))
    lock = threading.Lock()

    def client() -> None:
        # One thread and one connection per client: httpx's synchronous client
        # costs the (shared) CPU about half of what its asyncio client does per request.
        with httpx.Client(base_url=url, timeout=30) as http:
            while True:
                with lock:
                    n = next(numbers, None)
                if n is None:
                    return
                if time.monotonic() > deadline:
                    errors.append(f"request {n:,}: not sent, the run passed its {max_seconds:g} s limit")
                    continue
                name, body = bodies[n % len(bodies)]
                start = time.perf_counter()
                try:
                    response = http.post("/decisions", content=body, headers={"content-type": "application/json"})
                except httpx.HTTPError as exc:
                    errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors.append(f"{name}: HTTP {response.status_code}: {response.text[:200]}")
                    continue
                # Bytes first: equal bytes are the common case, and parsing every answer
                # would cost the client more than the server spends deciding.
                with lock:
                    first = answers.setdefault(name, response.content)
                if first != response.content and _decision(first) != _decision(response.content):
                    errors.append(f"{name}: a different decision from an earlier answer to the same case")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    ms = sorted(x * 1000 for x in latencies)
    cut = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "requests": requests,
        "clients": clients,
        "answered": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:5],
        "seconds": round(wall, 3),
        "throughput_per_s": round(requests / wall, 1),
        "p50_ms": round(cut[49], 2),
        "p90_ms": round(cut[89], 2),
        "p99_ms": round(cut[98], 2),
        "max_ms": round(ms[-1], 2) if ms else None,
        "distinct_cases": len(bodies),
    }


def _loopback(url: str) -> bool:
    host = httpx.URL(url).host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(requests: int, clients: int, url: str | None = None, max_seconds: float = 600) -> dict[str, Any]:
    """The figures of one load run (see the module docstring)."""
    bodies = example_bodies()
    if url:
        if not _loopback(url):
            raise SystemExit(f"server_load: {url} is not a loopback address; this load run targets this machine only")
        return _load(url, bodies, requests, clients, max_seconds)
    server = Server(env={**os.environ})
    try:
        ready = server.wait_ready()
        result = _load(server.url, bodies, requests, clients, max_seconds)
    finally:
        exit_code = server.stop()
    result["server_ready_s"] = round(ready, 2)
    result["server_exit_code"] = exit_code
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--url", help="a server already running (loopback); default: start one")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop sending after this long (default 600)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = run(args.requests, args.clients, args.url, args.max_seconds)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['requests']:,} requests from {result['clients']} clients ({result['distinct_cases']} example cases): "
            f"{result['errors']} errors, {result['seconds']} s, {result['throughput_per_s']:,} requests/s; "
            f"latency p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms"
        )
        for error in result["first_errors"]:
            print(f"  {error}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
