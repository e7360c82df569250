"""Cases given as Request for Authorization lines, with codes and free text.

Claims systems send RFA lines: a diagnosis with its code (ICD-10-CM, or
ICD-9-CM on a request dated before 2015-10-01: see codes.py), a service
with its CPT/HCPCS code, and frequency, duration and quantity as written. An
RFA-shaped case has `rfa_lines` instead of `requested_items`; each line is
read into a requested item (and its diagnosis) through the code tables and the
quantity parser, and the item keeps how it was read (`RequestedItem.rfa`), so
the decision shows the mapping for a reviewer to check. Every line's problems
are reported at once, at `rfa_lines[i].<field>`.

A quantity column holding a bare number ("8") is a count of visits, as the DWC
form is filled; zero, negative, fractional or over-large counts are refused at
that column. (In free text elsewhere a bare number stays ambiguous: visits or
weeks.)
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, StrictInt, StrictStr, ValidationError, model_validator

from .._model import StrictModel
from .model import Case, CaseFacts, Diagnosis, RequestedItem, RfaMapping, Visits
from .codes import (
    ICD9CM,
    ICD10_FROM,
    CodeError,
    InvalidCodeError,
    UnmappedCodeError,
    bundled_code_tables,
    checked_icd9,
    checked_icd10,
    wrong_code_set,
)
from ..errors import CaseError, Problem, dotted, nearest_line, problems_from_validation
from .quantity import QuantityError, parse_quantity
from .quantity_fields import parse_quantity_field
from ..vocabulary import NOT_SPECIFIED, BodyRegion, DiagnosisGroup, Purpose


#: A quantity column holding only a number (whole or not, signed or not): a
#: count of visits, refused with the count's own reason when it is not one.
_NUMBER_ONLY = re.compile(r"^\s*[-\u2212]?\s*[0-9][0-9,.]*\s*$")

#: Words that make a count one of sessions (or give the hours beside them).
_SESSIONS_NAMED = re.compile(r"\b(?:sessions?|visits?|days?|treatments?|hours?|hrs?)\b", re.IGNORECASE)


class RfaLine(StrictModel):
    """One line of a Request for Authorization."""

    diagnosis: StrictStr | None = Field(default=None, description="The diagnosis as written.")
    icd10: StrictStr | None = Field(default=None, min_length=1, description="ICD-10-CM code of the diagnosis.")
    icd9: StrictStr | None = Field(
        default=None, min_length=1, description="ICD-9-CM code of the diagnosis, for a request dated before 2015-10-01."
    )
    service: StrictStr = Field(min_length=1, description="The service as written; it resolves codes with several meanings.")
    code: StrictStr = Field(min_length=1, description="CPT or HCPCS code.")
    frequency: StrictStr | None = None
    duration: StrictStr | None = None
    quantity: StrictStr | None = None
    body_regions: Annotated[list[BodyRegion], Field(min_length=1)] | None = Field(
        default=None, description="The regions the service names, when the diagnosis code does not fix them."
    )
    diagnosis_group: DiagnosisGroup | None = Field(
        default=None, description="For a diagnosis code the table does not map."
    )
    purpose: Purpose = Purpose.COURSE_OF_TREATMENT
    device_leads: Annotated[StrictInt, Field(ge=1, le=16)] | None = Field(
        default=None,
        description="For a stimulation unit: the number of leads requested. A code that fixes it (E0720, E0730) "
        "gives it when the line does not; a number the code cannot mean is an error.",
    )

    @model_validator(mode="after")
    def _one_code(self) -> RfaLine:
        if (self.icd10 is None) == (self.icd9 is None):
            raise ValueError(
                f"give the diagnosis code once: icd10, or icd9 for a request dated before {ICD10_FROM}"
                + (" (both are given)" if self.icd10 is not None else "")
            )
        return self


class RfaCase(CaseFacts):
    """A case whose disputed items are RFA lines."""

    rfa_lines: Annotated[list[RfaLine], Field(min_length=1)]


def parse_rfa_case(data: dict, *, file: str | None = None, lines: dict | None = None) -> Case:
    """Validate an RFA-shaped case and read its lines into a Case."""
    try:
        rfa = RfaCase.model_validate(data)
    except ValidationError as exc:
        raise CaseError(problems_from_validation(exc, file=file, lines=lines)) from None
    try:
        return _read_lines(rfa, file, lines)
    except ValidationError as exc:
        # A line that validates as written can still make an invalid item or
        # diagnosis once read (the models are stricter than the RFA line); that
        # is the caller's input, so it is a CaseError, never a raw ValidationError.
        raise CaseError(problems_from_validation(exc, file=file, lines=lines, prefix=("rfa_lines",))) from None


def _read_lines(rfa: RfaCase, file: str | None, lines: dict | None) -> Case:
    tables = bundled_code_tables()
    problems: list[Problem] = []
    items: list[RequestedItem] = []
    diagnoses = list(rfa.diagnoses)

    def problem(index: int, field: str, message: str) -> None:
        loc = ("rfa_lines", index, field)
        problems.append(
            Problem(file=file, line=nearest_line(lines, loc) if lines else None, location=dotted(loc), message=message)
        )

    for index, line in enumerate(rfa.rfa_lines):
        treatment = resolved_by = entry = None
        leads = line.device_leads
        try:
            entry = tables.procedure(line.code)
            treatment = tables.treatment_for(line.code, line.service)
            resolved_by = "code" if len(entry.treatments) == 1 else "wording"
            if leads is None:
                leads = entry.device_leads
            elif not entry.leads_agree(leads):
                more = " or more" if entry.device_leads_or_more else ""
                problem(
                    index, "device_leads",
                    f"the line asks for {leads} leads, but code {entry.code} is a unit with {entry.device_leads}{more}",
                )
        except CodeError as exc:
            problem(index, "code", str(exc))
        regions: list[str] = []
        group = line.diagnosis_group
        field = "icd9" if line.icd9 is not None else "icd10"
        code: str = line.icd9 if line.icd9 is not None else line.icd10  # type: ignore[assignment]
        try:
            # Recorded normalized: "s33.5xxa" as "S33.5XXA", "7242" as "724.2".
            if field == "icd9":
                code = checked_icd9(code)
                reason = wrong_code_set(ICD9CM, rfa.request_date)
                if reason:
                    raise InvalidCodeError(code, f"{code} is an {ICD9CM} code; {reason}")
                found_regions, found_group = tables.diagnosis_for_icd9(code)
            else:
                code = checked_icd10(code)
                found_regions, found_group = tables.diagnosis_for(code)
            regions = [r.value for r in found_regions]
            group = group or found_group
        except CodeError as exc:
            # A real code the table does not map is usable when the line says
            # what the table would have; a code that does not exist never is.
            if not (isinstance(exc, UnmappedCodeError) and line.body_regions):
                problem(index, field, str(exc))
        texts = [t for t in (line.frequency, line.duration, line.quantity) if t and t.strip()]
        quantity: Any = NOT_SPECIFIED
        if texts:
            # One text field is read as a whole ("two times three", "2x/wk x 6");
            # separate fields are combined and must agree.
            given = [f for f in ("frequency", "duration", "quantity") if (getattr(line, f) or "").strip()]
            try:
                if given == ["quantity"] and _NUMBER_ONLY.match(line.quantity or ""):
                    # The DWC RFA form's quantity column holds a count of
                    # visits: "8" there is 8 visits, read (and held to the
                    # bounds of a count) by the quantity-field reader.
                    quantity = parse_quantity_field(None, None, line.quantity)
                elif len(given) == 1:
                    quantity = parse_quantity(getattr(line, given[0]))
                else:
                    quantity = parse_quantity_field(line.frequency, line.duration, line.quantity)
            except QuantityError as exc:
                problem(index, given[0] if len(given) == 1 else "quantity", str(exc))
            else:
                if entry is not None and entry.billed_per_hour and isinstance(quantity, Visits) and not any(
                    _SESSIONS_NAMED.search(t) for t in texts
                ):
                    problem(
                        index, given[0] if len(given) == 1 else "quantity",
                        f"code {entry.code} is billed per hour, so the count {'; '.join(texts)!r} may be hours, not "
                        "sessions: name the sessions (e.g. '10 sessions x 4 hours', or '5x/week for 2 weeks, 6 hours "
                        "a day')",
                    )
        if treatment is None or any(p.location.startswith(f"rfa_lines[{index}]") for p in problems):
            continue
        item_regions = [r.value for r in line.body_regions] if line.body_regions else (regions or NOT_SPECIFIED)
        diagnosis = Diagnosis(
            description=line.diagnosis or code, **{field: code},
            body_regions=regions or [r.value for r in line.body_regions or []], group=group,
        )
        if all((d.icd10, d.icd9) != (diagnosis.icd10, diagnosis.icd9) for d in diagnoses):
            diagnoses.append(diagnosis)
        mapping = RfaMapping(
            line=index,
            code=line.code,
            treatment=treatment,
            resolved_by=resolved_by,
            icd10=code if field == "icd10" else None,
            icd9=code if field == "icd9" else None,
            diagnosis_regions=regions,
            diagnosis_group=group,
            quantity_text="; ".join(texts) or None,
            visits=None if quantity == NOT_SPECIFIED else quantity.total,
            device_leads=leads,
        )
        items.append(
            RequestedItem(
                description=line.service, treatment=treatment, body_regions=item_regions, quantity=quantity,
                purpose=line.purpose, device_leads=leads, rfa=mapping,
            )
        )
    if problems:
        raise CaseError(problems)
    facts = rfa.model_dump(exclude={"rfa_lines", "diagnoses"})
    return Case.model_validate({**facts, "diagnoses": diagnoses, "requested_items": items})

