"""The request model: one review case, as a claims system or a case file gives it.

Every fact the seeds show to matter can be "not documented"; that is a value of
its own, never the same as "no" or zero. Unknown fields are rejected so a typo
in a case file cannot quietly drop a fact.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    StrictInt,
    Discriminator,
    StrictStr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..errors import CodeError, excerpt
from .codes import (
    ICD9_GOES,
    ICD9_PATTERN,
    ICD9CM,
    ICD10CM,
    checked_icd9,
    checked_icd10,
    code_set_release,
    is_icd9_not_icd10,
    looks_icd9,
    normalize_icd9,
    wrong_code_set,
)
from .._model import StrictModel
from ..vocabulary import (
    ICD10_PATTERN,
    NOT_DOCUMENTED,
    NOT_SPECIFIED,
    BodyRegion,
    CareStage,
    DiagnosisGroup,
    Documented,
    PainPhase,
    Purpose,
    SurgicalProcedure,
    Treatment,
    WorkStatus,
)


def _iso_date(value: Any) -> Any:
    # A number is never read as a date: 20130528 would otherwise pass as a Unix time.
    if isinstance(value, _dt.datetime):
        raise ValueError("expected a date (YYYY-MM-DD), got a date and time")
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            pass
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            # The value is masked in the message, so say what is wrong with it.
            raise ValueError(f"no such date: the month or the day is out of range (got {excerpt(value)})")
        try:
            _dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {excerpt(value)}") from None
        raise ValueError(f"expected a date (YYYY-MM-DD), got a date and time {excerpt(value)}")
    raise ValueError(f"expected a date as YYYY-MM-DD, got {type(value).__name__} {excerpt(value)}")


IsoDate = Annotated[_dt.date, BeforeValidator(_iso_date)]
NotDocumented = Literal["not_documented"]
NotSpecified = Literal["not_specified"]


# Fields that take "a value or a word for unknown" are checked here in one step,
# so a mistake gets one message naming both forms, not one per union member.
def _visits_or_not_documented(value: Any) -> Any:
    if value == NOT_DOCUMENTED or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1000):
        return value
    raise ValueError(f"expected a valid integer number of visits (0-1000) or 'not_documented', got {excerpt(value)}")


def _quantity_form(value: Any) -> str:
    # Called on input (a dict) and, when serialising, on the model itself.
    if isinstance(value, BaseModel):
        return type(value).__name__
    if isinstance(value, dict):
        if {"hours", "sessions", "hours_per_session"} & value.keys() and "visits" not in value:
            return "Hours"
        return "Frequency" if ("per_week" in value or "weeks" in value) and "visits" not in value else "Visits"
    return "NotSpecified"


def _regions_or_not_specified(value: Any) -> Any:
    if value == NOT_SPECIFIED or isinstance(value, list):
        return value
    raise ValueError(f"expected a list of body regions or 'not_specified', got {excerpt(value)}")


class Claimant(StrictModel):
    age: Annotated[StrictInt, Field(ge=0, le=120)] | None = None
    sex: Literal["female", "male", "other"] | None = None


def _code_error(check: Any, value: str) -> None:
    """Run a code check, turning its CodeError into the ValueError validation reports."""
    try:
        check(value)
    except CodeError as exc:
        raise ValueError(exc.problems[0].message) from None


class Diagnosis(StrictModel):
    """A diagnosis of the case. Its code, if given, is checked against its code
    set (a code that does not exist is refused, as on an RFA line); the regions
    and group are what the case states."""

    description: StrictStr = Field(min_length=1)
    icd10: Annotated[StrictStr, Field(pattern=ICD10_PATTERN)] | None = Field(
        default=None, description="ICD-10-CM code: the code set of requests dated from 2015-10-01 (and accepted before)."
    )
    icd9: Annotated[StrictStr, Field(pattern=ICD9_PATTERN)] | None = Field(
        default=None, description="ICD-9-CM code: the code set of requests dated before 2015-10-01 only."
    )
    body_regions: list[BodyRegion] = Field(default_factory=list)
    group: DiagnosisGroup | None = None

    # Before the pattern: a code of the other set gets a message saying so.
    @field_validator("icd10", mode="before")
    @classmethod
    def _icd10_not_icd9(cls, value: Any) -> Any:
        if is_icd9_not_icd10(value):
            raise ValueError(f"{value.strip()} is an {ICD9CM} code, not an {ICD10CM} code: {ICD9_GOES}")
        return value

    @field_validator("icd9", mode="before")
    @classmethod
    def _icd9_not_icd10(cls, value: Any) -> Any:
        if isinstance(value, str) and not looks_icd9(value):
            _code_error(normalize_icd9, value)
        return value

    @field_validator("icd10")
    @classmethod
    def _icd10_exists(cls, value: str | None) -> str | None:
        if value is not None:
            _code_error(checked_icd10, value)
        return value

    @field_validator("icd9")
    @classmethod
    def _icd9_exists(cls, value: str | None) -> str | None:
        if value is not None:
            _code_error(checked_icd9, value)
        return value

    @model_validator(mode="after")
    def _one_code(self) -> Diagnosis:
        if self.icd10 is not None and self.icd9 is not None:
            raise ValueError("give one code for a diagnosis: icd9 (requests before 2015-10-01) or icd10")
        return self

    @property
    def code_set(self) -> str | None:
        """The code set of the diagnosis's code, or None when it gives none."""
        return ICD10CM if self.icd10 is not None else ICD9CM if self.icd9 is not None else None


