"""Facts the record rarely states but its dates and history settle.

Reviewers read the pain phase, the stage of care and whether a request falls in
a postsurgical period from the dates and the treatment history; so does the
engine, when the case does not state them. A stated value always wins over the
derivation, and every derived value comes with a sentence saying how it was
reached, so a decision shows which one it used (guidelines.md 10.8).
"""

from __future__ import annotations

import calendar
import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass

from .model import Case, PriorTreatment
from ..vocabulary import (
    NOT_DOCUMENTED,
    POSTSURGICAL_PERIOD_MONTHS,
    CareStage,
    Documented,
    PainPhase,
    PostsurgicalPeriod,
    SurgicalProcedure,
    label,
)

#: Pain beyond this many months from onset is chronic (guidelines.md 10.8).
CHRONIC_AFTER_MONTHS = 3

#: "Any one suffices" indications: the derived fact is yes when any listed
#: fact is yes, no when every one is a documented no, and not documented
#: otherwise. A documented "no" to some with the rest unknown stays unknown:
#: one of the unknown ones may still hold.
INDICATIONS: dict[str, tuple[str, ...]] = {
    # CPMTG interferential current, patient selection (guidelines.md 2.4, 10.3)
    "interferential_indication": (
        "medication_ineffective",
        "medication_side_effects",
        "substance_abuse_history",
        "postoperative_pain_limits_therapy",
        "unresponsive_to_conservative_care",
    ),
    # 8 CCR 9792.24.1(a)(1) (guidelines.md 4, 10.5)
    "acupuncture_indication": ("pain_medication_reduced_or_not_tolerated", "adjunct_to_rehabilitation"),
}


def add_months(day: _dt.date, months: int) -> _dt.date:
    """`day` moved by whole calendar months, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    # Every month has 28 days: only a later day can need clamping (and the
    # calendar lookup, which is slow enough to show in every decision).
    if day.day <= 28:
        return _dt.date(year, month + 1, day.day)
    return _dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def months_between(start: _dt.date, end: _dt.date) -> float:
    """Calendar months from `start` to `end`, as whole months plus the days left
    over / 32: exact in binary, and always below the next whole month, so
    "at most 6 months" holds on the day six months on and not the day after."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months <= 0:
        return (end - start).days / 32
    anchor = add_months(start, months)
    # `anchor` is in the month of `end`; if it is past `end`, the month before
    # is not (it lies in an earlier month), so one step back is enough.
    if anchor > end:
        months -= 1
        anchor = add_months(start, months)
    return months + (end - anchor).days / 32


def months_since_last_visit(courses: list[PriorTreatment], request_date: _dt.date) -> float | None:
    """Calendar months from the last documented visit of `courses` to the request.

    The last visit is the latest end date. None (not documented) when there is
    no prior course, or when any course has no end date: an undated course may
    have ended later than every dated one. A course that ends after the request
    date is still under way: 0 months."""
    if not courses or any(c.end_date is None for c in courses):
        return None
    last = max(c.end_date for c in courses if c.end_date is not None)
    return 0.0 if last >= request_date else months_between(last, request_date)


def months_words(value: float) -> str:
    months, days = int(value), round((value - int(value)) * 32)
    text = f"{months} month{'s' if months != 1 else ''}"
    return text + (f" and {days} day{'s' if days != 1 else ''}" if days else "")


@dataclass(frozen=True)
class Derived:
    value: str
    # How the value was reached, for the decision. Worded only when a decision
    # shows it (most treatments read none of these facts): a hot path.
    words: Callable[[], str]

    @property
    def note(self) -> str:
        return self.words()


def pain_phase(case: Case) -> Derived:
    if case.pain_phase is not None:
        stated = case.pain_phase.value
        return Derived(stated, lambda: f"Pain phase: {stated} (as stated in the record).")
    start, what = (case.onset_date, "onset") if case.onset_date else (case.date_of_injury, "injury")
    months = months_between(start, case.request_date)
    phase = PainPhase.CHRONIC.value if months >= CHRONIC_AFTER_MONTHS else PainPhase.ACUTE.value

    def words() -> str:
        return (
            f"Pain phase: {phase} (derived: {months_words(months)} from the {what} on {start} to the request; "
            f"chronic from {CHRONIC_AFTER_MONTHS} months)."
        )

    return Derived(phase, words)


