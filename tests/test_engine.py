"""Engine behaviour: precedence, periods, several packs, threads, no stray state."""

from __future__ import annotations

import ast
import re
import shutil
import threading
from pathlib import Path

import pytest

import mtus_rules
from mtus_rules import (
    Case,
    CaseError,
    Engine,
    Outcome,
    RulePackError,
    bundled_pack_dirs,
    load_case,
    load_pack,
)

from .helpers import EXAMPLES, make_case, outcome, write_precedence_pack

PACK = bundled_pack_dirs()[0]


def test_bundled_pack_is_shipped_and_loads():
    pack = load_pack(PACK)
    assert pack.name == "mtus-2009" and pack.rules
    assert len(pack.content_hash) == 64


def test_evaluate_accepts_a_model_or_a_dict(engine):
    data = make_case({"description": "massage", "treatment": "massage", "quantity": {"visits": 4}})
    assert engine.evaluate(data) == engine.evaluate(Case.model_validate(data))


def test_invalid_dict_raises_case_error_naming_the_field(engine):
    data = make_case({"description": "massage", "treatment": "massage", "quantity": {"visits": "4"}})
    with pytest.raises(CaseError) as info:
        engine.evaluate(data)
    assert "requested_items[0].quantity.visits" in str(info.value)


def test_no_rule_for_the_treatment_gives_no_applicable_guideline(engine):
    # "other": a treatment outside every rule's scope (acupuncture, used here before, now has rules).
    case = make_case({"description": "other treatment x 6", "treatment": "other", "quantity": {"visits": 6}})
    item = engine.evaluate(case).items[0]
    assert item.outcome is Outcome.NO_APPLICABLE_GUIDELINE
    assert item.rules == [] and "no applicable guideline" in item.rationale.conclusion


@pytest.mark.parametrize("day,inside", [("2009-07-17", False), ("2009-07-18", True), ("2017-11-30", True), ("2017-12-01", False)])
def test_request_date_picks_rules_in_force(engine, day, inside):
    case = make_case(
        {"description": "traction", "treatment": "mechanical_traction", "body_regions": ["lumbar"]},
        date_of_injury="2009-01-01",
        request_date=day,
    )
    decision = engine.evaluate(case)
    if inside:
        assert decision.items[0].outcome is Outcome.UPHELD and decision.rule_pack is not None
    else:
        assert decision.items[0].outcome is Outcome.NO_APPLICABLE_GUIDELINE and decision.rule_pack is None
        assert "outside the period" in decision.items[0].rationale.case


def _copy_pack(tmp_path: Path, name: str, version: str, start: str, end: str) -> Path:
    dest = tmp_path / f"{name}-{version}"
    shutil.copytree(PACK, dest)
    header = (dest / "pack.yaml").read_text()
    header = re.sub(r"(?m)^version: .*$", f"version: {version}", header.replace("name: mtus-2009", f"name: {name}"))
    header = header.replace("start: 2009-07-18", f"start: {start}").replace("end: 2017-11-30", f"end: {end}")
    (dest / "pack.yaml").write_text(header)
    return dest


def test_two_versions_of_a_pack_live_in_one_process(tmp_path):
    old = _copy_pack(tmp_path, "demo", "1.0.0", "2009-07-18", "2012-12-31")
    new = _copy_pack(tmp_path, "demo", "2.0.0", "2013-01-01", "2017-11-30")
    massage = new / "massage.yaml"
    massage.write_text(massage.read_text().replace("limit: {visits: 6", "limit: {visits: 4"))
    engine = Engine([old, new])
    item = {"description": "massage", "treatment": "massage", "quantity": {"visits": 5}}
    early = make_case(item, date_of_injury="2010-01-01", request_date="2010-06-01")
    late = make_case(item, date_of_injury="2010-01-01", request_date="2014-06-01")
    assert engine.evaluate(early).rule_pack.version == "1.0.0"
    assert outcome(engine, early) == "overturned"
    assert engine.evaluate(late).rule_pack.version == "2.0.0"
    assert outcome(engine, late) == "upheld"
    # The same pack compiled again in the same process: no name clash.
    assert outcome(Engine([new]), late) == "upheld"


def test_overlapping_packs_are_refused(tmp_path):
    a = _copy_pack(tmp_path, "demo", "1.0.0", "2009-07-18", "2015-12-31")
    b = _copy_pack(tmp_path, "demo", "2.0.0", "2015-01-01", "2017-11-30")
    with pytest.raises(RulePackError, match="both in force"):
        Engine([a, b])


def test_content_hash_changes_with_any_rule_edit(tmp_path):
    pack = _copy_pack(tmp_path, "mtus-2009", "0.1.0", "2009-07-18", "2017-11-30")
    before = load_pack(pack).content_hash
    path = pack / "traction.yaml"
    path.write_text(path.read_text() + "\n# a comment\n")
    assert load_pack(pack).content_hash != before


def test_mtus_governs_odg_on_the_same_question(tmp_path):
    # The ODG rule also covers acupuncture, where no MTUS rule speaks.
    folder = write_precedence_pack(tmp_path / "prec", odg_treatments=("massage", "acupuncture"))
    engine = Engine([folder])
    massage = make_case({"description": "m", "treatment": "massage", "quantity": {"visits": 8}})
    item = engine.evaluate(massage).items[0]
    assert item.outcome.value == "overturned" and item.rules == ["mtus.t.limit"]
    # Where the MTUS is silent (acupuncture here), the ODG rule fills the gap and says so.
    acupuncture = make_case({"description": "a", "treatment": "acupuncture", "quantity": {"visits": 8}})
    item = engine.evaluate(acupuncture).items[0]
    assert item.outcome.value == "upheld" and item.rules == ["odg.t.limit"]
    assert "ODG fills the gap" in item.rationale.guideline