class PriorTreatment(StrictModel):
    """A course of treatment already given. `visits` may be not documented."""

    treatment: Treatment
    visits: Annotated[int | str, BeforeValidator(_visits_or_not_documented)] = NOT_DOCUMENTED
    functional_improvement: Documented = Documented.NOT_DOCUMENTED
    body_regions: Annotated[list[BodyRegion] | NotSpecified, BeforeValidator(_regions_or_not_specified)] = NOT_SPECIFIED
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    note: StrictStr | None = None

    @field_validator("end_date")
    @classmethod
    def _after_start(cls, value: _dt.date | None, info: ValidationInfo) -> _dt.date | None:
        start = info.data.get("start_date")
        if value is not None and start is not None and value < start:
            raise ValueError(f"end_date is before start_date ({value} < {start})")
        return value


class Surgery(StrictModel):
    """The surgery whose aftercare the request may be, for the postsurgical schedule."""

    procedure: SurgicalProcedure = Field(
        description="One of the surgeries 8 CCR 9792.24.3 lists, or `other` for any surgery it does not list."
    )
    description: StrictStr | None = Field(default=None, description="The surgery as the record words it.")
    date: IsoDate | None = Field(default=None, description="Date of surgery; without it the period cannot be derived.")
    postsurgical_period: Literal["within", "not_within"] | None = Field(
        default=None,
        description="Whether the request falls in the postsurgical physical medicine period, when the record "
        "states it; overrides the period derived from the date of surgery.",
    )


class Visits(StrictModel):
    """A quantity written as a number of visits ("x 8")."""

    visits: Annotated[StrictInt, Field(ge=1, le=1000)]

    @property
    def total(self) -> int:
        return self.visits


class Frequency(StrictModel):
    """A quantity written as frequency and duration ("2x/week for 6 weeks")."""

    per_week: Annotated[StrictInt, Field(ge=1, le=14)]
    weeks: Annotated[StrictInt, Field(ge=1, le=104)]

    @property
    def total(self) -> int:
        return self.per_week * self.weeks


#: The longest session a program day is read as: full-day work conditioning and
#: hardening sessions run up to about 8 hours (guideline sheet 10.4, moderate
#: confidence). It turns hours into the least number of sessions they can be.
MAX_SESSION_HOURS = 8


