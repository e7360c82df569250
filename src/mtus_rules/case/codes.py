"""Billing code tables: CPT/HCPCS procedure codes and ICD-10-CM and ICD-9-CM
diagnosis codes mapped onto the vocabulary, as data (`rules/codes/*.yaml`).

Claims systems send codes, not our treatment names. These tables translate
them, and never guess:

- `treatment_for(code, wording)` gives the one treatment a procedure code
  stands for. A code that can mean several (97140 manual therapy, 97014
  electrical stimulation) is settled only by the item's own wording, using the
  words the table lists for the code (`resolve_by_wording`); otherwise it raises
  `AmbiguousCodeError` naming the candidates.
- `diagnosis_for(icd10)` gives the body regions and diagnosis group of an
  ICD-10-CM code by the longest prefix in the table. A code that does not exist
  in ICD-10-CM raises `InvalidCodeError`; one that exists but is not in the
  table raises `UnmappedCodeError`.

Diagnosis codes come in the code set in force on the request date: ICD-9-CM
before 2015-10-01 (`ICD10_FROM`), ICD-10-CM from then. `diagnosis_for_icd9`
maps an ICD-9-CM code like `diagnosis_for` (table `diagnoses-icd9.yaml`), and
validity is checked against the last ICD-9-CM release, CMS version 32, shipped
as `icd9cm.tsv` (scripts/icd9cm_table.py says where it comes from). An ICD-9-CM
code on a request dated from 2015-10-01 is refused (`wrong_code_set`); an
ICD-10-CM code on an earlier request is read as given (records re-coded since).

The tables are validated when they load (unknown fields, treatments, regions
and groups, duplicate codes and prefixes), and every problem is reported as a
`RulePackError` with its file and line, like a rule pack.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, StrictInt, StrictStr, ValidationError, field_validator, model_validator

from .._resources import bundled_rules_dir
from ..errors import (  # the code errors are raised here; importable from here as before
    AmbiguousCodeError,
    CodeError,
    InvalidCodeError,
    MtusRulesError,
    Problem,
    RulePackError,
    UnmappedCodeError,
    problems_from_validation,
)
from ..vocabulary import ICD10_PATTERN, BodyRegion, DiagnosisGroup, Treatment
from ..yamlio import Lines, ParseError, read_file
from .._model import StrictModel

CODES_DIR = "codes"
PROCEDURES_FILE = "procedures.yaml"
DIAGNOSES_FILE = "diagnoses.yaml"
ICD9_DIAGNOSES_FILE = "diagnoses-icd9.yaml"
ICD9_CODE_SET_FILE = "icd9cm.tsv"

#: ICD-10-CM replaced ICD-9-CM for services on and after this day (HHS final
#: rule, 45 CFR 162.1002, as delayed to 2015-10-01).
ICD10_FROM = _dt.date(2015, 10, 1)
ICD9CM = "ICD-9-CM"
ICD10CM = "ICD-10-CM"
#: The ICD-9-CM release the codes are checked against: the last one (ICD-9-CM
#: was frozen after it), so it holds every code a request before 2015-10-01 can use.
ICD9CM_VERSION = "ICD-9-CM CMS version 32 (FY2015)"
#: Where an ICD-9-CM code given as ICD-10-CM belongs.
ICD9_GOES = f"ICD-9-CM codes go in icd9, and only on requests dated before {ICD10_FROM}"

#: CPT (five digits; Category II/III end in F/T, PLA codes in U) or HCPCS Level II
#: (a letter A-V and four digits).
_PROCEDURE_CODE = re.compile(r"^(?:\d{4}[0-9FTU]|[A-V]\d{4})$")
#: ICD-10-CM: letter, digit, letter or digit, then up to four more after the dot.
_ICD10_CODE = re.compile(ICD10_PATTERN)
#: ICD-9-CM diagnosis: three digits, V and two digits, or E and three digits,
#: then up to two (E codes: one) after the dot.
ICD9_PATTERN = r"^(?:[0-9]{3}(?:\.?[0-9]{1,2})?|V[0-9]{2}(?:\.?[0-9]{1,2})?|E[0-9]{3}(?:\.?[0-9])?)$"
_ICD9_CODE = re.compile(ICD9_PATTERN)


# --------------------------------------------------------------------------- errors


# --------------------------------------------------------------------------- code formats


def normalize_procedure_code(code: str) -> str:
    """The code in upper case without surrounding spaces; InvalidCodeError when
    it is not shaped like a CPT or HCPCS code."""
    if not isinstance(code, str):
        raise InvalidCodeError(str(code), f"a procedure code is text such as '97140', got {code!r}")
    text = code.strip().upper()
    if not _PROCEDURE_CODE.match(text):
        raise InvalidCodeError(text, f"{code!r} is not a CPT or HCPCS code (five digits, or a letter and four digits)")
    return text


def normalize_icd10(code: str) -> str:
    """The ICD-10-CM code in upper case with its dot ('m5126' -> 'M51.26');
    InvalidCodeError when it is not shaped like one."""
    if not isinstance(code, str):
        raise InvalidCodeError(str(code), f"an ICD-10-CM code is text such as 'M51.26', got {code!r}")
    text = code.strip().upper()
    if not _ICD10_CODE.match(text):
        raise InvalidCodeError(
            text, f"{code!r} is not an ICD-10-CM code (a letter, a digit, a letter or digit, then up to four more after a dot, e.g. M51.26)"
        )
    bare = text.replace(".", "")
    return bare if len(bare) == 3 else f"{bare[:3]}.{bare[3:]}"


def icd10cm_exists(code: str) -> bool:
    """Whether `code` (well-formed, dotted) is a category, subcategory or code of
    the ICD-10-CM code set shipped by the `simple-icd-10-cm` package.

    The package parses its data on first import (about 1.5 s), so it is imported
    here, on first use, and only here."""
    return _icd10cm().is_valid_item(code)


def code_set_release(code_set: str) -> str:
    """The code set with the release its codes are checked against."""
    return ICD9CM_VERSION if code_set == ICD9CM else icd10cm_version()


@lru_cache(maxsize=1)
def icd10cm_version() -> str:
    """The ICD-10-CM release the codes are checked against, and the package that ships it."""
    from importlib import metadata
    from importlib.resources import files

    package = "simple-icd-10-cm"
    releases = sorted(p.name for p in files("simple_icd_10_cm").joinpath("data").iterdir() if p.name.startswith("code-list-"))
    release = releases[-1].removeprefix("code-list-").removesuffix(".txt").replace("-", " ") if releases else "release unknown"
    return f"{ICD10CM} {release} ({package} {metadata.version(package)})"


def checked_icd10(code: str) -> str:
    """The ICD-10-CM code normalized ('m5126' -> 'M51.26'), or InvalidCodeError
    when it is malformed or not in ICD-10-CM. One check for every place a code
    is given (a case's diagnoses, RFA lines)."""
    if is_icd9_not_icd10(code):
        raise InvalidCodeError(code.strip(), f"{code.strip()} is an {ICD9CM} code, not an {ICD10CM} code: {ICD9_GOES}")
    normal = normalize_icd10(code)
    if not icd10cm_exists(normal):
        raise InvalidCodeError(normal, f"{normal} is not a code of {ICD10CM}")
    return normal


# --------------------------------------------------------------------------- ICD-9-CM


def looks_icd9(code: str) -> bool:
    """Whether `code` is shaped like an ICD-9-CM diagnosis code. Only V and E
    codes can also be ICD-10-CM shaped; a code starting with a digit is ICD-9."""
    return isinstance(code, str) and bool(_ICD9_CODE.match(code.strip().upper()))


def is_icd9_not_icd10(code: Any) -> bool:
    """Whether `code` is a code of ICD-9-CM that cannot be an ICD-10-CM code
    (given where an ICD-10-CM code belongs, it gets a message saying so)."""
    if not isinstance(code, str) or not looks_icd9(code) or _ICD10_CODE.match(code.strip().upper()):
        return False
    return normalize_icd9(code).replace(".", "") in _icd9cm()


def normalize_icd9(code: str) -> str:
    """The ICD-9-CM code in upper case with its dot ('7242' -> '724.2',
    'e8490' -> 'E849.0'); InvalidCodeError when it is not shaped like one."""
    if not isinstance(code, str):
        raise InvalidCodeError(str(code), f"an {ICD9CM} code is text such as '724.2', got {code!r}")
    text = code.strip().upper()
    if not _ICD9_CODE.match(text):
        hint = f": it is shaped like an {ICD10CM} code; give it as icd10" if _ICD10_CODE.match(text) else ""
        raise InvalidCodeError(
            text, f"{code!r} is not an {ICD9CM} code (three digits, V and two digits or E and three digits, "
            f"then the digits after the dot, e.g. 724.2){hint}"
        )
    bare = text.replace(".", "")
    head = 4 if bare.startswith("E") else 3
    return bare if len(bare) == head else f"{bare[:head]}.{bare[head:]}"


def checked_icd9(code: str) -> str:
    """The ICD-9-CM code normalized, or InvalidCodeError when it is malformed or
    not in ICD-9-CM (a billable code, or a category or subcategory of one)."""
    normal = normalize_icd9(code)
    if normal.replace(".", "") not in _icd9cm():
        raise InvalidCodeError(normal, f"{normal} is not a code of {ICD9CM} (checked against {ICD9CM_VERSION})")
    return normal


def wrong_code_set(code_set: str, day: _dt.date) -> str | None:
    """Why a code of `code_set` cannot be read on a request dated `day`, or None."""
    if code_set == ICD9CM and day >= ICD10_FROM:
        return f"requests dated from {ICD10_FROM} use {ICD10CM} (this one is dated {day})"
    return None


@lru_cache(maxsize=1)
def _icd9cm() -> frozenset[str]:
    """Every ICD-9-CM diagnosis code (no dot), with the categories and
    subcategories the billable codes extend."""
    path = default_codes_dir() / ICD9_CODE_SET_FILE
    codes: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        code = line.partition("\t")[0]
        head = 4 if code.startswith("E") else 3
        codes.update(code[:n] for n in range(head, len(code) + 1))
    return frozenset(codes)


@lru_cache(maxsize=1)
def _icd10cm() -> Any:
    try:
        # Python's import lock makes the first (slow) load happen once. The
        # package reads its data with importlib.resources calls that newer
        # Pythons deprecate; that is its business, not the caller's.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import simple_icd_10_cm
    except ModuleNotFoundError as exc:  # pragma: no cover - a declared dependency
        raise ModuleNotFoundError(
            "checking ICD-10-CM codes needs the simple-icd-10-cm package (pip install simple-icd-10-cm)"
        ) from exc
    return simple_icd_10_cm


# --------------------------------------------------------------------------- wording


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _named_treatments(wording: str, words: dict[Treatment, list[str]]) -> list[Treatment]:
    """The treatments whose words occur in `wording`, as whole words. A match
    inside a longer match (of any treatment) does not count."""
    text = _words(wording)
    matches: list[tuple[int, int, Treatment]] = []
    for treatment, phrases in words.items():
        for phrase in phrases:
            pattern = r"(?<![a-z0-9])" + re.escape(_words(phrase)) + r"(?![a-z0-9])"
            matches.extend((m.start(), m.end(), treatment) for m in re.finditer(pattern, text))
    kept = [
        (s, e, t)
        for s, e, t in matches
        if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in matches)
    ]
    return sorted({t for _, _, t in kept}, key=list(words).index)


