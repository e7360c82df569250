"""The decision model: what the engine says about each requested item, and why."""

from __future__ import annotations

import datetime as _dt
import hashlib
from functools import cached_property
from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

from ..case.model import RfaMapping
from ..evaluation.outcome import Outcome
from ..packs.model import CitedSource, PackRef
from ..vocabulary import BodyRegion, Treatment
from .._model import FrozenModel


# The version of the decision's JSON shape (mtus-rules schema decision). It
# changes only when a field is removed, renamed or changes meaning, so that a
# reader can refuse a shape it does not know; a field added keeps it.
DECISION_FORMAT_VERSION: Final = "1"

FindingKind = Literal[
    "not_recommended",
    "exceeds_limit",
    "exceeds_statutory_cap",
    "criterion_not_met",
    "insufficient_documentation",
    "within_limit",
    "recommended",
    "criterion_met",
    "note",
]

_M = TypeVar("_M", bound=BaseModel)
# The slots every pydantic model instance has (BaseModel.__slots__), set
# through their descriptors: object.__setattr__ looks each one up by name.
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def assembled(cls: type[_M], values: dict[str, Any]) -> _M:
    """A model made from values the engine has already put in the form
    validation gives (members for enums, lists for lists, models for models),
    with every field given, in field order: what `cls(**values)` returns,
    without checking again. The engine makes several of these per requested
    item, where validation is a large share of the time and `model_construct`
    (a Python loop over the fields) costs more than validating. It sets what
    `model_construct` sets; tests/evaluation/test_memo_keys.py holds the result equal to
    the validated model. Only for models without private attributes, extras
    or a post-init hook (the decision models).
    """
    made = _new(cls)
    _set_dict(made, values)
    _set_fields_set(made, set(values))
    _set_extra(made, None)
    _set_private(made, None)
    return made


class Finding(FrozenModel):
    """One fact of this case measured against one rule."""

    kind: FindingKind
    rule: str | None = Field(default=None, description="The rule id; none for notes about the input.")
    body_region: str | None = None
    text: str
    needed: tuple[str, ...] = Field(
        default=(), description="For insufficient documentation: the information the record lacks."
    )


class Rationale(FrozenModel):
    """The three parts of an IMR rationale."""

    guideline: str = Field(description="What the guideline says.")
    case: str = Field(description="The facts of this case measured against it.")
    conclusion: str

    def __str__(self) -> str:
        return f"{self.guideline}\n{self.case}\n{self.conclusion}"


class Change(FrozenModel):
    """One fact set differently from the case as it stands."""

    fact: str = Field(description="The fact (see conditions.FACTS), or exclude_body_region.")
    value: str | int
    text: str


class Alternative(FrozenModel):
    """Changes that, together, would make an upheld item medically necessary."""

    changes: list[Change]
    rules: list[str] = Field(description="The rules that upheld the item and that these changes answer.")
    text: str


class WhatIf(FrozenModel):
    """What the rules would support for an item, computed by re-deciding it with
    its facts varied where the rules can tell a difference."""

    supported_visits: int | None = Field(
        description="The most visits the rules support for this item as the case stands: 0 when none, "
        "None when no rule sets an upper bound."
    )
    alternatives: list[Alternative] = Field(
        description="For an upheld item: sets of changes that would make it medically necessary; "
        "empty when no change of the facts the rules read would."
    )


# A decision's JSON always has every key (None stays null): its schema says so,
# so that a reader can rely on a key being there (mtus-rules schema decision).
_EVERY_KEY = ConfigDict(json_schema_serialization_defaults_required=True)


class ItemDecision(FrozenModel):
    model_config = _EVERY_KEY

    index: int = Field(description="Position of the item in the request, from 0.")
    description: str
    treatment: Treatment
    body_regions: list[BodyRegion | Literal["not_specified"]] = Field(
        description="The regions the item was decided for, one facet each."
    )
    outcome: Outcome
    rules: list[str] = Field(description="The rules that decided the outcome.")
    findings: list[Finding]
    citations: list[CitedSource] = Field(
        description="Where the deciding rules' facts come from; the authors' research notes stay on the rules."
    )
    rationale: Rationale
    rfa: RfaMapping | None = Field(default=None, description="How the item was read from an RFA line, if it was.")
    what_if: WhatIf | None = Field(
        default=None, description="What the rules would support; present when asked for (evaluate(what_if=True))."
    )

    def _repr_html_(self) -> str:  # Jupyter's rich display
        from .render import item_html

        return item_html(self)


