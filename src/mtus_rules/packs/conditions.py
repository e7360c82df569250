"""The facts a rule may test, and three-valued tests on them.

A test on a fact is true, false, or unknown (the record does not document the
fact). Unknown is never folded into false: a rule whose conditions are unknown
produces an "insufficient documentation" finding instead of silently not
applying. Each test can say which of the three it is, both in plain Python
(`Test.holds`) and as engine conditions (`Test.engine_conditions`), from the one
definition below, so the two cannot drift apart.

Unknown is a range, not a blank. A count the record does not give still has a
known lower bound (prior visits not documented, 12 requested: at least 12 in
all), carried beside it as `<name>_at_least`. A test the lower bound already
settles is settled: "total visits more than 10" is true, "total visits at most
10" is false, and only what the bound leaves open is unknown.

Two kinds of fact are not "documentation" at all and are never unknown: the
request's own frequency, duration and lead count (`stated_only`: a test on one
the request does not state is false, because there is nothing to be over), and
the derived facts, which the engine computes from the case (`derived`).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import KeyedValueError
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

Truth = Literal[True, False, None]  # None: unknown


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


def _choices(enum: type, unknown: str | None = None) -> tuple[str, ...]:
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

OPERATORS = ("is", "is_not", "lt", "le", "gt", "ge", "documented")
_COMPARE = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
_ENGINE_COMPARE = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
_NEGATED = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt"}
_WORDS = {"lt": "less than", "le": "at most", "gt": "more than", "ge": "at least"}

# In the engine's fact, a count that is not documented is sent as its known
# lower bound with `<name>_known: false`; see Test.engine_conditions.
KNOWN_SUFFIX = "_known"
#: Beside a count that is None in a facet's facts: the least it can be.
AT_LEAST_SUFFIX = "_at_least"


@dataclass(frozen=True)
class Test:
    """One test of one fact, e.g. total_visits > 6 or care_stage is ongoing_care."""

    fact: str
    op: str
    value: Any

    # -- plain Python -------------------------------------------------------
    def holds(self, facts: Mapping[str, Any]) -> Truth:
        spec = FACTS[self.fact]
        actual = facts[self.fact]
        if spec.kind == "count":
            if actual is not None:
                return _COMPARE[self.op](actual, self.value)
            if spec.stated_only:
                return False
            # Unknown, but at least `least`: settled when the bound settles it.
            least = facts.get(self.fact + AT_LEAST_SUFFIX, 0)
            if self.op in ("gt", "ge"):
                return True if _COMPARE[self.op](least, self.value) else None
            return None if _COMPARE[self.op](least, self.value) else False
        if self.op == "documented":
            return True if actual != spec.unknown else None
        wanted = self.wanted()
        if actual == spec.unknown and spec.unknown not in wanted:
            return None
        inside = actual in wanted
        return inside if self.op == "is" else not inside

    # -- engine conditions --------------------------------------------------
    def engine_conditions(self) -> tuple[dict | None, dict | None, dict | None]:
        """Engine conditions for (true, false, unknown); None where impossible."""
        spec = FACTS[self.fact]
        if spec.kind == "count":
            # The engine is sent the count, or its lower bound when unknown.
            # A lower bound above the number settles "more than" as true and
            # "at most" as false; only what it leaves open is unknown.
            known, unknown = {self.fact + KNOWN_SUFFIX: True}, {self.fact + KNOWN_SUFFIX: False}
            holds = {_ENGINE_COMPARE[self.op]: {self.fact: self.value}}
            fails = {_ENGINE_COMPARE[_NEGATED[self.op]]: {self.fact: self.value}}
            if spec.stated_only:
                return _all([known, holds]), _all([known, fails]), None
            if self.op in ("gt", "ge"):
                return holds, _all([known, fails]), _all([unknown, fails])
            return _all([known, holds]), fails, _all([unknown, holds])
        unknown = {self.fact: spec.unknown} if spec.unknown is not None else None
        if self.op == "documented":
            return {"$neq": {self.fact: spec.unknown}}, None, unknown
        wanted = self.wanted()
        others = [v for v in spec.values if v not in wanted and v != spec.unknown]
        if spec.unknown in wanted:
            unknown = None
        inside = _any([{self.fact: v} for v in wanted])
        outside = _any([{self.fact: v} for v in others]) if others else None
        if self.op == "is":
            return inside, outside, unknown
        return outside, inside, unknown

    def wanted(self) -> tuple[str, ...]:
        return tuple(self.value) if isinstance(self.value, (list, tuple)) else (self.value,)

    # -- words --------------------------------------------------------------
    def describe(self) -> str:
        spec = FACTS[self.fact]
        if self.op in _WORDS:
            return f"{spec.label} {_WORDS[self.op]} {self.value}"
        if self.op == "documented":
            return f"{spec.label} documented"
        shown = " or ".join(str(v).replace("_", " ") for v in self.wanted())
        return f"{spec.label} {'is' if self.op == 'is' else 'is not'} {shown}"


def parse_tests(fact: str, spec: Any) -> list[Test]:
    """Read one `fact: spec` entry of a rule's `when` or `requires` block.

    Raises ValueError with a message meant for the rule author.
    """
    try:
        return _parse_tests(fact, spec)
    except ValueError as exc:
        raise KeyedValueError(fact, str(exc)) from None


def _parse_tests(fact: str, spec: Any) -> list[Test]:
    if fact not in FACTS:
        raise ValueError(f"unknown fact '{fact}'; known facts: {', '.join(sorted(FACTS))}")
    info = FACTS[fact]
    if not isinstance(spec, dict):
        spec = {"is": spec}
    if not spec:
        raise ValueError(f"'{fact}' needs a test, e.g. {{is: ...}} or {{gt: 6}}")
    tests = []
    for op, value in spec.items():
        if op not in OPERATORS:
            raise ValueError(f"unknown test '{op}' on '{fact}'; use one of {', '.join(OPERATORS)}")
        if info.kind == "count":
            if op not in _COMPARE:
                raise ValueError(f"'{fact}' is a count: use lt, le, gt or ge")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"'{fact}' {op} needs a whole number >= 0, got {value!r}")
        elif op == "documented":
            if value is not True or info.unknown is None:
                raise ValueError(f"'documented' takes true, on a fact that can be undocumented (got {value!r})")
        elif op in _COMPARE:
            raise ValueError(f"'{fact}' is a choice: use is or is_not, not {op}")
        else:
            wanted = value if isinstance(value, list) else [value]
            bad = [v for v in wanted if v not in info.values]
            if not wanted or bad:
                raise ValueError(f"'{fact}' cannot be {bad or value!r}; expected one of {', '.join(info.values)}")
            value = tuple(wanted) if isinstance(value, list) else value
        tests.append(Test(fact, op, value))
    return tests


def all_of(tests: list[Test], facts: Mapping[str, Any]) -> Truth:
    """Three-valued AND: false if any test is false, else unknown if any is unknown."""
    result: Truth = True
    for test in tests:
        truth = test.holds(facts)
        if truth is False:
            return False
        if truth is None:
            result = None
    return result


def engine_all_of(tests: list[Test]) -> tuple[dict | None, dict | None]:
    """Engine conditions for "all true" and for "none false, some unknown"."""
    if not tests:
        return None, None
    parts = [t.engine_conditions() for t in tests]
    true = _all([p[0] for p in parts])
    with_unknown = [p for p in parts if p[2] is not None]
    if not with_unknown:
        return true, None
    none_false = _all([_any([p[0], p[2]]) if p[2] is not None else p[0] for p in parts])
    some_unknown = _any([p[2] for p in with_unknown])
    return true, _all([none_false, some_unknown])


def _all(conds: list[dict | None]) -> dict | None:
    conds = [c for c in conds if c is not None]
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


def _any(conds: list[dict | None]) -> dict | None:
    conds = [c for c in conds if c is not None]
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$or": conds}


def join_all(conds: list[dict | None]) -> dict | None:
    return _all(conds)


def join_any(conds: list[dict | None]) -> dict | None:
    return _any(conds)