# --------------------------------------------------------------------------- models


def _quoted(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"write the code in quotes ('{value}'): unquoted, YAML reads it as a number")
    return value


class ProcedureEntry(StrictModel):
    code: StrictStr
    treatments: Annotated[list[Treatment], Field(min_length=1)]
    description: StrictStr = Field(min_length=1)
    resolve_by_wording: dict[Treatment, Annotated[list[StrictStr], Field(min_length=1)]] | None = None
    #: The number of leads of a stimulation unit, when the code fixes it (the
    #: same bounds as a requested item's `device_leads`); with
    #: `device_leads_or_more`, the least number the code means ("four or more").
    device_leads: Annotated[StrictInt, Field(ge=1, le=16)] | None = None
    device_leads_or_more: bool = False
    #: The code is billed per hour (97546): a bare count on its line may be
    #: hours, not sessions, so an RFA line must say which.
    billed_per_hour: bool = False

    @field_validator("code", mode="before")
    @classmethod
    def _not_a_number(cls, value: Any) -> Any:
        return _quoted(value)

    @field_validator("code")
    @classmethod
    def _procedure_code(cls, value: str) -> str:
        if not _PROCEDURE_CODE.match(value):
            raise ValueError(f"{value!r} is not a CPT or HCPCS code (five digits, or a letter and four digits)")
        return value

    @field_validator("treatments")
    @classmethod
    def _distinct(cls, value: list[Treatment]) -> list[Treatment]:
        if len(set(value)) != len(value):
            raise ValueError("a treatment is listed twice")
        return value

    @model_validator(mode="after")
    def _leads(self) -> ProcedureEntry:
        if self.device_leads_or_more and self.device_leads is None:
            raise ValueError("device_leads_or_more needs device_leads (the least number of leads)")
        return self

    def leads_agree(self, stated: int) -> bool:
        """Whether a stated number of leads is one this code can mean (any,
        when the code fixes none)."""
        if self.device_leads is None:
            return True
        return stated >= self.device_leads if self.device_leads_or_more else stated == self.device_leads

    @model_validator(mode="after")
    def _wording(self) -> ProcedureEntry:
        if self.resolve_by_wording is None:
            return self
        if len(self.treatments) == 1:
            raise ValueError("resolve_by_wording is only for codes with several treatments")
        stray = [str(t) for t in self.resolve_by_wording if t not in self.treatments]
        if stray:
            raise ValueError(f"resolve_by_wording names treatments the code does not map to: {', '.join(stray)}")
        owner: dict[str, Treatment] = {}
        for treatment, phrases in self.resolve_by_wording.items():
            for phrase in phrases:
                key = _words(phrase)
                if not key:
                    raise ValueError(f"the wording {phrase!r} has no letters or digits")
                if owner.get(key, treatment) != treatment:
                    raise ValueError(f"the wording {phrase!r} is listed for both {owner[key]} and {treatment}")
                owner[key] = treatment
        return self


