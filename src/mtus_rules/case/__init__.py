"""The case: what a reviewer reads. The case model (model), reading a case from
a file or plain data (reading), RFA lines read through the code tables (rfa,
codes, quantity), and the facts worked out from the record (derived)."""

import warnings
from typing import Any

from ..vocabulary import NOT_DOCUMENTED
from ..yamlio import DEFAULT_LIMITS, InputLimits
from . import model as _case_model
from .model import (
    Case,
    Claimant,
    Diagnosis,
    Frequency,
    Hours,
    PriorTreatment,
    RequestedItem,
    RfaMapping,
    Surgery,
    Visits,
)
from .quantity import QuantityError, parse_quantity
from .quantity_fields import parse_quantity_field
from .reading import case_json_schema, load_case, parse_case
from .rfa import RfaCase, RfaLine, parse_rfa_case

__all__ = [
    "Case",
    "Claimant",
    "DEFAULT_LIMITS",
    "Diagnosis",
    "Frequency",
    "Hours",
    "InputLimits",
    "NOT_DOCUMENTED",
    "PriorTreatment",
    "QuantityError",
    "RequestedItem",
    "RfaCase",
    "RfaLine",
    "RfaMapping",
    "Surgery",
    "Visits",
    "case_json_schema",
    "load_case",
    "parse_case",
    "parse_quantity",
    "parse_quantity_field",
    "parse_rfa_case",
]


def __getattr__(name: str) -> Any:
    """The other names of the old mtus_rules.case module (IsoDate, CaseFacts,
    ...), for one release: they are in mtus_rules.case.model now."""
    if name.startswith("__") or not hasattr(_case_model, name):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"mtus_rules.case.{name} is deprecated here; import it from mtus_rules.case.model", DeprecationWarning, stacklevel=2
    )
    return getattr(_case_model, name)
