"""Diagnosis codes in the code set in force on the request date (issue 12 point 5):
ICD-9-CM before 2015-10-01, ICD-10-CM from then, each checked against its code
set the same way in a case's diagnoses and in RFA lines; the decision says
which code set, and which release, it read."""

from __future__ import annotations

import copy

import pytest

from mtus_rules import CaseError, load_case
from mtus_rules.case import codes, parse_case
from mtus_rules.case.codes import ICD9CM_VERSION, InvalidCodeError, UnmappedCodeError, diagnosis_for_icd9, load_code_tables
from mtus_rules.errors import RulePackError
from mtus_rules.yamlio import read_file
from mtus_rules.vocabulary import BodyRegion as R
from mtus_rules.vocabulary import DiagnosisGroup as G

from ..helpers import EXAMPLES

BEFORE, FROM = "2015-09-30", "2015-10-01"


def _problems(data: dict) -> dict[str, str]:
    with pytest.raises(CaseError) as info:
        parse_case(data)
    return {p.location: p.message for p in info.value.problems}


def _plain(date: str, **diagnosis) -> dict:
    return {
        "date_of_injury": "2013-01-10", "request_date": date, "care_stage": "first_evaluation",
        "diagnoses": [{"description": "Low back pain", **diagnosis}],
        "requested_items": [{"description": "PT", "treatment": "physical_therapy", "quantity": {"visits": 6}}],
    }


def _rfa(date: str, **codes_) -> dict:
    return {
        "date_of_injury": "2013-01-10", "request_date": date, "care_stage": "first_evaluation",
        "rfa_lines": [{"service": "Massage", "code": "97124", "quantity": "x 4", **codes_}],
    }


# --------------------------------------------------------------------------- the ICD-9-CM code set


def test_the_shipped_icd9_code_set_is_the_whole_cms_release():
    text = (codes.default_codes_dir() / codes.ICD9_CODE_SET_FILE).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 14_567  # the diagnosis codes of CMS version 32
    assert "CMS32_DESC_LONG_SHORT_DX.xlsx" in text and "7242\tLumbago" in lines


@pytest.mark.parametrize(
    "code, regions, group",
    [
        ("724.2", [R.LUMBAR], G.OTHER),
        ("7242", [R.LUMBAR], G.OTHER),  # claims data often drop the dot
        ("723.1", [R.CERVICAL], G.OTHER),
        ("847.0", [R.CERVICAL], G.SPRAIN_STRAIN),
        ("847.1", [R.THORACIC], G.SPRAIN_STRAIN),
        ("847.2", [R.LUMBAR], G.SPRAIN_STRAIN),
        ("847.9", [], G.SPRAIN_STRAIN),
        ("840.4", [R.SHOULDER], G.SPRAIN_STRAIN),
        ("844.1", [R.KNEE], G.SPRAIN_STRAIN),
        ("845.00", [R.ANKLE], G.SPRAIN_STRAIN),
        ("722.10", [R.LUMBAR], G.DISC_DISORDER),
        ("722.0", [R.CERVICAL], G.DISC_DISORDER),
        ("722.93", [R.LUMBAR], G.DISC_DISORDER),
        ("723.4", [R.CERVICAL], G.RADICULOPATHY),
        ("724.4", [], G.RADICULOPATHY),
        ("729.1", [], G.MYALGIA_MYOSITIS),
        ("354.0", [R.WRIST, R.HAND], G.CARPAL_TUNNEL),
        ("337.21", [], G.CRPS),
        ("726.32", [R.ELBOW], G.SOFT_TISSUE_INFLAMMATION),
    ],
)
def test_icd9_codes_map_by_longest_prefix(code, regions, group):
    assert diagnosis_for_icd9(code) == (regions, group)


@pytest.mark.parametrize("code", ["724.3", "V54.81", "E849.0", "250.60"])
def test_an_existing_icd9_code_the_table_leaves_out_is_unmapped(code):
    with pytest.raises(UnmappedCodeError, match="not in the code table"):
        diagnosis_for_icd9(code)


@pytest.mark.parametrize(
    "code, why",
    [("999.99", "is not a code of ICD-9-CM"), ("847.5", "is not a code of ICD-9-CM"), ("M54.5", "give it as icd10"), ("72", "is not an ICD-9-CM code")],
)
def test_an_icd9_code_that_does_not_exist_is_refused(code, why):
    with pytest.raises(InvalidCodeError, match=why):
        diagnosis_for_icd9(code)


def test_an_icd9_table_prefix_not_in_the_code_set_is_refused_with_its_line(tmp_path):
    for name in ("procedures.yaml", "diagnoses.yaml"):
        (tmp_path / name).write_text((codes.default_codes_dir() / name).read_text())
    (tmp_path / "diagnoses-icd9.yaml").write_text(
        'version: "1.0.0"\ndiagnoses:\n  - {prefix: "724.2", body_regions: [lumbar], group: other, description: Lumbago.}\n'
        '  - {prefix: "847.5", body_regions: [lumbar], group: other, description: Not a code.}\n'
    )
    with pytest.raises(RulePackError) as info:
        load_code_tables(tmp_path)
    (problem,) = info.value.problems
    assert problem.line == 4 and "847.5 is not a code of ICD-9-CM" in problem.message


# --------------------------------------------------------------------------- the code set of the date