class DiagnosisEntry(StrictModel):
    prefix: StrictStr
    body_regions: list[BodyRegion]
    group: DiagnosisGroup | None = None
    description: StrictStr = Field(min_length=1)

    @field_validator("prefix")
    @classmethod
    def _icd10_prefix(cls, value: str) -> str:
        if not _ICD10_CODE.match(value) or (len(value) > 3 and value[3] != "."):
            raise ValueError(f"{value!r} is not an ICD-10-CM code written with its dot (e.g. 'M51.26')")
        return value

    @field_validator("body_regions")
    @classmethod
    def _distinct(cls, value: list[BodyRegion]) -> list[BodyRegion]:
        if len(set(value)) != len(value):
            raise ValueError("a body region is listed twice")
        return value


class Icd9DiagnosisEntry(DiagnosisEntry):
    """A row of the ICD-9-CM table: the same, with an ICD-9-CM prefix."""

    @field_validator("prefix")
    @classmethod
    def _icd10_prefix(cls, value: str) -> str:  # the parent's check, replaced
        if not _ICD9_CODE.match(value) or value != normalize_icd9(value):
            raise ValueError(f"{value!r} is not an ICD-9-CM code written with its dot (e.g. '724.2')")
        if value.replace(".", "") not in _icd9cm():
            raise ValueError(f"{value} is not a code of {ICD9CM} (checked against {ICD9CM_VERSION})")
        return value


