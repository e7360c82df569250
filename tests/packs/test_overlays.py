"""Layered packs: an overlay `extends` a base (bundled by name and version, or
by path) and adds, overrides or disables rules; it loads, decides, lints and
tests as its effective pack, and decisions name every layer with its hash."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from mtus_rules import Engine, Outcome, RulePackError, load_pack
from mtus_rules.authoring.lint import lint_paths
from mtus_rules.cli import main
from mtus_rules.packs import bundled_pack_dirs

from ..helpers import EXAMPLES, ROOT, line_of, make_case

OVERLAY = EXAMPLES / "overlay"
MINIMAL = ROOT / "tests" / "packs" / "fixtures" / "valid_minimal"
BUNDLED = bundled_pack_dirs()[0]

MASSAGE_8 = {"description": "massage x8", "treatment": "massage", "body_regions": ["lumbar"], "quantity": {"visits": 8}}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def header(extends: str, extra: str = "") -> str:
    return f"name: overlay\nversion: 1.0.0\ntitle: An overlay\nextends: {extends}\n{textwrap.dedent(extra)}"


ADDED_RULE = """\
rules:
  - id: added.acupuncture.not_recommended
    title: Acupuncture is not covered
    citation: {source: MTUS, guideline: G, section: S, confirmed_by: guideline_text, evidence: E}
    question: acupuncture.covered
    applies_to: {treatment: [acupuncture]}
    effect: not_recommended
    statement: Acupuncture is not covered.