def _n(count: int | None, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Hours(StrictModel):
    """A program quantity written in hours ("80 hours of work hardening",
    "10 sessions x 6 hours"), as work conditioning and hardening are requested
    and billed (97545 / 97546). Each session counts as one visit."""

    hours: Annotated[StrictInt, Field(ge=1, le=8000)] | None = Field(default=None, description="Total hours requested.")
    sessions: Annotated[StrictInt, Field(ge=1, le=1000)] | None = None
    hours_per_session: Annotated[StrictInt, Field(ge=1, le=12)] | None = None

    @model_validator(mode="after")
    def _enough(self) -> Hours:
        if self.hours is None and (self.sessions is None or self.hours_per_session is None):
            raise ValueError("give the total hours, or sessions and hours_per_session")
        if self.hours is not None and self.sessions is not None and self.hours_per_session is not None:
            if self.sessions * self.hours_per_session != self.hours:
                raise ValueError(
                    f"{self.sessions} sessions x {self.hours_per_session} hours is not {self.hours} hours"
                )
        return self

    @property
    def total(self) -> int | None:
        """Sessions requested, or None when the hours do not say how many."""
        if self.sessions is not None:
            return self.sessions
        if self.hours is not None and self.hours_per_session is not None:
            return -(-self.hours // self.hours_per_session)
        return None

    @property
    def at_least(self) -> int:
        total = self.total
        return total if total is not None else -(-(self.hours or 0) // MAX_SESSION_HOURS)

    def describe(self) -> str:
        """How the hours were turned into sessions, for the decision."""
        if self.sessions is not None:
            hours = self.hours or self.sessions * (self.hours_per_session or 0)
            return f"The request is for {_n(self.sessions, 'session')}" + (
                f" of {_n(self.hours_per_session, 'hour')} ({_n(hours, 'hour')}); each session counts as a visit."
                if self.hours_per_session
                else "; each session counts as a visit."
            )
        if self.hours_per_session is not None:
            return (
                f"The request is for {_n(self.hours, 'hour')} in sessions of {_n(self.hours_per_session, 'hour')}: "
                f"{_n(self.total, 'session')}, each counted as a visit."
            )
        return (
            f"The request is for {_n(self.hours, 'hour')} with no session length; at up to {MAX_SESSION_HOURS} hours "
            f"a session that is at least {_n(self.at_least, 'session')}, each counted as a visit."
        )


Quantity = Annotated[
    Union[
        Annotated[Visits, Tag("Visits")],
        Annotated[Frequency, Tag("Frequency")],
        Annotated[Hours, Tag("Hours")],
        Annotated[NotSpecified, Tag("NotSpecified")],
    ],
    Discriminator(_quantity_form),
]


class RfaMapping(StrictModel):
    """How an item was read from an RFA line: codes and text to treatment, regions and visits."""

    line: int = Field(description="Position of the RFA line, from 0.")
    code: str
    treatment: Treatment
    resolved_by: Literal["code", "wording"] = Field(
        description="'wording' when the code means several treatments and the service text chose one."
    )
    icd10: str | None = Field(description="The line's ICD-10-CM code; none when it gave an ICD-9-CM code.")
    icd9: str | None = Field(default=None, description="The line's ICD-9-CM code, when it gave one.")
    diagnosis_regions: list[BodyRegion]
    diagnosis_group: DiagnosisGroup | None
    quantity_text: str | None
    visits: int | None
    device_leads: int | None = Field(default=None, description="Leads of the unit, from the line or its code.")

    def describe(self) -> str:
        how = " (by the service's wording)" if self.resolved_by == "wording" else ""
        regions = ", ".join(r.value.replace("_", " ") for r in self.diagnosis_regions) or "no particular region"
        group = f", {self.diagnosis_group.value.replace('_', ' ')}" if self.diagnosis_group else ""
        quantity = f"; '{self.quantity_text}' -> {self.visits} visits" if self.quantity_text else "; no quantity"
        leads = f"; a unit with {self.device_leads} leads" if self.device_leads else ""
        return (f"Read from RFA line {self.line + 1}: code {self.code} -> {self.treatment.value}{how}; "
                f"{'ICD-9' if self.icd9 else 'ICD-10'} {self.icd9 or self.icd10} -> {regions}{group}{quantity}{leads}.")


class RequestedItem(StrictModel):
    """One disputed line of the request."""

    description: StrictStr = Field(min_length=1, description="The item as worded in the request.")
    treatment: Treatment
    body_regions: Annotated[
        Annotated[list[BodyRegion], Field(min_length=1)] | NotSpecified, BeforeValidator(_regions_or_not_specified)
    ] = NOT_SPECIFIED
    quantity: Quantity = NOT_SPECIFIED
    purpose: Purpose = Purpose.COURSE_OF_TREATMENT
    device_leads: Annotated[StrictInt, Field(ge=1, le=16)] | None = Field(
        default=None, description="For a stimulation unit: the number of leads requested (TENS: 2 unless 4 are justified)."
    )
    rfa: RfaMapping | None = Field(default=None, description="Set when the item was read from an RFA line.")

    @property
    def visits(self) -> int | None:
        """Requested visits, or None when the request states no quantity, or
        states hours that do not say how many sessions."""
        return None if isinstance(self.quantity, str) else self.quantity.total

    @property
    def visits_at_least(self) -> int:
        """The least number of visits the request can be for."""
        if isinstance(self.quantity, Hours):
            return self.quantity.at_least
        return self.visits or 0


def _yes_no(description: str) -> Any:
    """A yes / no / not_documented fact of the case, not documented unless given."""
    return Field(default=Documented.NOT_DOCUMENTED, description=description)


class CaseFacts(StrictModel):
    """The clinical facts of a case, whichever way its items are given."""

    case_id: StrictStr | None = None
    claimant: Claimant | None = None
    date_of_injury: IsoDate
    request_date: IsoDate
    diagnoses: list[Diagnosis] = Field(default_factory=list)
    treatment_history: list[PriorTreatment] = Field(
        default_factory=list,
        description="Prior courses of treatment. An empty list means no prior treatment is documented; "
        "a course whose visit count is unknown is listed with visits: not_documented.",
    )
    onset_date: IsoDate | None = Field(
        default=None, description="When the pain began, if later than the injury; the pain phase counts from it."
    )
    surgery: Surgery | None = None
    work_status: WorkStatus = WorkStatus.NOT_DOCUMENTED
    home_exercise: Documented = Documented.NOT_DOCUMENTED
    care_stage: CareStage | None = Field(
        default=None,
        description="Stated stage of care. When absent (or not_documented) it is derived: no prior course of "
        "physical medicine and no home exercise program documented means a first course (first_evaluation); "
        "otherwise ongoing_care. The decision says which was used.",
    )
    pain_phase: PainPhase | None = Field(
        default=None,
        description="Stated pain phase (acute or chronic). When absent it is derived from the onset date, or the "
        "date of injury, to the request date: chronic from 3 months on. The decision says which was used.",
    )
    # Labor Code 4604.5: the claims administrator may authorize, in writing,
    # visits beyond the 24-visit cap (guidelines.md 1.4).
    cap_authorization: Documented = _yes_no(
        "Whether the claims administrator authorized, in writing, visits beyond the Labor Code "
        "4604.5 cap of 24 chiropractic, physical therapy or occupational therapy visits."
    )
    # -- physical medicine beyond the count (CPMTG pp. 98-99, guidelines.md 10.1)
    home_program_insufficient: Documented = _yes_no(
        "A documented reason why a home exercise program cannot carry on the therapy "
        "(needed for supervised visits beyond the count)."
    )
    # -- aquatic therapy (CPMTG p. 22, 10.4)
    reduced_weight_bearing: Documented = _yes_no("Reduced weight bearing is indicated (e.g. extreme obesity).")
    # -- electrical stimulation (CPMTG pp. 114-121, 10.3)
    other_modalities_failed: Documented = _yes_no(
        "Other appropriate pain modalities, medication included (for H-wave: physical therapy, "
        "medication and TENS), were tried and failed."
    )
    functional_restoration: Documented = _yes_no(
        "The device is used as an adjunct to a program of evidence-based functional restoration, "
        "with the other ongoing treatment documented."
    )
    treatment_goals: Documented = _yes_no("A treatment plan with short- and long-term goals.")
    device_trial_benefit: Documented = _yes_no(
        "A one-month trial of the device documented with how often it was used and its effect on "
        "pain and function, showing benefit."
    )
    four_lead_justified: Documented = _yes_no("A documented reason why a 4-lead unit is needed.")
    medication_ineffective: Documented = _yes_no("Pain is poorly controlled because medication lost its effect.")
    medication_side_effects: Documented = _yes_no("Pain is poorly controlled because of the side effects of medication.")
    substance_abuse_history: Documented = _yes_no("A history of substance abuse.")
    postoperative_pain_limits_therapy: Documented = _yes_no("Significant postoperative (or acute) pain limits the ability to take part in exercise or therapy.")
    unresponsive_to_conservative_care: Documented = _yes_no("Pain is unresponsive to conservative measures (repositioning, heat/ice, ...).")
    # -- acupuncture (8 CCR 9792.24.1(a)(1), 10.5)
    pain_medication_reduced_or_not_tolerated: Documented = _yes_no("Pain medication is reduced or not tolerated.")
    adjunct_to_rehabilitation: Documented = _yes_no("Acupuncture is an adjunct to physical rehabilitation and/or surgical intervention.")
    # -- work conditioning / work hardening admission (CPMTG p. 125, 10.4)
    job_demands_unmet: Documented = _yes_no(
        "A work-related musculoskeletal condition with functional limits below a medium-or-higher "
        "job demand (usually shown by a functional capacity evaluation)."
    )
    therapy_plateau: Documented = _yes_no("An adequate trial of physical or occupational therapy, with improvement followed by a plateau.")
    surgery_candidate: Documented = _yes_no("The patient is a candidate for surgery or other treatment that would clearly improve function.")
    program_participation: Documented = _yes_no("The patient is able to take part at least 4 hours a day, 3-5 days a week.")
    return_to_work_goal: Documented = _yes_no("A defined return-to-work goal agreed by the employer and the employee.")
    program_completed: Documented = _yes_no("A work conditioning or work hardening program was already completed for this injury.")

    @field_validator("request_date")
    @classmethod
    def _after_injury(cls, value: _dt.date, info: ValidationInfo) -> _dt.date:
        injury = info.data.get("date_of_injury")
        if injury is not None and value < injury:
            raise ValueError(f"request_date is before date_of_injury ({value} < {injury})")
        return value

    @field_validator("diagnoses")
    @classmethod
    def _code_set_of_the_date(cls, value: list[Diagnosis], info: ValidationInfo) -> list[Diagnosis]:
        request = info.data.get("request_date")
        for index, diagnosis in enumerate(value):
            reason = wrong_code_set(ICD9CM, request) if diagnosis.icd9 and request else None
            if reason:
                raise ValueError(f"diagnoses[{index}].icd9: {diagnosis.icd9} is an {ICD9CM} code; {reason}")
        return value

    @field_validator("onset_date")
    @classmethod
    def _onset_before_request(cls, value: _dt.date | None, info: ValidationInfo) -> _dt.date | None:
        request = info.data.get("request_date")
        if value is not None and request is not None and value > request:
            raise ValueError(f"onset_date is after request_date ({value} > {request})")
        return value


class Case(CaseFacts):
    """One review case: the clinical facts and the disputed items."""

    requested_items: Annotated[list[RequestedItem], Field(min_length=1)]

    @property
    def diagnosis_code_sets(self) -> list[str]:
        """The code sets (with their release) of the diagnoses' codes, for the decision."""
        return sorted({code_set_release(d.code_set) for d in self.diagnoses if d.code_set is not None})
