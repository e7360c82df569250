"""The engine's memos never change a decision.

Engine(cache_size=0) decides every item from scratch; the default engine serves
repeated items from memos keyed on what the rules read and what the wording
shows. Over a few hundred generated cases, plain and extended (surgeries, the
cap authorization, hours, ...), whose items share many keys, every decision's
JSON must be the same both ways, so a memo key that leaves out something a
decision depends on fails here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mtus_rules import Case, Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from generate import generate_dicts  # noqa: E402


def _cases(items: int, seed: int, extended: bool) -> list[Case]:
    return [Case.model_validate(d) for d in generate_dicts(items, seed, extended=extended)]


@pytest.mark.parametrize("extended", [False, True], ids=["plain", "extended"])
def test_memo_on_and_off_decide_every_generated_case_alike(extended: bool) -> None:
    cases = _cases(300, seed=4604, extended=extended)
    memo, scratch = Engine(), Engine(cache_size=0)
    for case in cases:
        assert memo.evaluate(case).model_dump_json() == scratch.evaluate(case).model_dump_json(), case.case_id
    # Again, now that every item's decision is in the memo.
    for case in cases:
        assert memo.evaluate(case).model_dump_json() == scratch.evaluate(case).model_dump_json(), case.case_id
    (compiled,) = memo._packs
    # The memo did serve decisions (else this test would prove nothing).
    assert compiled.item_hits > len(cases) // 2
    assert compiled.match_hits > 0


def test_memo_on_and_off_agree_with_the_what_if_search() -> None:
    cases = _cases(40, seed=9792, extended=True)
    memo, scratch = Engine(), Engine(cache_size=0)
    for _ in range(2):
        for case in cases:
            with_memo = memo.evaluate(case, what_if=True).model_dump_json()
            assert with_memo == scratch.evaluate(case, what_if=True).model_dump_json(), case.case_id


def _variant(treatment: str, prior: int | str, requested: int, **extra: object) -> dict:
    return {
        "date_of_injury": "2012-03-05",
        "request_date": "2014-06-02",
        "diagnoses": [{"description": "Lumbar sprain", "body_regions": ["lumbar"], "group": "sprain_strain"}],
        "treatment_history": [{"treatment": treatment, "visits": prior, "functional_improvement": "yes"}],
        "care_stage": "ongoing_care",
        "requested_items": [
            {"description": f"{treatment} x {requested}", "treatment": treatment, "body_regions": ["lumbar"],
             "quantity": {"visits": requested}}
        ],
        **extra,
    }


@pytest.mark.parametrize("treatment", ["massage", "manipulation", "physical_therapy", "acupuncture", "tens"])
def test_the_memo_tells_apart_what_the_wording_shows(treatment: str) -> None:
    # The same total split differently, a prior count not documented, other
    # dates (the notes say how derived facts were reached): the rules may read
    # only the total or a derived value, but the findings word the parts.
    variants = [
        _variant(treatment, prior, 12 - prior) for prior in (0, 2, 4, 6, 8, 10)
    ] + [
        _variant(treatment, "not_documented", 6),
        _variant(treatment, 4, 8, request_date="2014-07-15"),
        _variant(treatment, 4, 8, date_of_injury="2013-11-20"),
        _variant(treatment, 4, 8, surgery={"procedure": "lumbar_fusion", "date": "2014-03-01"}),
        _variant(treatment, 4, 8, surgery={"procedure": "lumbar_fusion", "date": "2014-04-11"}),
    ]
    memo, scratch = Engine(), Engine(cache_size=0)
    for _ in range(2):
        for data in variants:
            assert memo.evaluate(data).model_dump_json() == scratch.evaluate(data).model_dump_json(), data
