"""Rule packs: the YAML guideline rules, validated before anything uses them.

A pack is a folder with `pack.yaml` (name, version, effective period) and one
or more rule files (`*.yaml`, each a mapping with a `rules:` list). Loading is
all or nothing: every problem in every file is collected and reported with its
file and line, and a pack with any problem is not returned at all.

A rule's `title` and `statement` may name the rule's own numbers by
placeholder: the path of the number in the rule (`{limit.visits}`,
`{when.total_visits.gt}`, or `{when.total_visits}` when the fact has one
numeric test; `{requires.months_since_last_visit}`), rendered with the number
in force, so an edited pack or a what-if (`overrides.override_pack`) states
the number that decided. `{{` and `}}` are literal braces; an unknown
placeholder is a load error naming the file, line and field.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    StrictInt,
    SerializerFunctionWrapHandler,
    StrictStr,
    field_validator,
    model_serializer,
    model_validator,
)

from ..case.model import IsoDate
from .conditions import FACTS, SCOPE_ONLY, Test, parse_tests
from ..errors import KeyedValueError
from ..vocabulary import BodyRegion, DiagnosisGroup, Treatment
from .._model import FrozenModel, StrictModel

PACK_FILE = "pack.yaml"


class Period(StrictModel):
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


class CitedSource(StrictModel):
    """Where a rule's fact comes from, and how that was confirmed: a citation as
    a decision carries it (`Citation` without the author's research note)."""

    source: Literal["MTUS", "ODG", "statute"] = Field(
        description="MTUS (regulation, presumed correct), ODG (fills gaps the MTUS leaves) or statute "
        "(Labor Code; a legal cap, not a guideline)."
    )
    guideline: StrictStr = Field(min_length=1)
    section: StrictStr = Field(min_length=1)
    pages: StrictStr | None = Field(default=None, description='A page or range, e.g. "58" or "57-59".')
    confirmed_by: ConfirmedBy

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


class Citation(CitedSource):
    """A rule's citation, with the research note that confirms it. The note is
    for the pack's authors (lint, coverage, explain); decisions cite the rule
    without it (`cited`)."""

    evidence: StrictStr = Field(min_length=1, description="The source that confirms the fact and the page.")

    def cited(self) -> CitedSource:
        """This citation as a decision carries it, without the research note."""
        return CitedSource.model_validate(self.model_dump(exclude={"evidence"}))


class AppliesTo(StrictModel):
    """What a rule is about. A list means "any of these"; an absent key means "any"."""

    treatment: Annotated[list[Treatment], Field(min_length=1)]
    body_region: Annotated[list[BodyRegion], Field(min_length=1)] | None = None
    diagnosis_group: Annotated[list[DiagnosisGroup], Field(min_length=1)] | None = None
    unless_diagnosis_group: Annotated[list[DiagnosisGroup], Field(min_length=1)] | None = Field(
        default=None,
        description="The rule does not apply when any diagnosis bearing on the region is in one of these groups "
        "(e.g. the general physical-medicine count, unless the diagnosis is CRPS).",
    )


class Limit(StrictModel):
    visits: Annotated[StrictInt, Field(ge=0, le=1000)]
    counts: Literal["total_visits", "visits_requested"] = "total_visits"


Effect = Literal["not_recommended", "limit", "requires", "supports"]


# -- the numbers a rule holds, and placeholders for them in its words ------------

#: `{name}` is a placeholder; `{{` and `}}` are literal braces; a lone brace is an error.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def rule_numbers(limit: Limit | None, conditions: list[Test], requirement: Test | None) -> dict[str, int]:
    """The numbers a rule holds, by the placeholder that names each: the path of
    the number in the rule's YAML (`limit.visits`, `when.total_visits.gt`,
    `requires.months_since_last_visit.ge`), and without the operator when the
    fact has only one numeric test (`when.weeks_requested`)."""
    numbers: dict[str, int] = {}
    if limit is not None:
        numbers["limit.visits"] = limit.visits
    for block, tests in (("when", conditions), ("requires", [requirement] if requirement else [])):
        by_fact: dict[str, list[Test]] = {}
        for test in tests:
            if FACTS[test.fact].kind == "count":
                by_fact.setdefault(test.fact, []).append(test)
        for fact, counted in by_fact.items():
            for test in counted:
                numbers[f"{block}.{fact}.{test.op}"] = test.value
            if len(counted) == 1:
                numbers[f"{block}.{fact}"] = counted[0].value
    return numbers


def render(template: str, numbers: dict[str, int]) -> str:
    """`template` with each placeholder replaced by its number. Raises
    ValueError naming an unknown placeholder or a lone brace."""

    def one(match: re.Match) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name is None:
            raise ValueError(f"a lone '{token}': write '{token * 2}' for a literal brace, or {{name}} for a number of the rule")
        name = name.strip()
        if name not in numbers:
            known = ", ".join("{" + n + "}" for n in numbers) or "none (the rule holds no number)"
            raise ValueError(f"unknown placeholder {{{name}}}; this rule's numbers are {known}")
        return str(numbers[name])

    return _TOKEN.sub(one, template)


def without_placeholders(template: str) -> str:
    """The words of `template` as written, placeholders left out: the text whose
    literal numbers lint checks (a placeholder's number is the rule's own)."""
    return _TOKEN.sub(lambda m: m.group(0)[0] if m.group(0) in ("{{", "}}") else " ", template)


class ChangedNumber(FrozenModel):
    """A number of the rule changed by a what-if (`override_pack`): the
    rationale says so, so no decision states the pack's number as the one used."""

    placeholder: str
    published: int
    in_force: int


class LintSettings(StrictModel):
    """Lint warnings the author has looked at and accepts, each with the reason."""

    accept: dict[
        Literal[
            "conflict", "never-applies", "shadowed", "odg-covered", "reviewer-quotation", "attested", "stated-number"
        ],
        StrictStr,
    ] = Field(default_factory=dict)


class Rule(StrictModel):
    """One guideline statement, as data."""

    id: Annotated[StrictStr, Field(pattern=r"^[a-z0-9]+(\.[a-z0-9_]+)+$")]
    title: StrictStr = Field(
        min_length=1,
        description="The rule in a line, as findings quote it. May name the rule's numbers by placeholder, "
        "e.g. {limit.visits}, so it states the number in force.",
    )
    citation: Citation
    question: Annotated[StrictStr, Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")] = Field(
        description="What the rule answers. An MTUS rule governs every ODG rule on the same question."
    )
    applies_to: AppliesTo
    when: dict[str, Any] = Field(default_factory=dict)
    effect: Effect
    limit: Limit | None = None
    requires: dict[str, Any] | None = None
    statement: StrictStr = Field(
        min_length=1,
        description="What the guideline says, in our words. A number the rule holds may be written as a "
        "placeholder ({limit.visits}, {when.total_visits}, ...; {{ and }} for literal braces); lint fails a "
        "number the rule does not hold.",
    )
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
    _title_text: str = PrivateAttr(default="")
    _statement_text: str = PrivateAttr(default="")
    _what_if: ChangedNumber | None = PrivateAttr(default=None)
    # The properties below read these from __pydantic_private__ directly: through
    # pydantic's __getattr__ a read costs about 5 µs (a failed hasattr on the
    # PrivateAttr), and the engine reads them for every finding it words.

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
        numbers = self.numbers
        for name in ("title", "statement"):
            try:
                text = render(getattr(self, name), numbers)
            except ValueError as exc:
                raise KeyedValueError(name, str(exc)) from None
            setattr(self, f"_{name}_text", text)
        return self

    @property
    def numbers(self) -> dict[str, int]:
        """The numbers this rule holds, by placeholder name (see `rule_numbers`)."""
        return rule_numbers(self.limit, self._conditions, self._requirement)

    @property
    def title_text(self) -> str:
        """The title with its placeholders filled by the numbers in force."""
        return self.__pydantic_private__["_title_text"]  # type: ignore[index]

    @property
    def statement_text(self) -> str:
        """The statement with its placeholders filled by the numbers in force."""
        return self.__pydantic_private__["_statement_text"]  # type: ignore[index]

    @property
    def what_if(self) -> ChangedNumber | None:
        """The number a what-if changed in this rule, if one did."""
        return self.__pydantic_private__["_what_if"]  # type: ignore[index]

    @property
    def conditions(self) -> list[Test]:
        return self.__pydantic_private__["_conditions"]  # type: ignore[index]

    @property
    def requirement(self) -> Test | None:
        return self.__pydantic_private__["_requirement"]  # type: ignore[index]

    @property
    def source(self) -> str:
        return self.citation.source


def _keyed(block: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except KeyedValueError as exc:
        raise KeyedValueError((block, *exc.key), str(exc)) from None


#: The `$schema` line a pack, rule or rule-test file may start with, so an
#: editor finds its JSON Schema (`mtus-rules schema pack|rule-file|rule-test`).
#: Read and ignored: the schema checks nothing the models do not.
SchemaLine = Field(default=None, alias="$schema", description="The JSON Schema of this file, for editors; ignored.")


class RuleFile(StrictModel):
    schema_line: StrictStr | None = SchemaLine
    rules: Annotated[list[Rule], Field(min_length=1)]


class KnownGap(StrictModel):
    """Treatment and regions the pack knowingly leaves undecided, and why."""

    treatment: Treatment
    body_region: Annotated[list[BodyRegion], Field(min_length=1)] | None = Field(
        default=None, description="The regions left undecided; absent: every region (the pack has no rule for the treatment)."
    )
    reason: StrictStr = Field(min_length=1)

    @property
    def regions(self) -> list[BodyRegion]:
        return list(self.body_region) if self.body_region is not None else list(BodyRegion)


class PackLintSettings(StrictModel):
    """Warnings the pack's author accepts for the whole pack, each with the reason.

    Only `attested` is accepted pack-wide: it is a decision about the pack's
    sources (which figures the project adopts), not about one rule. Each
    attested rule is still listed by lint and counted."""

    accept: dict[Literal["attested"], StrictStr] = Field(default_factory=dict)


PackName = Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")]
PackVersion = Annotated[StrictStr, Field(pattern=r"^\d+\.\d+\.\d+$")]


class Extends(StrictModel):
    """The pack an overlay builds on: a pack the engine knows by name and
    version (the bundled packs), or a folder by path, relative to the overlay."""

    pack: PackName | None = Field(default=None, description="Name of a bundled pack, e.g. mtus-2009.")
    version: PackVersion | None = Field(default=None, description="Its version, e.g. 0.2.0 (required with `pack`).")
    path: StrictStr | None = Field(default=None, min_length=1, description="A pack folder, relative to this pack.yaml.")

    @model_validator(mode="after")
    def _one_way(self) -> Extends:
        if (self.path is None) == (self.pack is None):
            raise ValueError("`extends` names a pack either by `pack` and `version` or by `path`, not both or neither")
        if self.pack is not None and self.version is None:
            raise KeyedValueError("version", "`extends` by name needs the `version` of the pack too")
        if self.path is not None and self.version is not None:
            raise KeyedValueError("version", "`extends` by `path` takes no `version` (the folder's pack.yaml has it)")
        return self

    def __str__(self) -> str:
        return f"{self.pack} {self.version}" if self.pack else str(self.path)


class RuleOverride(StrictModel):
    """A base rule the overlay replaces: by the rule of the same id in the
    overlay's rule files, or by the base rule with `set` merged into it."""

    id: StrictStr
    reason: StrictStr = Field(min_length=1, description="Why the overlay departs from the base (kept with the pack).")
    set: dict[str, Any] | None = Field(
        default=None,
        description="Keys of the rule to change, merged into the base rule (mappings key by key, anything else "
        "replaced, null removes a key), e.g. {limit: {visits: 8}}. Without it, a rule file of the overlay "
        "defines the rule with this id.",
    )


class RuleDisable(StrictModel):
    """A base rule the overlay switches off."""

    id: StrictStr
    reason: StrictStr = Field(min_length=1)


class PackHeader(StrictModel):
    schema_line: StrictStr | None = SchemaLine
    name: PackName
    version: PackVersion
    title: StrictStr = Field(min_length=1)
    effective: Period | None = Field(
        default=None, description="When the pack is in force; an overlay inherits its base's unless it narrows it."
    )
    description: StrictStr | None = None
    extends: Extends | None = Field(default=None, description="The pack this one is an overlay on.")
    override: list[RuleOverride] = Field(default_factory=list, description="Base rules the overlay replaces (needs `extends`).")
    disable: list[RuleDisable] = Field(default_factory=list, description="Base rules the overlay switches off (needs `extends`).")
    known_gaps: list[KnownGap] = Field(default_factory=list)
    lint: PackLintSettings = Field(default_factory=PackLintSettings)

    @model_validator(mode="after")
    def _overlay(self) -> PackHeader:
        if self.extends is None:
            if self.effective is None:
                raise KeyedValueError("effective", "required field is missing (only a pack that `extends` another may leave it out)")
            for key in ("override", "disable"):
                if getattr(self, key):
                    raise KeyedValueError(key, f"`{key}` changes the rules of a base pack: it needs `extends`")
        return self


class PackLayer(FrozenModel):
    """One pack of an effective pack made of layers: a base and the overlays
    that extend it, each with the hash of its own files."""

    name: str
    version: str
    content_hash: str


class RulePack(FrozenModel):
    """A loaded, validated rule pack. Immutable. An overlay (a pack.yaml that
    `extends` another) loads as its effective pack: the base's rules with the
    overlay's additions, overrides and disabled rules applied, its `layers`
    naming every pack in it, base first."""

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

    layers: tuple[PackLayer, ...] = Field(
        default=(), description="For an overlay: every pack it is made of, base first, this one last; () for a plain pack."
    )

    @property
    def label(self) -> str:
        """The pack as a title names it: name and version, and for an overlay
        the packs it extends."""
        text = f"{self.name} {self.version}"
        bases = [f"{layer.name} {layer.version}" for layer in self.layers[:-1]]
        return f"{text} (extends {', '.join(reversed(bases))})" if bases else text

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def effective_period(self, rule: Rule) -> Period:
        return rule.effective or self.effective


class PackRef(FrozenModel):
    """The pack that decided, as a decision cites it: what-if overrides included,
    and for an overlay every layer with its own hash."""

    name: str
    version: str
    content_hash: str
    overrides: dict[str, Any] | None = Field(
        default=None, description="What-if changes to the pack as loaded, when there are any."
    )
    layers: list[PackLayer] | None = Field(
        default=None,
        description="An overlay's packs, base first, each with its content hash (the pack's own "
        "content_hash is of them all); absent for a plain pack.",
    )

    @model_serializer(mode="wrap")
    # No return annotation: with one, the JSON Schema of a decision would show
    # PackRef as any object instead of its fields.
    def _layers_only_for_overlays(self, handler: SerializerFunctionWrapHandler):  # noqa: ANN202
        # A plain pack's decisions keep the JSON they always had: no `layers: null`.
        data = handler(self)
        if self.layers is None:
            data.pop("layers", None)
        return data
