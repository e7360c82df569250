"""Decisions and comparisons as DataFrames, and the chart of a comparison."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")  # no screen here; must precede pyplot

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from mtus_rules import Comparison, Engine, compare, load_case
from mtus_rules._resources import install_command
from mtus_rules.analysis import (
    DECISION_COLUMNS,
    FLIP_COLUMNS,
    decisions_frame,
    flips_by_treatment,
    flips_frame,
    plot_flips,
)

from ..helpers import EXAMPLES, ROOT, make_case, run_python

MASSAGE_LIMIT = "mtus.cpmtg.massage.limit"
HISTORY = EXAMPLES / "history" / "generated-cases.jsonl"


@pytest.fixture(scope="module")
def history() -> list[dict]:
    return [json.loads(line) for line in HISTORY.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def massage_4(history) -> tuple[Engine, Engine, Comparison]:
    engine = Engine()
    lower = engine.with_overrides({MASSAGE_LIMIT: 4})
    return engine, lower, compare(engine, lower, history)


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


def test_one_row_per_item_and_bad_rows_keep_their_place(engine):
    seeds = [load_case(p) for p in sorted(EXAMPLES.glob("seed-*.yaml"))]
    rows = [seeds[0], {"request_date": "2014-01-01"}, *seeds[1:], "not a case"]
    results = list(engine.evaluate_many(rows))
    frame = decisions_frame(results)

    decided = [(r.row, item) for r in results if r.ok for item in r.decision.items]
    assert len(frame) == len(decided) + 2
    assert frame["row"].tolist() == sorted(frame["row"].tolist())  # input order
    good = frame[frame["error"].isna()]
    assert list(zip(good["row"], good["item"], good["outcome"].astype(str), good["rules"])) == [
        (row, item.index, item.outcome.value, item.rules) for row, item in decided
    ]
    bad = frame[frame["error"].notna()].set_index("row")
    assert list(bad.index) == [1, len(rows) - 1]
    assert "date_of_injury: required field is missing" in bad.loc[1, "error"]
    assert bad.loc[len(rows) - 1, "error"] == "a case must be a mapping of fields, got str"
    assert bad["item"].isna().all() and bad["outcome"].isna().all()
    pack = results[0].decision.rule_pack
    assert set(good["pack"]) == {f"{pack.name} {pack.version}"} and set(good["pack_hash"]) == {pack.content_hash}


def test_columns_and_dtypes_are_the_same_for_any_input(engine):
    decisions = [engine.evaluate(load_case(p)) for p in sorted(EXAMPLES.glob("seed-*.yaml"))]
    full, empty = decisions_frame(decisions), decisions_frame([])
    assert list(full.columns) == list(empty.columns) == list(DECISION_COLUMNS)
    assert _dtypes(full) == _dtypes(empty) == DECISION_COLUMNS
    assert list(flips_frame(Comparison()).columns) == list(FLIP_COLUMNS)
    assert _dtypes(flips_frame(Comparison())) == FLIP_COLUMNS
    # Every outcome and treatment is a category even when unused, so counts keep their rows.
    assert list(full["outcome"].cat.categories) == ["upheld", "overturned", "no_applicable_guideline"]
    assert "tens" in full["treatment"].cat.categories and "tens" not in set(full["treatment"])


def test_plain_decisions_are_numbered_by_position(engine):
    decisions = [engine.evaluate(load_case(p)) for p in sorted(EXAMPLES.glob("seed-*.yaml"))]
    frame = decisions_frame(decisions)
    assert frame.groupby("row").size().tolist() == [len(d.items) for d in decisions]
    assert frame["request_date"].tolist() == [pd.Timestamp(d.request_date) for d in decisions for _ in d.items]


def test_supported_visits_appear_only_when_what_if_was_asked(engine):
    case = make_case({"description": "massage x8", "treatment": "massage", "quantity": {"visits": 8}})
    assert decisions_frame([engine.evaluate(case)])["supported_visits"].isna().all()
    assert decisions_frame([engine.evaluate(case, what_if=True)])["supported_visits"].tolist() == [6]


def test_anything_else_is_refused_with_its_position(engine):
    decision = engine.evaluate(load_case(next(EXAMPLES.glob("seed-004-*.yaml"))))
    with pytest.raises(TypeError, match="item 1 is a dict"):
        decisions_frame([decision, {"case_id": "x"}])


def test_flips_by_treatment_agrees_with_an_independent_count(history, massage_4):
    engine, lower, comparison = massage_4
    # Independently: decide the history with both engines, line the items up, count the changes.
    before = decisions_frame(engine.evaluate_many(history)).set_index(["row", "item"])
    after = decisions_frame(lower.evaluate_many(history)).set_index(["row", "item"])
    changed = before[before["outcome"] != after["outcome"]]
    expected_flips = changed.groupby("treatment", observed=True).size()
    expected_items = before.groupby("treatment", observed=True).size()

    table = flips_by_treatment(comparison)
    assert len(changed) >= 3, "the bundled history must contain items the change affects"
    assert table["flips"].sum() == len(comparison.flips) == len(changed)
    assert table["items"].to_dict() == {str(t): n for t, n in expected_items.items()}
    assert {t: n for t, n in table["flips"].items() if n} == {str(t): n for t, n in expected_flips.items()}
    assert table["flip_rate"].tolist() == pytest.approx((table["flips"] / table["items"]).tolist())
    assert list(table.columns) == ["items", "overturned -> upheld", "flips", "flip_rate"]


def test_flips_frame_lists_every_flip_with_its_cause(massage_4):
    _, _, comparison = massage_4
    frame = flips_frame(comparison)
    assert list(zip(frame["row"], frame["item"])) == [(f.row, f.item) for f in comparison.flips]
    assert set(frame["direction"]) == {"overturned -> upheld"}
    assert frame["cause"].tolist() == [[MASSAGE_LIMIT]] * len(frame)  # lists, not comma-joined strings
    assert set(frame["treatment"].astype(str)) <= {"massage", "myofascial_release"}


def test_the_chart_draws_each_treatment_with_its_flips(massage_4):
    _, _, comparison = massage_4
    table = flips_by_treatment(comparison)
    figure, given = plt.subplots()
    try:
        ax = plot_flips(comparison, ax=given)
        assert ax is given
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(labels) == len(table)
        widths = [patch.get_width() for patch in ax.patches]
        assert widths == table["overturned -> upheld"].tolist()  # one direction: one bar per treatment
        assert ax.get_title() == f"what if {MASSAGE_LIMIT} = 4: {len(comparison.flips)} of {comparison.items} items flip"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["overturned -> upheld"]
    finally:
        plt.close(figure)


def test_the_chart_of_a_comparison_without_flips_is_empty_but_labelled(engine):
    cases = [make_case({"description": "massage x2", "treatment": "massage", "quantity": {"visits": 2}})]
    comparison = compare(engine, engine.with_overrides({MASSAGE_LIMIT: 4}), cases)
    ax = plot_flips(comparison)
    try:
        assert ax.get_title() == f"what if {MASSAGE_LIMIT} = 4: 0 of 1 items flip" and [p.get_width() for p in ax.patches] == []
        assert ax.get_legend() is None
    finally:
        plt.close(ax.figure)


def test_frames_tell_missing_documentation_from_the_merits_with_visits(engine):
    # Issue 14 point 8: seed-001's chiropractic is upheld partly because the record lacks the
    # body region, its massage on the merits (over the limit, ongoing care).
    paths = [next(EXAMPLES.glob("seed-001-*.yaml")), next(EXAMPLES.glob("seed-004-*.yaml"))]
    cases = [load_case(p) for p in paths]
    frame = decisions_frame(engine.evaluate_many(cases, what_if=True), cases=cases).set_index(["row", "item"])
    chiropractic, massage = frame.loc[(0, 0)], frame.loc[(0, 2)]
    assert chiropractic["missing_documentation"] and "insufficient_documentation" in chiropractic["finding_kinds"]
    assert chiropractic["needed"] == ["the body region the treatment is directed to"]
    assert not massage["missing_documentation"] and massage["needed"] == []
    assert massage["finding_kinds"] == ["exceeds_limit", "not_recommended"]
    assert (massage["prior_visits"], massage["requested_visits"], massage["supported_visits"]) == (6, 2, 0)
    assert massage["rules"] == ["mtus.cpmtg.massage.limit", "mtus.cpmtg.massage.ongoing_care"]
    assert frame.explode("rules")["rules"].value_counts()["mtus.cpmtg.massage.limit"] >= 1
    decided = engine.evaluate(cases[1], what_if=True)
    assert frame.loc[(1, 0), "decision_id"] == decided.decision_id
    # Without the cases the visits are unknown, not zero.
    assert decisions_frame([decided])["prior_visits"].isna().all()
    with pytest.raises(ValueError, match="only 1 cases"):
        decisions_frame([decided, decided], cases=cases[:1])


def test_the_chart_names_a_scenario_given_or_the_packs_compared(engine):
    cases = [make_case({"description": "massage x2", "treatment": "massage", "quantity": {"visits": 2}})]
    off = compare(engine, engine.with_overrides(disabled=["mtus.cpmtg.massage.ongoing_care"]), cases)
    same = compare(engine, engine, cases)
    axes = [plot_flips(off), plot_flips(same), plot_flips(same, scenario="payer A")]
    try:
        (pack,) = engine.pack_refs
        assert [ax.get_title() for ax in axes] == [
            "what if mtus.cpmtg.massage.ongoing_care off: 0 of 1 items flip",
            f"{pack.name} {pack.version} (sha256:{pack.content_hash[:12]}): 0 of 1 items flip",
            "payer A: 0 of 1 items flip",
        ]
    finally:
        for ax in axes:
            plt.close(ax.figure)


def test_the_chart_without_matplotlib_names_the_extra():
    run = run_python("""
        from mtus_rules import Comparison
        from mtus_rules.analysis import plot_flips, flips_by_treatment
        print(len(flips_by_treatment(Comparison())), end=" ")  # the frames need no matplotlib
        try:
            plot_flips(Comparison())
        except ModuleNotFoundError as exc:
            print(exc)
        """, without=("matplotlib",))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        "0 plot_flips needs matplotlib (matplotlib is not installed); install the analysis extra: "
        f"{install_command('analysis')}"
    )


def test_the_core_library_loads_none_of_the_analysis_packages():
    # Meaningful here, where they are installed: deciding, displaying and the CLI import none of them.
    seed = ROOT / "examples" / "seed-002-traction-nmes-myofascial.yaml"
    run = run_python(f"""
        import contextlib, io, sys
        from mtus_rules import Engine, compare, load_case
        from mtus_rules.cli import main
        engine = Engine()
        case = load_case({str(seed)!r})
        engine.evaluate(case, what_if=True)._repr_html_()
        compare(engine, engine.with_overrides(limits={{"mtus.cpmtg.massage.limit": 4}}), [case])._repr_html_()
        with contextlib.redirect_stdout(io.StringIO()):
            main(["evaluate", {str(seed)!r}])
        print(sorted(m for m in ("pandas", "numpy", "matplotlib", "nbclient", "IPython", "ipykernel") if m in sys.modules))
        """)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
    # The control: the same check sees pandas once the analysis module is imported.
    assert run_python("import mtus_rules.analysis, sys; print('pandas' in sys.modules)").stdout.strip() == "True"
