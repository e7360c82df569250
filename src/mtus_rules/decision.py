"""The decision model: what the engine says about each requested item, and why."""

from __future__ import annotations

import datetime as _dt
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .pack import Citation
from .vocabulary import BodyRegion, Treatment


class Outcome(str, Enum):
    UPHELD = "upheld"  # the denial stands: not medically necessary
    OVERTURNED = "overturned"  # medically necessary
    NO_APPLICABLE_GUIDELINE = "no_applicable_guideline"  # no rule in force decides it

    def __str__(self) -> str:
        return self.value


FindingKind = Literal[
    "not_recommended",
    "exceeds_limit",
    "criterion_not_met",
    "insufficient_documentation",
    "within_limit",
    "recommended",
    "criterion_met",
    "note",
]

#: Finding kinds that make an item not medically necessary.
FAILING = frozenset({"not_recommended", "exceeds_limit", "criterion_not_met", "insufficient_documentation"})
#: Finding kinds that support an item.
SUPPORTING = frozenset({"within_limit", "recommended"})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Finding(_Model):
    """One fact of this case measured against one rule."""

    kind: FindingKind
    rule: str | None = Field(default=None, description="The rule id; none for notes about the input.")
    body_region: str | None = None
    text: str
    needed: list[str] = Field(
        default_factory=list, description="For insufficient documentation: the information the record lacks."
    )


class Rationale(_Model):
    """The three parts of an IMR rationale."""

    guideline: str = Field(description="What the guideline says.")
    case: str = Field(description="The facts of this case measured against it.")
    conclusion: str

    def __str__(self) -> str:
        return f"{self.guideline}\n{self.case}\n{self.conclusion}"


class ItemDecision(_Model):
    index: int = Field(description="Position of the item in the request, from 0.")
    description: str
    treatment: Treatment
    body_regions: list[BodyRegion | Literal["not_specified"]] = Field(
        description="The regions the item was decided for, one facet each."
    )
    outcome: Outcome
    rules: list[str] = Field(description="The rules that decided the outcome.")
    findings: list[Finding]
    citations: list[Citation]
    rationale: Rationale


class PackRef(_Model):
    name: str
    version: str
    content_hash: str


class Decision(_Model):
    """The decision on one case: one ItemDecision per requested item, in order."""

    case_id: str | None
    request_date: _dt.date
    rule_pack: PackRef | None = Field(description="The pack that decided; none when no pack was in force.")
    library_version: str
    items: list[ItemDecision]
