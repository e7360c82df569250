"""Code tables: CPT/HCPCS and ICD-10-CM codes translated into the vocabulary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mtus_rules.case import codes
from mtus_rules.case.codes import (
    AmbiguousCodeError,
    InvalidCodeError,
    UnmappedCodeError,
    diagnosis_for,
    load_code_tables,
    treatment_for,
)
from mtus_rules.errors import MtusRulesError, RulePackError
from mtus_rules.vocabulary import BodyRegion as R
from mtus_rules.vocabulary import DiagnosisGroup as G
from mtus_rules.vocabulary import Treatment as T

BUNDLED = codes.default_codes_dir()
ESTIM = (T.NMES, T.TENS, T.INTERFERENTIAL_CURRENT, T.MICROCURRENT_STIMULATION, T.H_WAVE, T.GALVANIC_STIMULATION)
THERAPY = (T.PHYSICAL_THERAPY, T.OCCUPATIONAL_THERAPY)
WORK_PROGRAM = (T.WORK_CONDITIONING, T.WORK_HARDENING)

# --------------------------------------------------------------------------- procedures

SINGLE = [
    *[(c, T.MANIPULATION) for c in ("98940", "98941", "98942", "98943", "98925", "98929")],
    ("97124", T.MASSAGE),
    ("97012", T.MECHANICAL_TRACTION),
    *[(c, T.PHYSICAL_THERAPY) for c in ("97161", "97162", "97163", "97164")],
    *[(c, T.OCCUPATIONAL_THERAPY) for c in ("97165", "97166", "97167", "97168")],
    ("97113", T.AQUATIC_THERAPY),
    *[(c, T.ACUPUNCTURE) for c in ("97810", "97811", "97813", "97814")],
    ("E0720", T.TENS),
    ("E0730", T.TENS),
    ("E0745", T.NMES),
    ("S8130", T.INTERFERENTIAL_CURRENT),
    ("S8131", T.INTERFERENTIAL_CURRENT),
]


@pytest.mark.parametrize("code, treatment", SINGLE)
def test_procedure_code_maps_to_its_treatment(code, treatment):
    assert treatment_for(code) is treatment
    # the wording does not matter when the code decides
    assert treatment_for(code, "anything at all") is treatment


@pytest.mark.parametrize("code", [" 97124", "e0720", "g0283 "])
def test_procedure_codes_are_normalized(code):
    assert codes.bundled_code_tables().candidates_for(code)


AMBIGUOUS = [
    ("97140", (T.MANIPULATION, T.MYOFASCIAL_RELEASE)),
    ("97014", ESTIM),
    ("G0283", ESTIM),
    ("97032", ESTIM),
    ("64550", ESTIM),
    *[(c, THERAPY) for c in ("97110", "97112", "97530")],
    ("97545", WORK_PROGRAM),
    ("97546", WORK_PROGRAM),
]


@pytest.mark.parametrize("code, candidates", AMBIGUOUS)
def test_ambiguous_code_without_wording_raises_with_candidates(code, candidates):
    with pytest.raises(AmbiguousCodeError) as info:
        treatment_for(code)
    assert info.value.code == code
    assert set(info.value.candidates) == set(candidates)
    assert isinstance(info.value, MtusRulesError) and isinstance(info.value, ValueError)
    for t in candidates:
        assert str(t) in str(info.value)


RESOLVED = [
    ("97140", "Myofascial release x 6 visits", T.MYOFASCIAL_RELEASE),
    ("97140", "myofascial-release, lumbar", T.MYOFASCIAL_RELEASE),
    ("97140", "Soft tissue mobilization to the neck", T.MYOFASCIAL_RELEASE),  # longer phrase wins over "mobilization"
    ("97140", "Chiropractic treatment 2x4", T.MANIPULATION),
    ("97140", "Spinal MANIPULATION", T.MANIPULATION),
    ("97140", "joint mobilization, right shoulder", T.MANIPULATION),
    ("97014", "TENS trial", T.TENS),
    ("97014", "Transcutaneous electrical nerve stimulation", T.TENS),
    ("97014", "interferential current stimulation", T.INTERFERENTIAL_CURRENT),
    ("G0283", "NMES to quadriceps", T.NMES),
    ("G0283", "electrical muscle stim", T.NMES),
    ("97032", "Muscle stimulation, attended", T.NMES),
    ("97032", "microcurrent (MENS)", T.MICROCURRENT_STIMULATION),
    ("97014", "H-wave stimulation", T.H_WAVE),
    ("G0283", "Hwave in clinic", T.H_WAVE),
    ("97032", "high voltage pulsed galvanic stimulation", T.GALVANIC_STIMULATION),
    ("G0283", "HVPC to the ankle", T.GALVANIC_STIMULATION),
    ("64550", "TENS unit application and instruction", T.TENS),
    # PT or OT: the wording names the profession
    ("97110", "Physical therapy 2x6 lumbar", T.PHYSICAL_THERAPY),
    ("97110", "PT x 8", T.PHYSICAL_THERAPY),
    ("97530", "Physiotherapy, therapeutic activities", T.PHYSICAL_THERAPY),
    ("97110", "Occupational therapy for the right hand", T.OCCUPATIONAL_THERAPY),
    ("97112", "OT neuromuscular re-education", T.OCCUPATIONAL_THERAPY),
    # work conditioning or work hardening: the wording names the program
    ("97545", "Work conditioning, first 2 hours", T.WORK_CONDITIONING),
    ("97546", "work-hardening program, additional hours", T.WORK_HARDENING),
    ("97545", "Hardening program x 10 sessions", T.WORK_HARDENING),
]


@pytest.mark.parametrize("code, wording, treatment", RESOLVED)
def test_ambiguous_code_resolved_by_wording(code, wording, treatment):
    assert treatment_for(code, wording) is treatment


UNRESOLVED = [
    ("97140", "manual therapy", ()),
    ("97140", "chiropractic manipulation with myofascial release", (T.MANIPULATION, T.MYOFASCIAL_RELEASE)),
    ("97014", "e-stim", ()),
    ("97014", "tension", ()),  # "TENS" must be a whole word
    ("97014", "TENS/NMES combination unit", (T.NMES, T.TENS)),
    ("64550", "surface neurostimulator", ()),
    ("97110", "Therapeutic exercise", ()),  # PT and OT both bill it
    ("97530", "PT/OT evaluation and treatment", THERAPY),
    ("97545", "Work program, first 2 hours", ()),
    ("97545", "work hardening/conditioning", WORK_PROGRAM),
]


@pytest.mark.parametrize("code, wording, named", UNRESOLVED)
def test_wording_that_does_not_pick_exactly_one_stays_ambiguous(code, wording, named):
    with pytest.raises(AmbiguousCodeError) as info:
        treatment_for(code, wording)
    assert set(info.value.named) == set(named)
    assert info.value.wording == wording
    assert wording in str(info.value)


# Left out on purpose: ultrasound, an office visit, home health, the conductive
# garment and monthly stimulator supplies (accessories of TENS or NMES units
# alike), the catch-all DME code H-wave units are billed with, iontophoresis.
@pytest.mark.parametrize("code", ["97035", "99213", "G0151", "E0731", "A4595", "E1399", "97033"])
def test_unmapped_procedure_code(code):
    with pytest.raises(UnmappedCodeError, match=code):
        treatment_for(code)


@pytest.mark.parametrize("code", ["9714", "971400", "ABCDE", "M51.26", "", "Z9999"])
def test_malformed_procedure_code(code):
    with pytest.raises(InvalidCodeError):
        treatment_for(code)


# --------------------------------------------------------------------------- diagnoses

DIAGNOSES = [
    # sprains and strains; seventh characters need no entries of their own
    ("S13.4XXA", [R.CERVICAL], G.SPRAIN_STRAIN),
    ("S16.1XXD", [R.CERVICAL], G.SPRAIN_STRAIN),
    ("S23.3XXA", [R.THORACIC], G.SPRAIN_STRAIN),
    ("S29.012A", [R.THORACIC], G.SPRAIN_STRAIN),
    ("S29.011A", [], G.SPRAIN_STRAIN),  # front wall of the chest: no spinal region
    ("S33.5XXA", [R.LUMBAR], G.SPRAIN_STRAIN),
    ("S39.012A", [R.LUMBAR], G.SPRAIN_STRAIN),
    ("S39.01", [], G.SPRAIN_STRAIN),
    ("S43.401A", [R.SHOULDER], G.SPRAIN_STRAIN),
    ("S46.011A", [R.SHOULDER], G.SPRAIN_STRAIN),
    ("S46.021A", [R.SHOULDER], G.ROTATOR_CUFF),
    ("S53.401A", [R.ELBOW], G.SPRAIN_STRAIN),
    ("S63.501A", [R.WRIST], G.SPRAIN_STRAIN),
    ("S73.101A", [R.HIP], G.SPRAIN_STRAIN),
    ("S83.511A", [R.KNEE], G.SPRAIN_STRAIN),
    ("S83.6", [R.KNEE], G.SPRAIN_STRAIN),
    ("S93.401A", [R.ANKLE], G.SPRAIN_STRAIN),
    # disc disorders: the longest prefix fixes the region
    ("M50.20", [R.CERVICAL], G.DISC_DISORDER),
    ("M51.2", [], G.DISC_DISORDER),
    ("M51.26", [R.LUMBAR], G.DISC_DISORDER),
    ("M5126", [R.LUMBAR], G.DISC_DISORDER),
    ("m51.26", [R.LUMBAR], G.DISC_DISORDER),
    ("M51.24", [R.THORACIC], G.DISC_DISORDER),
    ("M51.25", [R.THORACIC, R.LUMBAR], G.DISC_DISORDER),
    ("M51.27", [R.LUMBAR], G.DISC_DISORDER),
    ("M51.16", [R.LUMBAR], G.DISC_DISORDER),
    ("M51.362", [R.LUMBAR], G.DISC_DISORDER),
    ("M51.9", [], G.DISC_DISORDER),
    # radiculopathy
    ("M54.12", [R.CERVICAL], G.RADICULOPATHY),
    ("M54.14", [R.THORACIC], G.RADICULOPATHY),
    ("M54.16", [R.LUMBAR], G.RADICULOPATHY),
    ("M54.17", [R.LUMBAR], G.RADICULOPATHY),
    ("M54.10", [], G.RADICULOPATHY),
    # spinal pain
    ("M54.2", [R.CERVICAL], G.OTHER),
    ("M54.50", [R.LUMBAR], G.OTHER),
    ("M54.59", [R.LUMBAR], G.OTHER),
    ("M54.6", [R.THORACIC], G.OTHER),
    # the rest
    ("M79.10", [], G.MYALGIA_MYOSITIS),
    ("M79.18", [], G.MYALGIA_MYOSITIS),
    ("M60.9", [], G.MYALGIA_MYOSITIS),
    ("M79.2", [], G.NEURALGIA_NEURITIS),
    ("G90.511", [], G.CRPS),
    ("G56.41", [], G.CRPS),
    ("M75.120", [R.SHOULDER], G.ROTATOR_CUFF),
    ("G56.01", [R.WRIST, R.HAND], G.CARPAL_TUNNEL),
    ("G44.309", [R.HEAD], G.HEADACHE),
    ("G44.209", [R.HEAD], G.HEADACHE),
    ("F43.10", [], G.PSYCHIATRIC),
    # neuropathic pain: diabetic neuropathy and post-herpetic neuralgia
    ("E11.42", [], G.NEUROPATHIC_PAIN),
    ("E10.42", [], G.NEUROPATHIC_PAIN),
    ("E11.40", [], G.NEUROPATHIC_PAIN),
    ("E13.42", [], G.NEUROPATHIC_PAIN),
    ("B02.23", [], G.NEUROPATHIC_PAIN),
    ("B02.29", [], G.NEUROPATHIC_PAIN),
    ("B02.22", [R.HEAD], G.NEUROPATHIC_PAIN),
    # phantom limb pain, spinal cord injury (sequela too), multiple sclerosis
    ("G54.6", [], G.PHANTOM_LIMB),
    ("S14.115S", [R.CERVICAL], G.SPINAL_CORD_INJURY),
    ("S14.101A", [R.CERVICAL], G.SPINAL_CORD_INJURY),
    ("S24.104S", [R.THORACIC], G.SPINAL_CORD_INJURY),
    ("S34.121S", [R.LUMBAR], G.SPINAL_CORD_INJURY),
    ("S34.109A", [R.LUMBAR], G.SPINAL_CORD_INJURY),
    ("S34.139S", [], G.SPINAL_CORD_INJURY),  # sacral cord: no region of ours
    ("G35", [], G.MULTIPLE_SCLEROSIS),
    ("G35.A", [], G.MULTIPLE_SCLEROSIS),
    # soft-tissue inflammation
    ("M77.11", [R.ELBOW], G.SOFT_TISSUE_INFLAMMATION),
    ("M77.02", [R.ELBOW], G.SOFT_TISSUE_INFLAMMATION),
    ("M70.61", [R.HIP], G.SOFT_TISSUE_INFLAMMATION),
    ("M70.42", [R.KNEE], G.SOFT_TISSUE_INFLAMMATION),
    ("M75.51", [R.SHOULDER], G.SOFT_TISSUE_INFLAMMATION),
    ("M75.21", [R.SHOULDER], G.SOFT_TISSUE_INFLAMMATION),
    ("M76.62", [R.ANKLE], G.SOFT_TISSUE_INFLAMMATION),
    ("M65.4", [R.WRIST], G.SOFT_TISSUE_INFLAMMATION),
    ("M70.04", [R.HAND, R.WRIST], G.SOFT_TISSUE_INFLAMMATION),
    # neighbours keep their own groups: rotator cuff tear beside shoulder bursitis
    ("M75.111", [R.SHOULDER], G.ROTATOR_CUFF),
    # the diagnoses behind the listed surgeries
    ("S83.241A", [R.KNEE], G.OTHER),  # meniscus tear -> meniscectomy
    ("M23.221", [R.KNEE], G.OTHER),
    ("S83.511A", [R.KNEE], G.SPRAIN_STRAIN),  # ACL sprain -> ACL repair
    ("M17.11", [R.KNEE], G.OTHER),  # knee osteoarthritis -> total knee arthroplasty
    ("M48.062", [R.LUMBAR], G.OTHER),  # lumbar stenosis -> laminectomy
    ("M48.07", [R.LUMBAR], G.OTHER),
    ("G56.02", [R.WRIST, R.HAND], G.CARPAL_TUNNEL),
]


@pytest.mark.parametrize("code, regions, group", DIAGNOSES)
def test_icd10_code_maps_by_longest_prefix(code, regions, group):
    assert diagnosis_for(code) == (regions, group)


@pytest.mark.parametrize(
    "code, why",
    [
        ("M99.999", "not a code of ICD-10-CM"),
        ("M51.2X", "not a code of ICD-10-CM"),
        ("S13.4XXZ", "not a code of ICD-10-CM"),  # no such seventh character
        ("12345", "is not an ICD-10-CM code"),
        ("M5", "is not an ICD-10-CM code"),
        ("M50-M54", "is not an ICD-10-CM code"),  # a block, not a code
        ("M51.26.1", "is not an ICD-10-CM code"),
        ("", "is not an ICD-10-CM code"),
    ],
)
def test_invalid_icd10_code(code, why):
    with pytest.raises(InvalidCodeError, match=why):
        diagnosis_for(code)


# Left out on purpose (besides codes of no group of ours): phantom limb WITHOUT
# pain, concussion of the cord, shingles of the ear ganglion and of the cord,
# diabetic mononeuropathy, calcaneal spur, metatarsalgia, unspecified enthesopathy.
LEFT_OUT = ["G54.7", "S14.0XXA", "S24.0XXA", "S34.01XA", "B02.21", "B02.24", "E11.41", "M77.31", "M77.41", "M77.9"]


@pytest.mark.parametrize("code", ["J45.909", "M54.9", "S13.9XXA", "M25.511", "M51", *LEFT_OUT])
def test_existing_but_unmapped_icd10_code(code):
    if code == "M51":  # the category itself is mapped (disc disorder, region not fixed)
        assert diagnosis_for(code) == ([], G.DISC_DISORDER)
        return
    with pytest.raises(UnmappedCodeError, match="not in the code table"):
        diagnosis_for(code)


def test_every_bundled_prefix_exists_in_icd10cm():
    tables = codes.bundled_code_tables()
    missing = [p for p in tables.diagnosis_prefixes if not codes.icd10cm_exists(p)]
    assert missing == []


def test_every_diagnosis_group_has_a_code():
    groups = {codes.bundled_code_tables().diagnosis_entry(p).group for p in codes.bundled_code_tables().diagnosis_prefixes}
    assert set(G) - groups == set()


def test_every_treatment_is_reachable_from_a_code():
    tables = codes.bundled_code_tables()
    alone = {tables.candidates_for(c)[0] for c in tables.procedure_codes if len(tables.candidates_for(c)) == 1}
    anywhere = {t for c in tables.procedure_codes for t in tables.candidates_for(c)}
    assert set(T) - anywhere == {T.OTHER}
    # These have no code of their own and are read only from the wording of a
    # shared code: H-wave, galvanic and microcurrent stimulation (the electrical
    # stimulation codes; H-wave units are billed with the catch-all E1399, which
    # is not mapped), myofascial release (manual therapy), and the two work
    # programs (one pair of codes for both).
    assert set(T) - alone == {
        T.OTHER, T.H_WAVE, T.GALVANIC_STIMULATION, T.MICROCURRENT_STIMULATION, T.MYOFASCIAL_RELEASE,
        T.WORK_CONDITIONING, T.WORK_HARDENING,
    }


@pytest.mark.parametrize("code, leads, or_more", [("E0720", 2, False), ("E0730", 4, True), ("S8130", None, False), ("97014", None, False)])
def test_tens_unit_codes_fix_their_leads(code, leads, or_more):
    entry = codes.bundled_code_tables().procedure(code)
    assert (entry.device_leads, entry.device_leads_or_more) == (leads, or_more)


@pytest.mark.parametrize(
    "code, stated, agrees",
    [("E0720", 2, True), ("E0720", 4, False), ("E0730", 4, True), ("E0730", 6, True), ("E0730", 2, False), ("S8131", 4, True)],
)
def test_stated_leads_must_be_what_the_code_can_mean(code, stated, agrees):
    assert codes.bundled_code_tables().procedure(code).leads_agree(stated) is agrees


def test_bundled_tables_have_versions_and_own_descriptions():
    tables = load_code_tables(BUNDLED)
    assert tables.procedures_version and tables.diagnoses_version
    assert set(tables.procedure_codes) >= {code for code, _ in SINGLE} | {code for code, _ in AMBIGUOUS}


# --------------------------------------------------------------------------- malformed tables

GOOD_PROCEDURES = """\
version: "1.0.0"
procedures:
  - code: "97124"
    treatments: [massage]
    description: Massage.
