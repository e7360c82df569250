"""`mtus-rules serve` against a real server process on loopback, through httpx."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mtus_rules import Engine, load_case
from mtus_rules._resources import install_command

from ..helpers import EXAMPLES, make_case, run_python
from .conftest import Server, server_load

PROBLEM = "application/problem+json"
EXAMPLE_BODIES = server_load.example_bodies()
HISTORY = EXAMPLES / "history" / "generated-cases.jsonl"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def _log_records(path: Path) -> dict[str, dict]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {r["decision_id"]: r for r in records}


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"] == "about:blank"
    return body


# -- one case ------------------------------------------------------------------------------


def test_the_examples_cover_both_case_forms():
    names = [name for name, _ in EXAMPLE_BODIES]
    assert any(name.startswith("rfa/") for name in names) and any("/" not in name for name in names)
    assert all(b'"rfa_lines"' in body for name, body in EXAMPLE_BODIES if name.startswith("rfa/"))


@pytest.mark.parametrize("name, body", EXAMPLE_BODIES, ids=[name for name, _ in EXAMPLE_BODIES])
def test_every_example_decides_as_the_engine_does(http, engine, decision_log_path, name, body):
    response = http.post("/decisions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    expected = engine.evaluate(load_case(EXAMPLES / name)).model_dump(mode="json")
    assert answer["decision"] == expected
    assert answer["decision"]["rule_pack"]["content_hash"]  # the answer says which pack decided
    # With a decision log, the answer names its record, and the record is this decision.
    record = _log_records(decision_log_path)[answer["decision_id"]]
    uuid.UUID(answer["decision_id"])
    assert [i["outcome"] for i in record["items"]] == [i["outcome"] for i in expected["items"]]
    assert record["rule_pack"] == expected["rule_pack"]


@pytest.fixture(scope="module")
def plain_server() -> Iterator[Server]:
    """A server without a decision log, with a small body limit."""
    running = Server("--max-body", "4000")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def test_a_server_without_a_decision_log_answers_without_an_id(plain_server, engine):
    name, body = min(EXAMPLE_BODIES, key=lambda example: len(example[1]))
    answer = httpx.post(plain_server.url + "/decisions", content=body, timeout=60).json()
    assert answer == {"decision": engine.evaluate(load_case(EXAMPLES / name)).model_dump(mode="json")}


# -- many cases ------------------------------------------------------------------------------


def test_many_cases_as_json_lines_with_bad_rows_in_the_middle(http, engine, decision_log_path):
    good = HISTORY.read_text(encoding="utf-8").splitlines()[:4]
    missing = make_case({"description": "Massage, 4 visits", "treatment": "massage", "body_regions": ["lumbar"], "quantity": {"visits": 4}})
    del missing["date_of_injury"]
    lines = [good[0], good[1], json.dumps(missing), "{not json", "", good[2], good[3]]
    response = http.post("/decisions/batch", content="\n".join(lines) + "\n", headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in response.text.splitlines()]
    # One result per row (the blank line is not a row), in order, with its line in the body.
    assert [(r["row"], r["line"]) for r in rows] == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 6), (5, 7)]
    assert [p["location"] for p in rows[2]["problems"]] == ["date_of_injury"]
    assert "invalid JSON" in rows[3]["problems"][0]["message"] and "decision" not in rows[3]
    decided = [r for r in rows if "decision" in r]
    assert len(decided) == 4 and all("problems" not in r for r in decided)
    for row, text in zip(decided, [good[0], good[1], good[2], good[3]], strict=True):
        assert row["decision"] == engine.evaluate(json.loads(text)).model_dump(mode="json")
    logged = _log_records(decision_log_path)
    assert all(r["decision_id"] in logged for r in decided)


def test_an_empty_batch_answers_nothing(http):
    response = http.post("/decisions/batch", content=b"")
    assert response.status_code == 200 and response.text == ""


# -- packs, health, readiness ------------------------------------------------------------------


def test_packs_in_force_with_their_hashes(http, engine):
    answer = http.get("/packs").json()
    assert answer["backend"] == engine.backend
    assert [(p["name"], p["version"], p["content_hash"]) for p in answer["packs"]] == [
        (r.name, r.version, r.content_hash) for r in engine.pack_refs
    ]
    for shown, pack in zip(answer["packs"], engine.packs, strict=True):
        assert shown["effective_start"] == pack.effective.start.isoformat()
        assert shown["effective_end"] == (pack.effective.end.isoformat() if pack.effective.end else None)


def test_packs_show_an_overlays_layers():
    # A service running a payer's overlay says what it is made of, as its decisions do.
    from .conftest import Server

    overlay = EXAMPLES / "overlay"
    running = Server("--rules", str(overlay))
    try:
        running.wait_ready()
        with httpx.Client(base_url=running.url, timeout=60) as client:
            (shown,) = client.get("/packs").json()["packs"]
    finally:
        running.stop()
    (ref,) = Engine(overlay).pack_refs
    assert shown["layers"] == [layer.model_dump(mode="json") for layer in ref.layers or ()]
    assert [layer["name"] for layer in shown["layers"]] == ["mtus-2009", "example-payer"]
    assert shown["overrides"] is None and shown["content_hash"] == ref.content_hash


def test_health_and_ready(http):
    assert http.get("/health").json() == {"status": "ok"}
    assert http.get("/ready").json() == {"status": "ready"}


def test_ready_only_once_the_code_sets_are_loaded():
    """/ready says 503 while the ICD-10-CM code set loads (seconds), and once it
    says 200 the first RFA request does not pay for that load."""
    server = Server()
    seen: list[int] = []
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert client.get("/health").status_code == 200
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and (not seen or seen[-1] != 200):
                response = client.get("/ready")
                seen.append(response.status_code)
                if response.status_code == 503:
                    _problem(response, 503)
                    assert response.headers["retry-after"]
                time.sleep(0.02)
            rfa = dict(EXAMPLE_BODIES)["rfa/seed-000-rfa.yaml"]
            start = time.perf_counter()
            first = client.post("/decisions", content=rfa)
            first_seconds = time.perf_counter() - start
    finally:
        exit_code = server.stop()
    assert exit_code == 143, server.stderr  # SIGTERM: a graceful stop, with the command's documented status
    assert "Traceback" not in "".join(server.stderr)
    assert seen[0] == 503 and seen[-1] == 200 and set(seen) == {503, 200}
    assert seen == sorted(seen, reverse=True)  # never back to 503 once ready
    assert first.status_code == 200
    assert first_seconds < 0.5, f"the first RFA decision took {first_seconds:.2f} s: the code set was not loaded at start-up"


# -- errors as problem details ------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_with_413(http):
    _, body = EXAMPLE_BODIES[0]
    padded = body[:-1] + b" " * (1024 * 1024 - len(body) + 1) + b"}"  # valid JSON, one byte over 1 MiB
    assert len(padded) == 1024 * 1024 + 1
    problem = _problem(http.post("/decisions", content=padded), 413)
    assert "1,048,576 bytes" in problem["detail"]
    # Without a Content-Length (chunked), it is counted as it arrives.
    chunks = (padded[i : i + 65536] for i in range(0, len(padded), 65536))
    _problem(http.post("/decisions", content=chunks), 413)
    # The limit is the limit: exactly 1 MiB is read and decided.
    assert http.post("/decisions", content=padded[:-2] + b"}").status_code == 200


def test_max_body_option(plain_server):
    small = min((body for _, body in EXAMPLE_BODIES), key=len)
    assert len(small) < 4000
    with httpx.Client(base_url=plain_server.url, timeout=60) as client:
        assert client.post("/decisions", content=small).status_code == 200
        assert "4,000 bytes" in _problem(client.post("/decisions", content=small + b" " * 4000), 413)["detail"]


def test_an_invalid_case_is_a_422_problem_naming_each_field(http):
    case = make_case({"description": "Massage, 4 visits", "treatment": "massage", "body_regions": ["lumbar"], "quantity": {"visits": 4}})
    case["request_date"] = "2014-02-30"
    case["care_stage"] = "sometime"
    case["requested_items"][0]["treatment"] = "massage_chair"
    problem = _problem(http.post("/decisions", json=case), 422)
    locations = {e["location"] for e in problem["errors"]}
    assert locations == {"request_date", "care_stage", "requested_items[0].treatment"}
    assert all(e["message"] for e in problem["errors"])


def test_a_problem_names_the_line_of_a_multi_line_body(http):
    case = make_case({"description": "Massage, 4 visits", "treatment": "massage", "body_regions": ["lumbar"], "quantity": {"visits": 4}})
    case["care_stage"] = "sometime"
    text = json.dumps(case, indent=2)
    expected_line = next(n for n, line in enumerate(text.splitlines(), 1) if '"sometime"' in line)
    (error,) = _problem(http.post("/decisions", content=text), 422)["errors"]
    assert error["location"] == "care_stage" and error["line"] == expected_line


def test_an_rfa_case_problem_names_the_rfa_line_field(http):
    name, body = next((n, b) for n, b in EXAMPLE_BODIES if n.startswith("rfa/"))
    case = json.loads(body)
    case["rfa_lines"][0]["code"] = "not-a-code"
    problem = _problem(http.post("/decisions", json=case), 422)
    assert [e["location"] for e in problem["errors"]] == ["rfa_lines[0].code"]


@pytest.mark.parametrize(
    "body, words",
    [
        (b'{"request_date": ', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "nested"),
        (b"[1, 2]", "mapping"),
    ],
    ids=["truncated", "not-utf8", "deep", "not-a-mapping"],
)
def test_a_body_that_is_not_a_case_is_a_problem(http, body, words):
    response = http.post("/decisions", content=body)
    assert response.status_code in (400, 422)
    assert words in _problem(response, response.status_code)["detail"] + json.dumps(response.json().get("errors"))


def test_unknown_paths_and_methods_are_problems_too(http):
    _problem(http.get("/nowhere"), 404)
    _problem(http.get("/decisions"), 405)


# -- the contract -------------------------------------------------------------------------------


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_openapi_document_from_the_library_models(http):
    doc = http.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/decisions", "/decisions/batch", "/packs", "/health", "/ready"} <= set(doc["paths"])
    schemas = doc["components"]["schemas"]
    body = doc["paths"]["/decisions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {r["$ref"] for r in body["anyOf"]} == {"#/components/schemas/Case", "#/components/schemas/RfaCase"}
    assert "requested_items" in schemas["Case"]["required"] and "rfa_lines" in schemas["RfaCase"]["required"]
    ok = doc["paths"]["/decisions"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/DecisionResponse"}
    assert set(schemas["Decision"]["properties"]) >= {"rule_pack", "items", "library_version"}
    assert PROBLEM in doc["paths"]["/decisions"]["post"]["responses"]["422"]["content"]
    assert "application/x-ndjson" in doc["paths"]["/decisions/batch"]["post"]["responses"]["200"]["content"]
    missing = {r for r in _refs(doc) if r.removeprefix("#/components/schemas/") not in schemas}
    assert not missing


# -- the command -------------------------------------------------------------------------------


def test_serve_without_the_extra_says_how_to_install_it():
    run = run_python(
        """
        from mtus_rules.cli import main
        raise SystemExit(main(["serve", "--port", "0"]))
        """,
        without=("fastapi", "uvicorn"),
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    # The command that works where this package is: the checkout's path from a checkout, the
    # distribution's name from a wheel (tests/integration/test_cli_unix.py holds both forms).
    assert run.stderr.strip().endswith(install_command("server"))


def test_the_library_and_its_command_never_import_the_server_stack():
    run = run_python(
        """
        import sys
        import mtus_rules, mtus_rules.cli
        from mtus_rules import Engine
        Engine().evaluate(mtus_rules.load_case(%r))
        print(sorted(m for m in ("fastapi", "uvicorn", "starlette", "httpx") if m in sys.modules))
        """
        % str(EXAMPLES / "tens-trial.yaml")
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--rules", "/nonexistent/pack"], "/nonexistent/pack"),
        (["--decision-log", "/nonexistent/dir/log.jsonl"], "--decision-log"),
        (["--port", "70000"], "--port"),
        (["--host", "203.0.113.1"], "cannot listen"),  # an address this machine does not have: nothing is sent
        (["--max-body", "0"], "--max-body"),
    ],
    ids=["bad-pack", "bad-log", "bad-port", "foreign-host", "bad-limit"],
)
def test_serve_refuses_what_it_cannot_use_in_one_message(args, words):
    run = run_python(
        f"""
        from mtus_rules.cli import main
        raise SystemExit(main(["serve", "--port", "0", *{args!r}]))
        """
    )
    assert run.returncode == 2
    assert words in run.stderr and "Traceback" not in run.stderr


def test_a_large_case_does_not_stall_other_requests(server):
    """A case near the body limit takes seconds to decide; it is decided off the
    event loop, so /health keeps answering meanwhile."""
    name, body = next((n, b) for n, b in EXAMPLE_BODIES if n == "seed-001-chiropractic-pt-massage.yaml")
    case = json.loads(body)
    items = case["requested_items"]
    case["requested_items"] = items * (900_000 // len(json.dumps(items)))
    big = json.dumps(case).encode()
    assert 800_000 < len(big) < 1024 * 1024
    done: dict[str, object] = {}

    def decide() -> None:
        start = time.perf_counter()
        with httpx.Client(base_url=server.url, timeout=120) as client:
            response = client.post("/decisions", content=big)
        done["status"], done["seconds"] = response.status_code, time.perf_counter() - start
        done["items"] = len(response.json()["decision"]["items"])

    worker = threading.Thread(target=decide)
    waits: list[float] = []
    with httpx.Client(base_url=server.url, timeout=120) as client:
        worker.start()
        while worker.is_alive():
            start = time.perf_counter()
            assert client.get("/health").status_code == 200
            waits.append(time.perf_counter() - start)
            time.sleep(0.02)
    worker.join()
    assert done["status"] == 200 and done["items"] == len(case["requested_items"])
    assert len(waits) >= 5
    assert max(waits) < 0.5 * float(done["seconds"]), (max(waits), done["seconds"])  # type: ignore[arg-type]