"""


# -- the effective pack --------------------------------------------------------------


def test_the_overlay_alone_loads_as_base_plus_its_changes():
    pack = load_pack(OVERLAY)
    base = load_pack(BUNDLED)
    assert (pack.name, pack.version) == ("example-payer", "0.1.0")
    assert pack.effective == base.effective  # inherited: the overlay names no period
    assert [r.id for r in pack.rules] == [r.id for r in base.rules] + ["example.massage.home_exercise"]
    assert pack.rule("mtus.cpmtg.massage.limit").limit.visits == 8
    assert base.rule("mtus.cpmtg.massage.limit").limit.visits == 6
    # Where each rule now comes from: the override in the overlay's pack.yaml, the others in the base.
    assert pack.files["mtus.cpmtg.massage.limit"] == str(OVERLAY / "pack.yaml")
    assert pack.lines["mtus.cpmtg.massage.limit"] == line_of(OVERLAY / "pack.yaml", "- id: mtus.cpmtg.massage.limit")
    assert pack.files["mtus.cpmtg.massage.ongoing_care"] == base.files["mtus.cpmtg.massage.ongoing_care"]
    assert [(layer.name, layer.version, layer.content_hash) for layer in pack.layers] == [
        ("mtus-2009", "0.2.0", base.content_hash), ("example-payer", "0.1.0", pack.layers[1].content_hash)
    ]
    assert pack.content_hash not in (base.content_hash, pack.layers[1].content_hash)


def test_engine_and_cli_take_the_overlay_alone_and_decisions_name_every_layer(capsys):
    case = make_case(MASSAGE_8, home_exercise="yes")
    base_decision = Engine().evaluate(case)
    decision = Engine(OVERLAY).evaluate(case)
    assert base_decision.items[0].outcome is Outcome.UPHELD  # 8 > the base's 6
    assert decision.items[0].outcome is Outcome.OVERTURNED  # within the overlay's 8
    assert Engine([OVERLAY]).evaluate(case) == decision
    ref = decision.rule_pack.model_dump(mode="json")
    assert [layer["name"] for layer in ref["layers"]] == ["mtus-2009", "example-payer"]
    assert ref["layers"][0]["content_hash"] == base_decision.rule_pack.content_hash
    # A plain pack's decision JSON is unchanged: no `layers` key at all.
    assert "layers" not in base_decision.rule_pack.model_dump(mode="json")
    assert "layers" not in json.loads(base_decision.model_dump_json())["rule_pack"]

    path = ROOT / "examples" / "seed-004-deep-tissue-massage.yaml"
    assert main(["evaluate", "--rules", str(OVERLAY), "--format", "json", str(path)]) == 0
    (out,) = json.loads(capsys.readouterr().out)
    assert [layer["name"] for layer in out["decision"]["rule_pack"]["layers"]] == ["mtus-2009", "example-payer"]
    # The text names the base the overlay changed, with both hashes.
    assert main(["evaluate", "--rules", str(OVERLAY), str(path)]) == 0
    text = capsys.readouterr().out
    base_hash = base_decision.rule_pack.content_hash[:12]
    assert f"rule pack example-payer 0.1.0 (sha256:{decision.rule_pack.content_hash[:12]}) on mtus-2009 0.2.0 (sha256:{base_hash})" in text


def test_the_example_overlay_lints_and_tests_clean(capsys):
    assert main(["lint", str(OVERLAY), "--strict"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Lint of example-payer 0.1.0 (extends mtus-2009 0.2.0) ({OVERLAY})\n")
    assert main(["test", str(OVERLAY)]) == 0
    assert "4 passed, 0 failed" in capsys.readouterr().out
    assert main(["coverage", str(OVERLAY)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Coverage of example-payer 0.1.0 (extends mtus-2009 0.2.0)\n")
    assert "| `example.massage.home_exercise` |" in text


def test_an_overlays_coverage_counts_the_rules_it_defines(capsys):
    # Its author tests what the overlay adds and overrides; the base's hundred
    # rules are the base's tests' business, and would sink any threshold.
    assert main(["test", str(OVERLAY), "--min-coverage", "100"]) == 0
    out = capsys.readouterr().out
    assert "rule coverage: 100% of 2 rules decided an outcome in some test" in out
    assert "not counted: 101 rules inherited from mtus-2009 0.2.0" in out
    assert main(["test", str(OVERLAY), "--coverage", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(c["rule"] for c in report["coverage"]) == ["example.massage.home_exercise", "mtus.cpmtg.massage.limit"]
    assert (report["inherited"], report["inherited_from"]) == (101, ["mtus-2009 0.2.0"])


def test_overlay_rules_no_test_decides_still_fail_the_threshold(tmp_path, capsys):
    overlay = Path(shutil.copytree(OVERLAY, tmp_path / "overlay"))
    tests = overlay / "tests" / "massage.yaml"
    # Keep only the test that requests another treatment: neither rule of the overlay then decides.
    head, *cases = tests.read_text().split("\n  - name: ")
    tests.write_text("\n  - name: ".join([head, *(c for c in cases if c.startswith("the added rule leaves other treatments alone"))]))
    assert main(["test", str(overlay), "--min-coverage", "100"]) == 1
    captured = capsys.readouterr()
    assert "1 passed, 0 failed" in captured.out
    assert "rules no test makes decide: mtus.cpmtg.massage.limit, example.massage.home_exercise" in captured.out
    assert "rule coverage 0.0% is below 100%" in captured.err


def test_a_plain_pack_counts_every_rule(capsys):
    assert main(["test", str(BUNDLED), "--coverage", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["inherited"] == 0 and len(report["coverage"]) == len(load_pack(BUNDLED).rules)


def test_override_by_a_rule_file_disable_and_a_base_by_path(tmp_path):
    base = write(tmp_path / "base", {"pack.yaml": (MINIMAL / "pack.yaml").read_text(), "massage.yaml": (MINIMAL / "massage.yaml").read_text()})
    replaced = (MINIMAL / "massage.yaml").read_text().replace("{visits: 6, counts: total_visits}", "{visits: 10, counts: total_visits}")
    overlay = write(tmp_path / "overlay", {
        "pack.yaml": header("{path: ../base}", """\
            effective: {start: 2010-01-01, end: 2012-12-31}
            override:
              - {id: mtus.test.massage.limit, reason: The payer allows ten.}
            """),
        "massage.yaml": replaced,
        "added.yaml": ADDED_RULE,
    })
    pack = load_pack(overlay)
    assert str(pack.effective) == "2010-01-01 to 2012-12-31"  # narrowed
    assert pack.rule("mtus.test.massage.limit").limit.visits == 10
    assert pack.files["mtus.test.massage.limit"] == str(overlay / "massage.yaml")
    assert [layer.name for layer in pack.layers] == ["test-pack", "overlay"]

    (overlay / "pack.yaml").write_text(header("{path: ../base}", """\
        disable:
          - {id: mtus.test.massage.limit, reason: The payer decides massage by hand.}
        """), encoding="utf-8")
    (overlay / "massage.yaml").unlink()
    pack = load_pack(overlay)
    assert [r.id for r in pack.rules] == ["added.acupuncture.not_recommended"]
    assert "mtus.test.massage.limit" not in pack.files


def test_an_overlay_of_an_overlay_names_all_three_layers(tmp_path):
    top = write(tmp_path / "top", {"pack.yaml": header(f"{{path: {OVERLAY}}}").replace("name: overlay", "name: top"), "added.yaml": ADDED_RULE})
    pack = load_pack(top)
    assert [layer.name for layer in pack.layers] == ["mtus-2009", "example-payer", "top"]
    assert pack.label == "top 1.0.0 (extends example-payer 0.1.0, mtus-2009 0.2.0)"


# -- errors, each with file and line ------------------------------------------------------


def _only_error(folder: Path) -> object:
    with pytest.raises(RulePackError) as info:
        load_pack(folder)
    return info.value.problems


@pytest.mark.parametrize(
    "extra,files,anchor,file,code,message",
    [
        ("override:\n  - {id: mtus.cpmtg.massage.limt, reason: r, set: {limit: {visits: 8}}}\n", {}, "massage.limt", "pack.yaml",
         "unknown-rule", "override names rule 'mtus.cpmtg.massage.limt', which the base pack mtus-2009 0.2.0 does not have; did you mean 'mtus.cpmtg.massage.limit'?"),
        ("disable:\n  - {id: mtus.cpmtg.no_such_rule, reason: r}\n", {}, "no_such_rule", "pack.yaml",
         "unknown-rule", "disable names rule 'mtus.cpmtg.no_such_rule', which the base pack mtus-2009 0.2.0 does not have"),
        ("", {"massage.yaml": (MINIMAL / "massage.yaml").read_text().replace("mtus.test.massage.limit", "mtus.cpmtg.massage.limit")},
         "id: mtus.cpmtg.massage.limit", "massage.yaml", "duplicate-id",
         "rule 'mtus.cpmtg.massage.limit' is already in the base pack mtus-2009 0.2.0"),
        ("override:\n  - {id: mtus.cpmtg.massage.limit, reason: r, set: {limit: {visits: -1}}}\n", {}, "visits: -1", "pack.yaml",
         "schema", "greater than or equal to 0"),
        ("effective: {start: 2005-01-01}\n", {}, "effective:", "pack.yaml", "period", "an overlay may only narrow it"),
        ("override:\n  - {id: mtus.cpmtg.massage.limit, reason: r,\n     set: {id: x.y}}\n", {}, "set: {id: x.y}", "pack.yaml",
         "schema", "`set` cannot change a rule's id"),
    ],
)
def test_overlay_errors_name_file_and_line(tmp_path, extra, files, anchor, file, code, message):
    overlay = write(tmp_path / "overlay", {"pack.yaml": header("{pack: mtus-2009, version: 0.2.0}", extra), **files})
    (problem,) = _only_error(overlay)
    assert message in problem.message
    assert problem.file == str(overlay / file)
    assert problem.line == line_of(overlay / file, anchor)
    (finding,) = lint_paths([overlay])
    assert (finding.severity, finding.code) == ("error", code)


def test_a_missing_base_by_name_or_path_is_an_error_naming_the_extends_line(tmp_path):
    overlay = write(tmp_path / "a", {"pack.yaml": header("{pack: mtus-2009, version: 9.9.9}")})
    (problem,) = _only_error(overlay)
    assert problem.message.startswith("no bundled pack mtus-2009 9.9.9 (the bundled packs: mtus-2009 0.2.0)")
    assert (problem.file, problem.line) == (str(overlay / "pack.yaml"), line_of(overlay / "pack.yaml", "extends:"))
    (overlay / "pack.yaml").write_text(header("{path: ../nowhere}"), encoding="utf-8")
    (problem,) = _only_error(overlay)
    assert "the base pack ../nowhere is not a pack folder" in problem.message and problem.line == 4
    (finding,) = lint_paths([overlay])
    assert finding.code == "extends"


def test_a_cycle_in_extends_is_an_error(tmp_path):
    write(tmp_path / "a", {"pack.yaml": header("{path: ../b}").replace("name: overlay", "name: a")})
    write(tmp_path / "b", {"pack.yaml": header("{path: ../a}").replace("name: overlay", "name: b")})
    problems = _only_error(tmp_path / "a")
    cycle = [p for p in problems if "the packs extend each other in a cycle" in p.message]
    assert cycle and cycle[0].line == 4
    assert {f.code for f in lint_paths([tmp_path / "a"])} == {"extends"}


def test_two_unrelated_packs_are_still_refused_together():
    with pytest.raises(RulePackError, match="both in force on some days"):
        Engine([BUNDLED, MINIMAL])


def test_an_overlay_with_a_bad_header_is_not_also_told_it_has_no_rule_files(tmp_path):
    overlay = write(tmp_path / "o", {"pack.yaml": header("{path: ../x}", "override: [{id: a.b, reason: ''}]\n")})
    problems = _only_error(overlay)
    assert [p.location for p in problems] == ["override[0].reason"]
    (overlay / "pack.yaml").write_text(header('{path: "a\\0b"}'), encoding="utf-8")
    (problem,) = _only_error(overlay)
    assert "the base pack a\\x00b is not a pack folder" in problem.message  # printable, not a raw NUL


def test_an_overlay_under_a_what_if_names_its_base_once():
    from mtus_rules.explanation.render import pack_words

    engine = Engine(OVERLAY).with_overrides({"mtus.cpmtg.massage.limit": 10})
    words = pack_words(engine.evaluate(make_case(MASSAGE_8, home_exercise="yes")).rule_pack)
    assert words.count(" on ") == 1 and " on mtus-2009 0.2.0 " in words
    assert words.endswith("with what-if changes")