"""
GOOD_DIAGNOSES = """\
version: "1.0.0"
diagnoses:
  - prefix: "S13.4"
    body_regions: [cervical]
    group: sprain_strain
    description: Neck sprain.
"""


def _tables(tmp_path: Path, procedures: str = GOOD_PROCEDURES, diagnoses: str = GOOD_DIAGNOSES) -> Path:
    (tmp_path / "procedures.yaml").write_text(procedures)
    (tmp_path / "diagnoses.yaml").write_text(diagnoses)
    return tmp_path


def test_small_valid_tables_load(tmp_path):
    tables = load_code_tables(_tables(tmp_path))
    assert tables.treatment_for("97124") is T.MASSAGE
    assert tables.diagnosis_for("S13.4XXA") == ([R.CERVICAL], G.SPRAIN_STRAIN)


BAD_TABLES = [
    (
        "unknown treatment",
        "procedures.yaml",
        GOOD_PROCEDURES + '  - code: "97035"\n    treatments: [ultrasound]\n    description: x\n',
        7,
        "procedures[1].treatments[0]",
    ),
    (
        "duplicate code",
        "procedures.yaml",
        GOOD_PROCEDURES + '  - code: "97124"\n    treatments: [massage]\n    description: again\n',
        6,
        "listed twice",
    ),
    (
        "unquoted code",
        "procedures.yaml",
        GOOD_PROCEDURES.replace('"97124"', "97124"),
        3,
        "in quotes",
    ),
    (
        "unknown field",
        "procedures.yaml",
        GOOD_PROCEDURES + "    units: 4\n",
        6,
        "unknown field",
    ),
    (
        "wording for a treatment the code does not map to",
        "procedures.yaml",
        GOOD_PROCEDURES
        + '  - code: "97140"\n    treatments: [manipulation, myofascial_release]\n    description: x\n'
        + "    resolve_by_wording:\n      massage: [massage]\n",
        6,
        "does not map to: massage",
    ),
    (
        "same wording for two treatments",
        "procedures.yaml",
        GOOD_PROCEDURES
        + '  - code: "97140"\n    treatments: [manipulation, myofascial_release]\n    description: x\n'
        + "    resolve_by_wording:\n      manipulation: [MFR]\n      myofascial_release: [mfr]\n",
        6,
        "listed for both",
    ),
    (
        "malformed procedure code",
        "procedures.yaml",
        GOOD_PROCEDURES.replace('"97124"', '"9712"'),
        3,
        "not a CPT or HCPCS code",
    ),
    (
        "or_more without a number of leads",
        "procedures.yaml",
        GOOD_PROCEDURES.replace("    treatments: [massage]\n", "    treatments: [massage]\n    device_leads_or_more: true\n"),
        3,
        "needs device_leads",
    ),
    (
        "unknown body region",
        "diagnoses.yaml",
        GOOD_DIAGNOSES.replace("[cervical]", "[neck]"),
        4,
        "diagnoses[0].body_regions[0]",
    ),
    (
        "unknown group",
        "diagnoses.yaml",
        GOOD_DIAGNOSES.replace("sprain_strain", "sprain"),
        5,
        "diagnoses[0].group",
    ),
    (
        "duplicate prefix",
        "diagnoses.yaml",
        GOOD_DIAGNOSES + '  - prefix: "S13.4"\n    body_regions: []\n    description: again\n',
        7,
        "listed twice",
    ),
    (
        "prefix without its dot",
        "diagnoses.yaml",
        GOOD_DIAGNOSES.replace('"S13.4"', '"S134"'),
        3,
        "written with its dot",
    ),
    (
        "missing version",
        "diagnoses.yaml",
        GOOD_DIAGNOSES.replace('version: "1.0.0"\n', ""),
        1,
        "version",
    ),
    (
        "YAML syntax",
        "diagnoses.yaml",
        GOOD_DIAGNOSES + "  - prefix: [unclosed\n",
        7,
        "invalid YAML",
    ),
]


@pytest.mark.parametrize("name, file, text, line, expected", BAD_TABLES, ids=[b[0] for b in BAD_TABLES])
def test_malformed_table_reports_file_and_line(tmp_path, name, file, text, line, expected):
    folder = _tables(tmp_path, **{file.removesuffix(".yaml"): text})
    with pytest.raises(RulePackError) as info:
        load_code_tables(folder)
    problems = info.value.problems
    assert any(
        p.file == str(folder / file) and p.line == line and (expected in p.message or expected in p.location)
        for p in problems
    ), "\n".join(map(str, problems))


def test_problems_in_both_files_are_reported_together(tmp_path):
    folder = _tables(
        tmp_path,
        procedures=GOOD_PROCEDURES.replace("[massage]", "[rubbing]"),
        diagnoses=GOOD_DIAGNOSES.replace("[cervical]", "[neck]"),
    )
    with pytest.raises(RulePackError) as info:
        load_code_tables(folder)
    assert {Path(p.file).name for p in info.value.problems} == {"procedures.yaml", "diagnoses.yaml"}


def test_missing_folder_or_file(tmp_path):
    with pytest.raises(RulePackError, match="not a folder"):
        load_code_tables(tmp_path / "nowhere")
    shutil.copy(BUNDLED / "procedures.yaml", tmp_path / "procedures.yaml")
    with pytest.raises(RulePackError, match="diagnoses.yaml: file not found"):
        load_code_tables(tmp_path)


def test_only_the_further_hours_code_is_billed_per_hour():
    tables = codes.bundled_code_tables()
    assert [c for c in tables.procedure_codes if tables.procedure(c).billed_per_hour] == ["97546"]
