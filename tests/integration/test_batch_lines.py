"""The batch output line of one row, as other runners (Dask) produce it."""

from __future__ import annotations

import json

from mtus_rules import load_case
from mtus_rules.integration.batch import decide_line

from ..helpers import EXAMPLES


def test_decide_line_is_the_batch_envelope_of_one_row(engine, tmp_path):
    from mtus_rules.cli import main

    case = load_case(next(EXAMPLES.glob("seed-004-*.yaml"))).model_dump(mode="json")
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(case) + "\n{not json\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(source), "-o", str(out)]) == 2
    written = out.read_text(encoding="utf-8").splitlines()
    assert decide_line(engine, 0, case, line=1) == written[0]
    bad = json.loads(decide_line(engine, 1, "not a case"))
    assert bad["row"] == 1 and "line" not in bad and "decision" not in bad
    assert bad["problems"][0]["message"] == "a case must be a mapping of fields, got str"
