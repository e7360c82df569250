"""Rule packs: the YAML guideline rules, validated before anything uses them.

A pack is a folder with `pack.yaml` (name, version, effective period) and one
or more rule files (`*.yaml`, each a mapping with a `rules:` list). Loading is
all or nothing: every problem in every file is collected and reported with its
file and line, and a pack with any problem is not returned at all.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from .._resources import bundled_rules_dir
from ..case.model import IsoDate
from .conditions import SCOPE_ONLY, Test, parse_tests
from ..errors import KeyedValueError, Problem, RulePackError, problems_from_validation
from ..vocabulary import BodyRegion, DiagnosisGroup, Treatment
from ..yamlio import ParseError, parse, read_text

PACK_FILE = "pack.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Model):
    """When a rule or pack is in force: from `start` through `end` (inclusive)."""

    start: IsoDate
    end: IsoDate | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"effective period ends ({self.end}) before it starts ({self.start})")
        return self

    def contains(self, day: _dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def within(self, other: Period) -> bool:
        return other.start <= self.start and (
            other.end is None or (self.end is not None and self.end <= other.end)
        )

    def __str__(self) -> str:
        return f"{self.start} to {self.end}" if self.end else f"from {self.start}"


_PAGES = re.compile(r"^\d+(-\d+)?$")


#: How a cited fact was confirmed, strongest first. `attested`: adopted by the
#: project lead from the guideline as IMR reviewers routinely quote it, not
#: checked here against a primary copy (shared guideline sheet, section 10);
#: decisions, lint and the coverage table mark it so an adjuster knows which
#: pages to check against their own copy.
ConfirmedBy = Literal["guideline_text", "secondary_summary", "reviewer_quotation", "attested"]


class Citation(_Model):
    """Where a rule's fact comes from, and how that was confirmed."""

    source: Literal["MTUS", "ODG", "statute"] = Field(
        description="MTUS (regulation, presumed correct), ODG (fills gaps the MTUS leaves) or statute "
        "(Labor Code; a legal cap, not a guideline)."
    )
    guideline: StrictStr = Field(min_length=1)
    section: StrictStr = Field(min_length=1)
    pages: StrictStr | None = Field(default=None, description='A page or range, e.g. "58" or "57-59".')
    confirmed_by: ConfirmedBy
    evidence: StrictStr = Field(min_length=1, description="The source that confirms the fact and the page.")

    @field_validator("pages")
    @classmethod
    def _page_range(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not _PAGES.match(value):
            raise ValueError(f'pages must be a page or a range like "57-59", got {value!r}')
        if "-" in value:
            first, last = (int(p) for p in value.split("-"))
            if last < first:
                raise ValueError(f"page range {value!r} ends before it starts")
        return value

    @property
    def attested(self) -> bool:
        return self.confirmed_by == "attested"

    @property
    def page_range(self) -> tuple[int, int] | None:
        if self.pages is None:
            return None
        first, _, last = self.pages.partition("-")
        return int(first), int(last or first)

    def __str__(self) -> str:
        pages = f", p{'p' if '-' in (self.pages or '') else ''}. {self.pages}" if self.pages else ""
        return f"{self.guideline}, {self.section}{pages}"


class AppliesTo(_Model):
    """What a rule is about. A list means "any of these"; an absent key means "any"."""

    treatment: Annotated[list[Treatment], Field(min_length=1)]
    body_region: Annotated[list[BodyRegion], Field(min_length=1)] | None = None
    diagnosis_group: Annotated[list[DiagnosisGroup], Field(min_length=1)] | None = None
    unless_diagnosis_group: Annotated[list[DiagnosisGroup], Field(min_length=1)] | None = Field(
        default=None,
        description="The rule does not apply when any diagnosis bearing on the region is in one of these groups "
        "(e.g. the general physical-medicine count, unless the diagnosis is CRPS).",
    )


class Limit(_Model):
    visits: Annotated[StrictInt, Field(ge=0, le=1000)]
    counts: Literal["total_visits", "visits_requested"] = "total_visits"


Effect = Literal["not_recommended", "limit", "requires", "supports"]

LINT_WARNINGS = ("conflict", "never-applies", "shadowed", "odg-covered", "reviewer-quotation", "attested", "gap")


class LintSettings(_Model):
    """Lint warnings the author has looked at and accepts, each with the reason."""

    accept: dict[
        Literal["conflict", "never-applies", "shadowed", "odg-covered", "reviewer-quotation", "attested"], StrictStr
    ] = Field(
        default_factory=dict
    )


class Rule(_Model):
    """One guideline statement, as data."""

    id: Annotated[StrictStr, Field(pattern=r"^[a-z0-9]+(\.[a-z0-9_]+)+$")]
    title: StrictStr = Field(min_length=1)
    citation: Citation
    question: Annotated[StrictStr, Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")] = Field(
        description="What the rule answers. An MTUS rule governs every ODG rule on the same question."
    )
    applies_to: AppliesTo
    when: dict[str, Any] = Field(default_factory=dict)
    effect: Effect
    limit: Limit | None = None
    requires: dict[str, Any] | None = None
    statement: StrictStr = Field(min_length=1, description="What the guideline says, in our words.")
    fills_gap_in: Citation | None = Field(
        default=None, description="ODG rules: the MTUS section that is silent on this question."
    )
    effective: Period | None = None
    overrides: list[StrictStr] = Field(
        default_factory=list,
        description="Rules this one is an exception to (it fails an item they would support); "
        "declaring it tells lint the overlap is intended.",
    )
    lint: LintSettings = Field(default_factory=LintSettings)

    _conditions: list[Test] = PrivateAttr(default_factory=list)
    _requirement: Test | None = PrivateAttr(default=None)

    @field_validator("statement", "title")
    @classmethod
    def _one_paragraph(cls, value: str) -> str:
        return " ".join(value.split())

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if (self.effect == "limit") != (self.limit is not None):
            raise KeyedValueError("limit", "a rule has a `limit` block exactly when its effect is limit")
        if (self.effect == "requires") != (self.requires is not None):
            raise KeyedValueError("requires", "a rule has a `requires` block exactly when its effect is requires")
        if self.citation.source == "ODG" and self.fills_gap_in is None:
            raise KeyedValueError(
                "fills_gap_in", "an ODG rule must name the MTUS section it fills a gap in (`fills_gap_in`)"
            )
        if self.fills_gap_in is not None and self.fills_gap_in.source != "MTUS":
            raise KeyedValueError(("fills_gap_in", "source"), "`fills_gap_in` must cite an MTUS section")
        conditions = []
        for fact, spec in self.when.items():
            if fact in SCOPE_ONLY:
                raise KeyedValueError(("when", fact), f"'{fact}' is set in applies_to, not in when")
            conditions.extend(_keyed("when", parse_tests, fact, spec))
        self._conditions = conditions
        if self.requires is not None:
            if len(self.requires) != 1:
                raise KeyedValueError("requires", "`requires` names exactly one fact and its test")
            ((fact, spec),) = self.requires.items()
            tests = _keyed("requires", parse_tests, fact, spec)
            if len(tests) != 1:
                raise KeyedValueError(("requires", fact), "`requires` takes exactly one test")
            self._requirement = tests[0]
        return self

    @property
    def conditions(self) -> list[Test]:
        return self._conditions

    @property
    def requirement(self) -> Test | None:
        return self._requirement

    @property
    def source(self) -> str:
        return self.citation.source


def _keyed(block: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except KeyedValueError as exc:
        raise KeyedValueError((block, *exc.key), str(exc)) from None


class RuleFile(_Model):
    rules: Annotated[list[Rule], Field(min_length=1)]


class KnownGap(_Model):
    """Treatment and regions the pack knowingly leaves undecided, and why."""

    treatment: Treatment
    body_region: Annotated[list[BodyRegion], Field(min_length=1)]
    reason: StrictStr = Field(min_length=1)


class PackLintSettings(_Model):
    """Warnings the pack's author accepts for the whole pack, each with the reason.

    Only `attested` is accepted pack-wide: it is a decision about the pack's
    sources (which figures the project adopts), not about one rule. Each
    attested rule is still listed by lint and counted."""

    accept: dict[Literal["attested"], StrictStr] = Field(default_factory=dict)


class PackHeader(_Model):
    name: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    version: Annotated[StrictStr, Field(pattern=r"^\d+\.\d+\.\d+$")]
    title: StrictStr = Field(min_length=1)
    effective: Period
    description: StrictStr | None = None
    known_gaps: list[KnownGap] = Field(default_factory=list)
    lint: PackLintSettings = Field(default_factory=PackLintSettings)


class RulePack(BaseModel):
    """A loaded, validated rule pack. Immutable."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    title: str
    effective: Period
    content_hash: str = Field(description="sha256 of the pack's files, names and bytes.")
    rules: tuple[Rule, ...]
    files: dict[str, str] = Field(description="Rule id -> file it was read from.")
    lines: dict[str, int] = Field(default_factory=dict, description="Rule id -> line of its id.")
    folder: str = ""
    known_gaps: tuple[KnownGap, ...] = ()
    lint_accept: dict[str, str] = Field(default_factory=dict, description="Warnings accepted pack-wide, with the reason.")
    overrides: dict[str, Any] | None = Field(
        default=None, description="What-if changes made to the pack as loaded (limits, disabled rules)."
    )

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def effective_period(self, rule: Rule) -> Period:
        return rule.effective or self.effective

    @property
    def ref(self) -> str:
        return f"{self.name} {self.version} (sha256:{self.content_hash[:12]})"


def _rule_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.name != PACK_FILE)


def content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in [folder / PACK_FILE, *_rule_files(folder)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_pack(folder: str | Path) -> RulePack:
    """Load and validate the pack in `folder`, or raise RulePackError listing every problem."""
    folder = Path(folder)
    problems: list[Problem] = []
    header_file = folder / PACK_FILE
    if not folder.is_dir():
        raise RulePackError([Problem(file=str(folder), message="not a folder (a rule pack is a folder with pack.yaml)")])
    header = None
    try:
        data, lines = parse(read_text(header_file), str(header_file))
        header = PackHeader.model_validate(data if data is not None else {})
    except ParseError as exc:
        problems.append(exc.problem)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, file=str(header_file), lines=lines))

    rules: list[Rule] = []
    origin: dict[str, tuple[str, int | None]] = {}
    files = _rule_files(folder)
    if not files:
        problems.append(Problem(file=str(folder), message="the pack has no rule files (*.yaml besides pack.yaml)"))
    for path in files:
        try:
            data, lines = parse(read_text(path), str(path))
        except ParseError as exc:
            problems.append(exc.problem)
            continue
        if not isinstance(data, dict) or "rules" not in data:
            problems.append(Problem(file=str(path), line=1, message="a rule file is a mapping with a `rules:` list"))
            continue
        try:
            parsed = RuleFile.model_validate(data)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, file=str(path), lines=lines))
            continue
        for index, rule in enumerate(parsed.rules):
            line = lines.get(("rules", index, "id"))
            if rule.id in origin:
                first_file, first_line = origin[rule.id]
                problems.append(
                    Problem(
                        file=str(path),
                        line=line,
                        location=f"rules[{index}].id",
                        message=f"duplicate rule id '{rule.id}' (first defined at {first_file}:{first_line})",
                    )
                )
                continue
            origin[rule.id] = (str(path), line)
            if header is not None and rule.effective is not None and not rule.effective.within(header.effective):
                problems.append(
                    Problem(
                        file=str(path),
                        line=lines.get(("rules", index, "effective"), line),
                        location=f"rules[{index}].effective",
                        message=f"rule period {rule.effective} lies outside the pack period {header.effective}",
                    )
                )
            rules.append(rule)
    for rule in rules:
        for target in rule.overrides:
            if target not in origin:
                file, line = origin[rule.id]
                problems.append(
                    Problem(file=file, line=line, location="overrides", message=f"rule {rule.id} overrides unknown rule '{target}'")
                )
    if problems or header is None:
        raise RulePackError(problems)
    return RulePack(
        name=header.name,
        version=header.version,
        title=header.title,
        effective=header.effective,
        content_hash=content_hash(folder),
        rules=tuple(rules),
        files={rule_id: file for rule_id, (file, _) in origin.items()},
        lines={rule_id: line for rule_id, (_, line) in origin.items() if line is not None},
        folder=str(folder),
        known_gaps=tuple(header.known_gaps),
        lint_accept=dict(header.lint.accept),
    )


def bundled_pack_dirs() -> list[Path]:
    return sorted(p.parent for p in bundled_rules_dir().glob(f"*/{PACK_FILE}"))