def care_stage(case: Case) -> Derived:
    if case.care_stage is not None and case.care_stage is not CareStage.NOT_DOCUMENTED:
        stated = case.care_stage
        return Derived(stated.value, lambda: f"Stage of care: {label(stated)} (as stated in the record).")
    if case.treatment_history:

        def words() -> str:
            kinds = ", ".join(dict.fromkeys(label(c.treatment) for c in case.treatment_history))
            return f"Stage of care: ongoing care (derived: prior treatment is documented: {kinds})."

        return Derived(CareStage.ONGOING_CARE.value, words)
    if case.home_exercise is Documented.YES:
        return Derived(CareStage.ONGOING_CARE.value, lambda: _HOME_PROGRAM)
    return Derived(CareStage.FIRST_EVALUATION.value, lambda: _FIRST_COURSE)


_HOME_PROGRAM = (
    "Stage of care: ongoing care (derived: a home exercise program, active home physical medicine, is under way)."
)
_FIRST_COURSE = (
    "Stage of care: a first course (derived: no prior course of treatment and no home exercise program is "
    "documented)."
)


def postsurgical_period(case: Case) -> Derived:
    surgery = case.surgery
    if surgery is None:
        return _NO_SURGERY
    name = label(surgery.procedure)
    if surgery.procedure is SurgicalProcedure.OTHER:
        # The schedule gives a surgery it does not list no course, whatever the
        # record says of its (presumptive 6-month) period (guidelines.md 5, 10.6).
        ending = ", within its period or not." if surgery.postsurgical_period else "."
        return Derived(PostsurgicalPeriod.NOT_WITHIN.value, lambda: _NOT_LISTED + ending)
    if surgery.postsurgical_period is not None:
        words = "within" if surgery.postsurgical_period == "within" else "not within"
        return Derived(
            surgery.postsurgical_period, lambda: f"Postsurgical period of the {name}: {words} (as stated in the record)."
        )
    period = POSTSURGICAL_PERIOD_MONTHS[surgery.procedure]
    if surgery.date is None:
        return Derived(
            PostsurgicalPeriod.NOT_DOCUMENTED.value,
            lambda: f"The date of the {name} is not documented, so whether the request falls in its "
            f"{period}-month postsurgical period cannot be told.",
        )
    if surgery.date > case.request_date:
        return Derived(
            PostsurgicalPeriod.NOT_WITHIN.value, lambda: f"The {name} is dated after the request ({surgery.date})."
        )
    months = months_between(surgery.date, case.request_date)
    within = months <= period
    return Derived(
        (PostsurgicalPeriod.WITHIN if within else PostsurgicalPeriod.NOT_WITHIN).value,
        lambda: f"Postsurgical period: {'within' if within else 'past'} the {period} months after the {name} "
        f"(derived: {months_words(months)} from the surgery on {surgery.date} to the request).",
    )


_YES, _NO = Documented.YES.value, Documented.NO.value

# The period of a case with no surgery, made once: most cases have none.
_NO_SURGERY = Derived(PostsurgicalPeriod.NOT_WITHIN.value, lambda: "")

_NOT_LISTED = (
    "The surgery is not one the postsurgical schedule lists, so the other MTUS guidelines decide its physical medicine"
)


def indication(case: Case, fact: str) -> Derived:
    names = INDICATIONS[fact]
    # Compared as strings (the answers are str enums): no per-answer str() on
    # this hot path; the words below spell them out only when shown.
    answers = [getattr(case, name) for name in names]
    if _YES in answers:
        value = _YES
    elif all(answer == _NO for answer in answers):
        value = _NO
    else:
        value = NOT_DOCUMENTED

    def words() -> str:
        shown = "; ".join(
            f"{name.replace('_', ' ')}: {str(answer).replace('_', ' ')}" for name, answer in zip(names, answers)
        )
        what = fact.removesuffix("_indication").replace("_", " ")
        return f"Indication for {what}: {value.replace('_', ' ')} (any one suffices: {shown})."

    return Derived(value, words)
