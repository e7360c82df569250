"""The facts a rule may test: each fact's kind, its words in a finding, what
must be documented when it is unknown, and its values. Conditions on them are
in conditions.py."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from ..vocabulary import (
    NO_PRIOR_VISITS,
    NOT_DOCUMENTED,
    NOT_SPECIFIED,
    BodyRegion,
    CareStage,
    Documented,
    PainPhase,
    PostsurgicalPeriod,
    Purpose,
    SurgicalProcedure,
    Treatment,
    WorkStatus,
)


@dataclass(frozen=True)
class Fact:
    name: str
    kind: Literal["choice", "count"]
    label: str  # what a finding calls it
    needed: str  # what must be documented when it is unknown
    values: tuple[str, ...] = ()
    unknown: str | None = None  # the choice meaning "not documented"
    stated_only: bool = False  # a count of the request itself: not stated -> tests false
    derived: bool = False  # computed from other facts of the case, never set by a what-if
    # The ordinary value, not worth a word in a finding ("not within a postsurgical period").
    unremarkable: str | None = None


def _documented(name: str, label: str, needed: str) -> Fact:
    return Fact(name, "choice", label, needed, _choices(Documented), NOT_DOCUMENTED)


def _choices(enum: type[Enum], unknown: str | None = None) -> tuple[str, ...]:
    return tuple(m.value for m in enum) + ((unknown,) if unknown and unknown not in {m.value for m in enum} else ())


FACTS: dict[str, Fact] = {
    f.name: f
    for f in (
        Fact("treatment", "choice", "treatment", "the treatment requested", _choices(Treatment)),
        Fact(
            "body_region",
            "choice",
            "body region",
            "the body region the treatment is directed to",
            _choices(BodyRegion, NOT_SPECIFIED),
            NOT_SPECIFIED,
        ),
        Fact(
            "visits_to_date",
            "count",
            "prior visits of this treatment",
            "the number of visits of this treatment already completed",
        ),
        Fact("visits_requested", "count", "visits requested", "the number of visits requested"),
        Fact(
            "total_visits",
            "count",
            "total visits (prior plus requested)",
            "the number of visits of this treatment already completed",
        ),
        Fact(
            "functional_improvement",
            "choice",
            "objective functional improvement from prior visits",
            "objective functional improvement (activities of daily living, work restrictions, "
            "dependence on treatment) measured during the prior visits",
            # `no_prior_visits`: there are none to have improved with. A rule
            # that needs improvement is then not met; nothing is undocumented.
            _choices(Documented) + (NO_PRIOR_VISITS,),
            NOT_DOCUMENTED,
        ),
        Fact(
            "care_stage",
            "choice",
            "stage of care",
            "whether the request starts care with this physician or continues established ongoing care",
            _choices(CareStage),
            NOT_DOCUMENTED,
        ),
        Fact("pain_phase", "choice", "pain phase", "when the pain began", _choices(PainPhase), derived=True),
        Fact(
            "visits_per_week",
            "count",
            "visits per week requested",
            "the frequency of the visits requested",
            stated_only=True,
        ),
        Fact("weeks_requested", "count", "weeks requested", "the duration of the request in weeks", stated_only=True),
        Fact("device_leads", "count", "leads requested", "the number of leads of the unit requested", stated_only=True),
        Fact(
            "months_since_injury",
            "count",
            "months since the injury",
            "the date of injury",
            derived=True,
        ),
        Fact("injury_year", "count", "year of injury", "the date of injury", derived=True),
        Fact(
            "months_since_last_visit",
            "count",
            "months since the last visit of this treatment",
            "the end date of each prior course of this treatment",
            derived=True,
        ),
        Fact(
            "surgery",
            "choice",
            "surgery",
            "the surgery and its date",
            (*_choices(SurgicalProcedure), "none"),
            derived=True,
        ),
        Fact(
            "postsurgical_period",
            "choice",
            "within the postsurgical physical medicine period",
            "the date of surgery",
            _choices(PostsurgicalPeriod),
            NOT_DOCUMENTED,
            derived=True,
            unremarkable=PostsurgicalPeriod.NOT_WITHIN.value,
        ),
        Fact(
            "injury_visits",
            "count",
            "visits of this treatment for this injury (prior plus requested, postsurgical visits apart)",
            "the number of visits of this treatment already completed for this injury",
        ),
        _documented(
            "cap_authorization",
            "written authorization beyond the statutory cap",
            "whether the claims administrator authorized visits beyond the 24-visit cap in writing",
        ),
        _documented(
            "home_program_insufficient",
            "a reason why a home program cannot carry on",
            "why a home exercise program cannot carry on the therapy",
        ),
        _documented("reduced_weight_bearing", "reduced weight bearing indicated", "whether reduced weight bearing is indicated"),
        _documented(
            "other_modalities_failed",
            "other appropriate modalities tried and failed",
            "the other pain modalities (medication included) tried, and their failure",
        ),
        _documented(
            "functional_restoration",
            "adjunct to functional restoration",
            "the program of functional restoration the device is an adjunct to",
        ),
        _documented("treatment_goals", "treatment plan with goals", "a treatment plan with short- and long-term goals"),
        _documented(
            "device_trial_benefit",
            "benefit of the one-month trial",
            "the one-month trial: how often the unit was used and its effect on pain and function",
        ),
        _documented("four_lead_justified", "reason for a 4-lead unit", "why a 4-lead unit is needed"),
        Fact(
            "interferential_indication",
            "choice",
            "an indication for interferential stimulation",
            "whether pain is poorly controlled (medication lost effect, side effects, history of substance abuse, "
            "postoperative pain limiting therapy) or unresponsive to conservative measures",
            _choices(Documented),
            NOT_DOCUMENTED,
            derived=True,
        ),
        Fact(
            "acupuncture_indication",
            "choice",
            "an indication for acupuncture",
            "whether pain medication is reduced or not tolerated, or acupuncture is an adjunct to "
            "physical rehabilitation or surgery",
            _choices(Documented),
            NOT_DOCUMENTED,
            derived=True,
        ),
        _documented(
            "job_demands_unmet",
            "functional limits below the job's demands",
            "the functional limits measured against the job's physical demands (e.g. a functional capacity evaluation)",
        ),
        _documented(
            "therapy_plateau",
            "an adequate therapy trial with improvement, then a plateau",
            "the course of physical or occupational therapy, its improvement and plateau",
        ),
        _documented(
            "surgery_candidate",
            "a candidate for surgery or other treatment that would clearly improve function",
            "whether surgery or other treatment that would clearly improve function is planned or indicated",
        ),
        _documented(
            "program_participation",
            "able to take part 4 hours a day, 3-5 days a week",
            "whether the patient can take part at least 4 hours a day, 3-5 days a week",
        ),
        _documented(
            "return_to_work_goal",
            "a return-to-work goal agreed by employer and employee",
            "the return-to-work goal and the employer's agreement to it",
        ),
        _documented(
            "program_completed",
            "a program already completed for this injury",
            "whether a work conditioning or work hardening program was already completed for this injury",
        ),
        Fact(
            "home_exercise",
            "choice",
            "home exercise program",
            "whether the patient is doing a home exercise program",
            _choices(Documented),
            NOT_DOCUMENTED,
        ),
        Fact(
            "work_status",
            "choice",
            "work status",
            "the patient's work status",
            _choices(WorkStatus),
            NOT_DOCUMENTED,
        ),
        Fact("purpose", "choice", "purpose of the visits", "what the visits are for", _choices(Purpose)),
        Fact("weeks_since_injury", "count", "weeks since the injury", "the date of injury"),
    )
}

#: Facts that are set only through `applies_to`, not through `when`.
SCOPE_ONLY = frozenset({"treatment"})

# In the engine's fact, a count that is not documented is sent as its known
# lower bound with `<name>_known: false`; see Test.engine_conditions.
KNOWN_SUFFIX = "_known"
#: Beside a count that is None in a facet's facts: the least it can be.
AT_LEAST_SUFFIX = "_at_least"
