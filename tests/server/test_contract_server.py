"""The decision contract over HTTP (issue 12 point 3): every answer of a real
`mtus-rules serve` process for every example case validates against the JSON
Schema `mtus-rules schema` exports, and holds the API's decision unchanged
(tests/test_contract.py does the command line and the API)."""

from __future__ import annotations

import json

from mtus_rules import Engine, load_case

from ..helpers import EXAMPLES
from ..test_contract import OUTSIDE_PACKS, check
from .conftest import server_load

EXAMPLE_BODIES = server_load.example_bodies()


def test_post_decisions_answers_validate_for_every_example(http):
    engine = Engine()
    for name, body in EXAMPLE_BODIES:
        response = http.post("/decisions", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 200, response.text
        answer = response.json()
        check(answer, "decision-response")
        check(answer["decision"], "decision")
        assert answer["decision"] == engine.evaluate(load_case(EXAMPLES / name)).model_dump(mode="json")
    late = http.post("/decisions", content=json.dumps(OUTSIDE_PACKS), headers={"content-type": "application/json"})
    check(late.json(), "decision-response")


def test_batch_endpoint_rows_validate_for_every_example(http):
    lines = [body.decode() for _, body in EXAMPLE_BODIES] + [json.dumps(OUTSIDE_PACKS), '{"request_date": 3}', "[1]", "{not json"]
    response = http.post("/decisions/batch", content="\n".join(lines) + "\n", headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert len(rows) == len(lines)
    for row in rows:
        check(row, "batch-row")
    decided = [row for row in rows if "decision" in row]
    assert len(decided) == len(EXAMPLE_BODIES) + 1 and all("problems" in row for row in rows[len(decided):])
    for row in decided:
        check(row["decision"], "decision")