_VERSION = Annotated[StrictStr, Field(pattern=r"^\d+\.\d+\.\d+$")]


class ProcedureTable(StrictModel):
    version: _VERSION
    procedures: Annotated[list[ProcedureEntry], Field(min_length=1)]


class DiagnosisTable(StrictModel):
    version: _VERSION
    diagnoses: Annotated[list[DiagnosisEntry], Field(min_length=1)]


class Icd9DiagnosisTable(StrictModel):
    version: _VERSION
    diagnoses: Annotated[list[Icd9DiagnosisEntry], Field(min_length=1)]


# --------------------------------------------------------------------------- tables


class CodeTables:
    """The loaded procedure and diagnosis tables, with the lookups."""

    def __init__(self, procedures: ProcedureTable, diagnoses: DiagnosisTable, icd9: Icd9DiagnosisTable | None = None):
        self.procedures_version = procedures.version
        self.diagnoses_version = diagnoses.version
        self.icd9_diagnoses_version = icd9.version if icd9 else None
        self._procedures = {e.code: e for e in procedures.procedures}
        self._diagnoses = {e.prefix.replace(".", ""): e for e in diagnoses.diagnoses}
        self._longest = max(len(p) for p in self._diagnoses)
        self._icd9 = {e.prefix.replace(".", ""): e for e in (icd9.diagnoses if icd9 else [])}

    @property
    def procedure_codes(self) -> list[str]:
        return list(self._procedures)

    @property
    def diagnosis_prefixes(self) -> list[str]:
        return [e.prefix for e in self._diagnoses.values()]

    def procedure(self, code: str) -> ProcedureEntry:
        """The table entry of a procedure code (UnmappedCodeError if none)."""
        key = normalize_procedure_code(code)
        entry = self._procedures.get(key)
        if entry is None:
            raise UnmappedCodeError(
                key, f"procedure code {key} is not in the code table; give the treatment explicitly"
            )
        return entry

    def candidates_for(self, code: str) -> tuple[Treatment, ...]:
        """Every treatment the procedure code can stand for."""
        return tuple(self.procedure(code).treatments)

    def treatments_for(self, code: str, wording: str | None = None) -> Treatment:
        """Deprecated: `treatment_for` (it always returned one treatment)."""
        warnings.warn("CodeTables.treatments_for is deprecated; use treatment_for", DeprecationWarning, stacklevel=2)
        return self.treatment_for(code, wording)

    def treatment_for(self, code: str, wording: str | None = None) -> Treatment:
        """The one treatment a procedure code stands for, using the item's
        wording when the code alone can mean several."""
        entry = self.procedure(code)
        if len(entry.treatments) == 1:
            return entry.treatments[0]
        named = _named_treatments(wording, entry.resolve_by_wording or {}) if wording else []
        if len(named) == 1:
            return named[0]
        raise AmbiguousCodeError(entry.code, entry.treatments, wording, named)

    def diagnosis_entry(self, icd10: str) -> DiagnosisEntry:
        """The entry with the longest prefix of an existing ICD-10-CM code."""
        code = checked_icd10(icd10)
        bare = code.replace(".", "")
        for n in range(min(len(bare), self._longest), 2, -1):
            entry = self._diagnoses.get(bare[:n])
            if entry is not None:
                return entry
        raise UnmappedCodeError(
            code, f"ICD-10-CM code {code} is not in the code table; give the body regions and diagnosis group explicitly"
        )

    def diagnosis_for(self, icd10: str) -> tuple[list[BodyRegion], DiagnosisGroup | None]:
        """(body regions, diagnosis group) of an ICD-10-CM code. An empty region
        list means the code does not fix a region; a None group, no group."""
        entry = self.diagnosis_entry(icd10)
        return list(entry.body_regions), entry.group

    def icd9_diagnosis_entry(self, icd9: str) -> DiagnosisEntry:
        """The entry with the longest prefix of an existing ICD-9-CM code."""
        code = checked_icd9(icd9)
        bare = code.replace(".", "")
        for n in range(len(bare), 2, -1):
            entry = self._icd9.get(bare[:n])
            if entry is not None:
                return entry
        raise UnmappedCodeError(
            code, f"{ICD9CM} code {code} is not in the code table; give the body regions and diagnosis group explicitly"
        )

    def diagnosis_for_icd9(self, icd9: str) -> tuple[list[BodyRegion], DiagnosisGroup | None]:
        """`diagnosis_for` for an ICD-9-CM code."""
        entry = self.icd9_diagnosis_entry(icd9)
        return list(entry.body_regions), entry.group


