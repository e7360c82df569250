"""The closed vocabulary shared by cases and rules.

Cases and rule packs may only use these values; a rule that names a treatment
or region outside this list is rejected when the pack loads, so a typo in a
rule can never silently stop it from matching.
"""

from __future__ import annotations

from enum import Enum
from typing import Final


class _Vocabulary(str, Enum):
    def __str__(self) -> str:  # so f-strings print "massage", not "Treatment.MASSAGE"
        return self.value


class Treatment(_Vocabulary):
    MANIPULATION = "manipulation"
    MASSAGE = "massage"
    MYOFASCIAL_RELEASE = "myofascial_release"
    PHYSICAL_THERAPY = "physical_therapy"
    OCCUPATIONAL_THERAPY = "occupational_therapy"
    MECHANICAL_TRACTION = "mechanical_traction"
    NMES = "nmes"
    TENS = "tens"
    INTERFERENTIAL_CURRENT = "interferential_current"
    H_WAVE = "h_wave"
    GALVANIC_STIMULATION = "galvanic_stimulation"
    MICROCURRENT_STIMULATION = "microcurrent_stimulation"
    ACUPUNCTURE = "acupuncture"
    AQUATIC_THERAPY = "aquatic_therapy"
    WORK_CONDITIONING = "work_conditioning"
    WORK_HARDENING = "work_hardening"
    OTHER = "other"


class BodyRegion(_Vocabulary):
    CERVICAL = "cervical"
    THORACIC = "thoracic"
    LUMBAR = "lumbar"
    SHOULDER = "shoulder"
    ELBOW = "elbow"
    FOREARM = "forearm"
    WRIST = "wrist"
    HAND = "hand"
    HIP = "hip"
    KNEE = "knee"
    ANKLE = "ankle"
    FOOT = "foot"
    HEAD = "head"


class DiagnosisGroup(_Vocabulary):
    SPRAIN_STRAIN = "sprain_strain"
    DISC_DISORDER = "disc_disorder"
    RADICULOPATHY = "radiculopathy"
    MYALGIA_MYOSITIS = "myalgia_myositis"
    NEURALGIA_NEURITIS = "neuralgia_neuritis"
    CRPS = "crps"
    NEUROPATHIC_PAIN = "neuropathic_pain"
    PHANTOM_LIMB = "phantom_limb"
    SPINAL_CORD_INJURY = "spinal_cord_injury"
    MULTIPLE_SCLEROSIS = "multiple_sclerosis"
    SOFT_TISSUE_INFLAMMATION = "soft_tissue_inflammation"
    ROTATOR_CUFF = "rotator_cuff"
    CARPAL_TUNNEL = "carpal_tunnel"
    HEADACHE = "headache"
    PSYCHIATRIC = "psychiatric"
    OTHER = "other"


class Documented(_Vocabulary):
    """A yes/no fact that the record may also leave open."""

    YES = "yes"
    NO = "no"
    NOT_DOCUMENTED = "not_documented"


class CareStage(_Vocabulary):
    """Where the request sits in the course of care with the requesting physician.

    `first_evaluation`: the request comes from the physician's first evaluation
    (e.g. a Doctor's First Report) with no prior treatment of the patient documented.
    `ongoing_care`: the request continues established treatment (progress reports,
    ongoing medication, home exercise).
    """

    FIRST_EVALUATION = "first_evaluation"
    ONGOING_CARE = "ongoing_care"
    NOT_DOCUMENTED = "not_documented"


class WorkStatus(_Vocabulary):
    FULL_DUTY = "full_duty"
    MODIFIED_DUTY = "modified_duty"
    TEMPORARILY_TOTALLY_DISABLED = "temporarily_totally_disabled"
    NOT_WORKING = "not_working"
    NOT_DOCUMENTED = "not_documented"


class Purpose(_Vocabulary):
    """What the requested visits are for, as the request states it."""

    COURSE_OF_TREATMENT = "course_of_treatment"
    MAINTENANCE = "maintenance"
    FLARE_UP = "flare_up"
    # A device (TENS, interferential, H-wave unit): the one-month home trial, a
    # rental beyond it, or a purchase. Purchase after a trial needs the trial's
    # documented benefit (CPMTG p. 116, guidelines.md 10.3).
    TRIAL = "trial"
    RENTAL = "rental"
    PURCHASE = "purchase"


class PainPhase(_Vocabulary):
    """Where the pain stands against the anticipated time of healing.

    `chronic`: beyond about three months from onset (9792.20(c) 2009; in
    practice three months, guidelines.md 10.8), where the Chronic Pain Medical
    Treatment Guidelines govern. `acute`: the acute and subacute phase before
    that; the sheet gives no line between acute and subacute, so none is drawn.
    """

    ACUTE = "acute"
    CHRONIC = "chronic"


class SurgicalProcedure(_Vocabulary):
    """The surgeries the MTUS Postsurgical Treatment Guidelines (8 CCR 9792.24.3)
    list with a general course of physical medicine, and `other` for any surgery
    they do not list (guidelines.md 10.6)."""

    LUMBAR_DISCECTOMY_LAMINECTOMY = "lumbar_discectomy_laminectomy"
    LUMBAR_FUSION = "lumbar_fusion"
    ROTATOR_CUFF_REPAIR_ARTHROSCOPIC = "rotator_cuff_repair_arthroscopic"
    ROTATOR_CUFF_REPAIR_OPEN = "rotator_cuff_repair_open"
    CARPAL_TUNNEL_RELEASE = "carpal_tunnel_release"
    MENISCECTOMY = "meniscectomy"
    ACL_REPAIR = "acl_repair"
    TOTAL_KNEE_ARTHROPLASTY = "total_knee_arthroplasty"
    OTHER = "other"