#: What a decision's id does not digest (Decision.decision_id).
_NOT_IN_ID: Final[dict[str, Any]] = {"backend": True, "decision_id": True, "items": {"__all__": {"what_if"}}}


def _digest(said: str) -> str:
    # In a UUID's form (str(uuid.UUID(bytes=digest[:16]))), as the log's ids
    # were before, for whoever parses them; written out, as the UUID class
    # took a fifth of the id's time. tests/integration/test_audit.py holds the two equal.
    h = hashlib.sha256(said.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def decision_json(decision: Decision) -> str:
    """`decision.model_dump_json()`, with the id digested from the same text
    instead of a second serialization (a batch row's largest single cost).

    The id's text is the decision's JSON without the backend and the items'
    what-if; when no item carries a what-if, those are spans of this text at
    known places: the backend follows the library version, and each item's
    `"what_if":null` is the only such key in the items (no model below an item
    has free keys, and quotes inside texts are escaped). Anything else, or any
    count that does not add up, takes model_dump_json; tests hold the two
    equal (tests/explanation/test_decision_json.py)."""
    known = decision.__dict__.get("decision_id")
    if known is None and decision.backend is not None and all(item.what_if is None for item in decision.items):
        text = decision.model_dump_json(exclude=_ID_ONLY)
        version, backend = f',"library_version":"{decision.library_version}"', f',"backend":"{decision.backend}"'
        start = text.find(f'{version}{backend},"diagnosis_code_sets":[')
        items = text.find('],"items":[', start)
        if start >= 0 and items >= 0 and text.endswith("]}"):
            cut = start + len(version)
            said = text[:cut] + text[cut + len(backend) : items] + text[items:].replace(',"what_if":null', "")
            if len(said) == len(text) - len(backend) - len(decision.items) * len(',"what_if":null'):
                digest = _digest(said)
                decision.__dict__["decision_id"] = digest  # as the cached property would keep it
                return f'{text[:-1]},"decision_id":"{digest}"}}'
    return decision.model_dump_json()


_ID_ONLY: Final[set[str]] = {"decision_id"}


class Decision(FrozenModel):
    """The decision on one case: one ItemDecision per requested item, in order."""

    model_config = _EVERY_KEY

    format_version: Literal["1"] = Field(
        default=DECISION_FORMAT_VERSION,
        description="The version of this JSON shape; the same in the API, the command line, batch rows and the server.",
    )
    case_id: str | None
    request_date: _dt.date
    rule_pack: PackRef | None = Field(description="The pack that decided; none when no pack was in force.")
    library_version: str
    backend: Literal["durable_rules", "python"] | None = Field(
        default=None,
        description="The matcher that decided the rules' conditions (the two give the same answers); "
        "none in decisions recorded before it was stated.",
    )
    diagnosis_code_sets: list[str] = Field(
        default_factory=list,
        description="The code sets, with their release, the case's diagnosis codes were checked and read in "
        "(ICD-9-CM before 2015-10-01, ICD-10-CM from then); empty when the case gives no diagnosis code.",
    )
    items: list[ItemDecision]

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def decision_id(self) -> str:
        """The decision's id: a digest of everything it decides and says, but not
        the backend (both give the same decision) nor the what-if advice (asking
        for it does not change the decision). The same case decided by the same
        pack and library version has the same id, so decisions stay
        deterministic and comparable; the decision log records it, so a returned
        decision finds its audit records (each record also has its own record_id)."""
        return _digest(self.model_dump_json(exclude=_NOT_IN_ID))

    def _repr_html_(self) -> str:  # Jupyter's rich display
        from .render import decision_html

        return decision_html(self)