def default_codes_dir() -> Path:
    return bundled_rules_dir() / CODES_DIR


def load_code_tables(folder: str | Path | None = None) -> CodeTables:
    """Load and validate `procedures.yaml` and `diagnoses.yaml` from `folder`
    (the bundled `rules/codes` by default). All problems in both files are
    reported together as one RulePackError; nothing is returned unless both are
    valid."""
    base = Path(folder) if folder is not None else default_codes_dir()
    if not base.is_dir():
        raise RulePackError([Problem(file=str(base), message="not a folder (code tables are a folder with procedures.yaml and diagnoses.yaml)")])
    problems: list[Problem] = []
    procedures = _load(base / PROCEDURES_FILE, ProcedureTable, "procedures", "code", problems)
    diagnoses = _load(base / DIAGNOSES_FILE, DiagnosisTable, "diagnoses", "prefix", problems)
    # The ICD-9-CM table is optional in a folder of one's own (tables written
    # before it existed); without it every ICD-9-CM code is unmapped.
    icd9_path = base / ICD9_DIAGNOSES_FILE
    icd9 = _load(icd9_path, Icd9DiagnosisTable, "diagnoses", "prefix", problems) if icd9_path.exists() else None
    if problems or procedures is None or diagnoses is None:
        raise RulePackError(problems)
    return CodeTables(procedures, diagnoses, icd9)