#: The postsurgical physical medicine period of each listed surgery, in months
#: from the date of surgery (8 CCR 9792.24.3, ATTESTED: guidelines.md 10.6). The
#: period decides *whether* the postsurgical schedule governs, before any rule
#: is read, so it lives with the procedure names; the visit counts themselves
#: are rules (rules/mtus-2009/postsurgical.yaml). A surgery not listed has a
#: presumptive 6-month period, but the schedule gives it no course: the other
#: MTUS rules decide its physical medicine (guidelines.md 10.6, 5), so `other`
#: has no entry here and is never within a period.
POSTSURGICAL_PERIOD_MONTHS: dict[SurgicalProcedure, int] = {
    SurgicalProcedure.LUMBAR_DISCECTOMY_LAMINECTOMY: 6,
    SurgicalProcedure.LUMBAR_FUSION: 6,
    SurgicalProcedure.ROTATOR_CUFF_REPAIR_ARTHROSCOPIC: 6,
    SurgicalProcedure.ROTATOR_CUFF_REPAIR_OPEN: 6,
    SurgicalProcedure.CARPAL_TUNNEL_RELEASE: 3,
    SurgicalProcedure.MENISCECTOMY: 6,
    SurgicalProcedure.ACL_REPAIR: 6,
    SurgicalProcedure.TOTAL_KNEE_ARTHROPLASTY: 4,
}


class PostsurgicalPeriod(_Vocabulary):
    """Whether the postsurgical schedule governs physical medicine on the request date."""

    WITHIN = "within"  # a listed surgery, within its period
    NOT_WITHIN = "not_within"  # no surgery, a surgery not listed, or past the period
    NOT_DOCUMENTED = "not_documented"  # a listed surgery whose date is not documented


#: The shape of an ICD-10-CM code (upper case; the dot after the category
#: optional), used by the case model and the code tables alike. Whether the
#: code exists is a separate question, answered by the code tables.
ICD10_PATTERN = r"^[A-Z][0-9][0-9AB](\.?[0-9A-Z]{1,4})?$"

#: The value a case uses for "the record does not say".
NOT_DOCUMENTED: Final = "not_documented"
#: Functional improvement "from prior visits" when the record shows there were none.
NO_PRIOR_VISITS = "no_prior_visits"
#: The value a requested item uses when it names no body region or no quantity.
NOT_SPECIFIED: Final = "not_specified"

#: Every value a facet's region can take (evaluation.facets.item_regions): the
#: tables worked out once per region are made for these.
FACET_REGIONS: Final = (*(str(r) for r in BodyRegion), NOT_SPECIFIED)

#: Treatments whose visits count against the same limit: the seed 002 reviewer
#: decided myofascial release under the massage guideline, so visits of either
#: use up the same 4-6 visit allowance.
#: Aquatic therapy is physical therapy in water: its visits count with physical
#: therapy against the same counts (CPMTG p. 22, guidelines.md 10.4). Work
#: conditioning and work hardening are one program in two forms: a completed
#: program of either is not repeated.
_FAMILIES = (
    frozenset({Treatment.MASSAGE, Treatment.MYOFASCIAL_RELEASE}),
    frozenset({Treatment.PHYSICAL_THERAPY, Treatment.AQUATIC_THERAPY}),
    frozenset({Treatment.WORK_CONDITIONING, Treatment.WORK_HARDENING}),
)
COUNTED_TOGETHER: dict[Treatment, frozenset[Treatment]] = {t: family for family in _FAMILIES for t in family}


#: Stimulation units a patient uses at home (trial, rental, purchase): a request
#: for one is not measured in visits, so stating no visit count is not a gap.
HOME_DEVICES = frozenset({Treatment.TENS, Treatment.INTERFERENTIAL_CURRENT, Treatment.H_WAVE})


def counted_with(treatment: Treatment) -> frozenset[Treatment]:
    return COUNTED_TOGETHER.get(treatment, frozenset({treatment}))


#: Plain names for findings and rationales.
LABELS: dict[str, str] = {
    "manipulation": "manipulation",
    "massage": "massage therapy",
    "myofascial_release": "myofascial release",
    "physical_therapy": "physical therapy",
    "mechanical_traction": "mechanical traction",
    "nmes": "neuromuscular electrical stimulation (NMES)",
    "occupational_therapy": "occupational therapy",
    "tens": "TENS",
    "interferential_current": "interferential current stimulation",
    "h_wave": "H-wave stimulation",
    "galvanic_stimulation": "galvanic stimulation",
    "microcurrent_stimulation": "microcurrent electrical stimulation (MENS)",
    "acupuncture": "acupuncture",
    "aquatic_therapy": "aquatic therapy",
    "work_conditioning": "work conditioning",
    "work_hardening": "work hardening",
    "crps": "complex regional pain syndrome (CRPS)",
    "acl_repair": "ACL repair",
    "other": "other treatment",
    "cervical": "cervical spine",
    "thoracic": "thoracic spine",
    "lumbar": "lumbar spine",
    "not_specified": "body region not specified",
    "sprain_strain": "sprain/strain",
}


def label(value: object) -> str:
    text = str(value)
    return LABELS.get(text, text.replace("_", " "))