def test_icd9_is_read_before_2015_10_01_in_diagnoses_and_rfa_lines():
    assert parse_case(_plain(BEFORE, icd9="724.2")).diagnoses[0].icd9 == "724.2"
    item = parse_case(_rfa(BEFORE, icd9="7242")).requested_items[0]
    assert (item.rfa.icd9, item.rfa.icd10, item.body_regions, item.rfa.diagnosis_group) == ("724.2", None, [R.LUMBAR], G.OTHER)
    assert "ICD-9 724.2 -> lumbar, other" in item.rfa.describe()


def test_icd9_from_2015_10_01_is_refused_naming_field_code_and_date():
    plain = _problems(_plain(FROM, icd9="724.2"))
    assert plain == {
        "diagnoses": "diagnoses[0].icd9: 724.2 is an ICD-9-CM code; requests dated from 2015-10-01 use ICD-10-CM "
        "(this one is dated 2015-10-01)"
    }
    rfa = _problems(_rfa(FROM, icd9="724.2"))
    assert list(rfa) == ["rfa_lines[0].icd9"]
    assert "724.2 is an ICD-9-CM code; requests dated from 2015-10-01 use ICD-10-CM" in rfa["rfa_lines[0].icd9"]


def test_an_icd9_code_given_as_icd10_says_which_code_set_it_is():
    for problems, where in ((_problems(_plain(BEFORE, icd10="724.2")), "diagnoses[0].icd10"),
                            (_problems(_rfa(BEFORE, icd10="724.2")), "rfa_lines[0].icd10")):
        assert list(problems) == [where]
        assert problems[where].startswith("724.2 is an ICD-9-CM code, not an ICD-10-CM code: ICD-9-CM codes go in icd9")


def test_icd10_is_still_read_before_2015_10_01():
    # Records re-coded to ICD-10-CM (as the examples are) decide as before.
    assert parse_case(_plain(BEFORE, icd10="M54.5")).diagnoses[0].icd10 == "M54.5"


def test_an_rfa_line_gives_exactly_one_diagnosis_code():
    for line in ({}, {"icd10": "M54.5", "icd9": "724.2"}):
        problems = _problems(_rfa(BEFORE, **line))
        assert list(problems) == ["rfa_lines[0]"] and "give the diagnosis code once" in problems["rfa_lines[0]"]


# --------------------------------------------------------------------------- validity, the same way in both places


@pytest.mark.parametrize("field, code, why", [("icd10", "M99.999", "M99.999 is not a code of ICD-10-CM"),
                                              ("icd10", "S13.4XXZ", "S13.4XXZ is not a code of ICD-10-CM"),
                                              ("icd9", "999.99", "999.99 is not a code of ICD-9-CM")])
def test_a_code_that_does_not_exist_is_refused_in_diagnoses_as_in_rfa_lines(field, code, why):
    plain = _problems(_plain(BEFORE, **{field: code}))
    rfa = _problems(_rfa(BEFORE, **{field: code}))
    assert list(plain) == [f"diagnoses[0].{field}"] and list(rfa) == [f"rfa_lines[0].{field}"]
    assert why in plain[f"diagnoses[0].{field}"] and why in rfa[f"rfa_lines[0].{field}"]


def test_every_example_diagnosis_code_exists():
    # The case files: examples/overlay holds a rule pack, not cases.
    cases = sorted([*EXAMPLES.glob("*.yaml"), *EXAMPLES.glob("rfa/*.yaml")])
    assert len(cases) > 15
    for path in cases:
        load_case(path)  # raises on a code that does not exist


# --------------------------------------------------------------------------- the decision says which


ICD10_TO_ICD9 = {"S13.4XXA": "847.0", "S23.3XXA": "847.1", "S33.5XXA": "847.2", "M51.26": "722.10", "M51.9": "722.90", "M54.16": "724.4"}


def _to_icd9(data: dict) -> dict:
    data = copy.deepcopy(data)
    for entry in [*data.get("diagnoses", []), *data.get("rfa_lines", [])]:
        if "icd10" in entry:
            entry["icd9"] = ICD10_TO_ICD9[entry.pop("icd10")]
    return data


@pytest.mark.parametrize("seed", ["seed-001-rfa.yaml", "seed-002-rfa.yaml", "seed-003-rfa.yaml"])
def test_an_rfa_seed_in_icd9_decides_as_in_icd10_and_says_which_code_set(engine, seed):
    data, _ = read_file(EXAMPLES / "rfa" / seed)
    icd10, icd9 = engine.evaluate(parse_case(data)), engine.evaluate(parse_case(_to_icd9(data)))
    assert [(i.outcome, i.rules, i.body_regions) for i in icd9.items] == [(i.outcome, i.rules, i.body_regions) for i in icd10.items]
    assert icd9.diagnosis_code_sets == [ICD9CM_VERSION]
    (icd10_set,) = icd10.diagnosis_code_sets
    assert icd10_set.startswith("ICD-10-CM ") and "simple-icd-10-cm" in icd10_set


def test_a_case_without_diagnosis_codes_names_no_code_set(engine):
    decision = engine.evaluate(parse_case(_plain(BEFORE)))
    assert decision.diagnosis_code_sets == []


def test_a_case_before_the_change_may_mix_both_code_sets(engine):
    data = _plain(BEFORE, icd9="724.2")
    data["diagnoses"].append({"description": "Neck pain", "icd10": "M54.2"})
    sets = engine.evaluate(parse_case(data)).diagnosis_code_sets
    assert sets[0].startswith("ICD-10-CM ") and sets[1] == ICD9CM_VERSION