def _load(path: Path, model: type[StrictModel], key: str, field: str, problems: list[Problem]) -> Any:
    file = str(path)
    try:
        data, lines = read_file(path)
    except ParseError as exc:
        problems.append(exc.problem)
        return None
    before = len(problems)
    if isinstance(data, dict) and isinstance(data.get(key), list):
        problems.extend(_duplicates(data[key], key, field, file, lines))
    try:
        table = model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, file=file, lines=lines))
        return None
    return table if len(problems) == before else None


def _duplicates(entries: Iterable[Any], key: str, field: str, file: str, lines: Lines) -> list[Problem]:
    out: list[Problem] = []
    first: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get(field), str):
            continue
        value = entry[field].strip().upper().replace(".", "")
        where = (key, i, field)
        if value in first:
            j = first[value]
            out.append(
                Problem(
                    file=file,
                    line=lines.get(where),
                    location=f"{key}[{i}].{field}",
                    message=f"{field} {entry[field]!r} is listed twice (first at line {lines.get((key, j, field))})",
                )
            )
        else:
            first[value] = i
    return out


@lru_cache(maxsize=1)
def bundled_code_tables() -> CodeTables:
    """The bundled tables, loaded once."""
    return load_code_tables()


def treatment_for(code: str, wording: str | None = None) -> Treatment:
    """`CodeTables.treatment_for` on the bundled tables."""
    return bundled_code_tables().treatment_for(code, wording)


def treatments_for(code: str, wording: str | None = None) -> Treatment:
    """Deprecated: `treatment_for` (it always returned one treatment)."""
    warnings.warn(
        "mtus_rules.case.codes.treatments_for is deprecated; use treatment_for", DeprecationWarning, stacklevel=2
    )
    return treatment_for(code, wording)


def diagnosis_for(icd10: str) -> tuple[list[BodyRegion], DiagnosisGroup | None]:
    """`CodeTables.diagnosis_for` on the bundled tables."""
    return bundled_code_tables().diagnosis_for(icd10)


def diagnosis_for_icd9(icd9: str) -> tuple[list[BodyRegion], DiagnosisGroup | None]:
    """`CodeTables.diagnosis_for_icd9` on the bundled tables."""
    return bundled_code_tables().diagnosis_for_icd9(icd9)