def test_multi_region_request_fails_on_one_region_and_names_it(engine):
    case = make_case(
        {"description": "chiro neck and ankle", "treatment": "manipulation", "body_regions": ["cervical", "ankle"], "quantity": {"visits": 4}}
    )
    item = engine.evaluate(case).items[0]
    assert item.outcome.value == "upheld"
    assert "ankle" in item.rationale.conclusion
    assert item.rules == ["mtus.cpmtg.manipulation.regions_not_recommended"]
    case["requested_items"][0]["body_regions"] = ["cervical"]
    assert outcome(engine, case) == "overturned"


def test_two_threads_decide_as_one(engine):
    cases = [load_case(p) for p in sorted(EXAMPLES.glob("seed-*.yaml"))] * 40
    expected = [engine.evaluate(c).model_dump_json() for c in cases]
    results: dict[int, list[str]] = {}

    def work(n: int) -> None:
        results[n] = [engine.evaluate(c).model_dump_json() for c in cases]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == expected and results[1] == expected


def _importers(predicate) -> set[str]:
    src = Path(mtus_rules.__file__).parent
    importers = set()
    # Recursive: a module moved into a subpackage must still be checked.
    scanned = sorted(src.rglob("*.py"))
    # A search that finds nothing would pass every assertion below.
    assert len(scanned) > 20, f"only {len(scanned)} modules found under {src}"
    for path in scanned:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module or ''}.{a.name}".lstrip(".") for a in node.names] + [node.module or ""]
            else:
                names = []
            if any(predicate(n) for n in names):
                importers.add(str(path.relative_to(src)))
    return importers


def test_only_the_adapter_imports_durable_rules():
    assert _importers(lambda n: n.startswith("durable")) == {"evaluation/_durable.py"}


def test_only_the_backend_seam_imports_the_adapter():
    """So that the package imports where durable_rules does not (Python 3.13)."""
    assert _importers(lambda n: n.split(".")[-1] == "_durable") == {"evaluation/_backends.py"}


def test_schema_export_lists_case_fields(capsys):
    from mtus_rules.cli import main

    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert '"requested_items"' in out and '"not_documented"' in out
    schema = mtus_rules.case_json_schema()
    case, rfa = schema["$defs"]["Case"], schema["$defs"]["RfaCase"]
    assert [ref["$ref"] for ref in schema["anyOf"]] == ["#/$defs/Case", "#/$defs/RfaCase"]
    assert case["additionalProperties"] is False and rfa["additionalProperties"] is False
    assert {"date_of_injury", "request_date", "requested_items"} <= set(case["required"])
    assert {"date_of_injury", "request_date", "rfa_lines"} <= set(rfa["required"])


def test_memo_changes_no_decision_and_stays_bounded():
    plain, memo = Engine(cache_size=0), Engine(cache_size=3)
    cases = [load_case(p) for p in sorted(EXAMPLES.glob("seed-*.yaml"))]
    for treatment in ("manipulation", "massage", "physical_therapy", "mechanical_traction", "nmes"):
        for prior in (0, 5, "not_documented"):
            for improvement in ("yes", "no", "not_documented"):
                history = [{"treatment": treatment, "visits": prior, "functional_improvement": improvement}]
                item = {"description": "x", "treatment": treatment, "body_regions": ["lumbar"], "quantity": {"visits": 4}}
                cases.append(Case.model_validate(make_case(item, history=history)))
    for _ in range(2):  # the second round is answered from the memo where it can be
        for case in cases:
            assert memo.evaluate(case) == plain.evaluate(case)
    assert len(memo._packs[0].answer_memo) <= 3 and not plain._packs[0].answer_memo


def test_schema_and_rfa_cases_carry_every_case_fact_the_rules_read():
    """A fact the bundled rules read comes from a case field (in both the plain and the RFA
    form, so the JSON Schema shows it), from the requested item, or is derived or counted."""
    from mtus_rules.packs.conditions import FACTS
    from mtus_rules.evaluation.facets import CASE_FIELDS
    from mtus_rules.packs import bundled_pack_dirs, load_pack

    schema = mtus_rules.case_json_schema()["$defs"]
    item_facts = {"treatment", "body_region", "purpose", "visits_requested"}
    counted = {"visits_to_date", "total_visits", "injury_visits", "functional_improvement", "weeks_since_injury"}
    read = {t.fact for p in bundled_pack_dirs() for r in load_pack(p).rules for t in [*r.conditions, *([r.requirement] if r.requirement else [])]}
    for fact in sorted(read):
        spec = FACTS[fact]
        if fact in CASE_FIELDS or fact in ("care_stage", "pain_phase"):
            for model in ("Case", "RfaCase"):
                assert fact in schema[model]["properties"], (model, fact)
        else:
            assert spec.derived or spec.stated_only or fact in item_facts | counted, fact
    for field in ("onset_date", "surgery", "cap_authorization", "reduced_weight_bearing", "program_completed"):
        assert field in schema["Case"]["properties"] and field in schema["RfaCase"]["properties"]
    assert "Hours" in schema and {"hours", "sessions", "hours_per_session"} <= set(schema["Hours"]["properties"])
