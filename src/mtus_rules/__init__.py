"""mtus-rules: decide workers' compensation treatment requests the way an IMR reviewer would.

The public surface is what this module exports; everything else may change.
"""

from . import _compat
from ._version import __version__
from .case import (
    Case,
    Claimant,
    Diagnosis,
    Frequency,
    Hours,
    InputLimits,
    PriorTreatment,
    RequestedItem,
    Surgery,
    Visits,
    case_json_schema,
    load_case,
)
from .engine import Engine
from .errors import BackendError, CaseError, MtusRulesError, Problem, RulePackError
from .explanation import (
    Alternative,
    Change,
    Decision,
    Finding,
    ItemDecision,
    Outcome,
    Rationale,
    Trace,
    WhatIf,
    apply_alternative,
)
from .integration import BatchResult, Comparison, DecisionLog, Flip, compare
from .packs import Citation, PackRef, Rule, RulePack, bundled_pack_dirs, load_pack
from .vocabulary import (
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

__all__ = [
    "Alternative",
    "BackendError",
    "BatchResult",
    "BodyRegion",
    "CareStage",
    "Case",
    "CaseError",
    "Change",
    "Citation",
    "Claimant",
    "Comparison",
    "Decision",
    "DecisionLog",
    "Diagnosis",
    "DiagnosisGroup",
    "Documented",
    "Engine",
    "Finding",
    "Flip",
    "Frequency",
    "Hours",
    "InputLimits",
    "ItemDecision",
    "MtusRulesError",
    "Outcome",
    "PackRef",
    "PainPhase",
    "PriorTreatment",
    "Problem",
    "Purpose",
    "Rationale",
    "RequestedItem",
    "Rule",
    "RulePack",
    "RulePackError",
    "Surgery",
    "SurgicalProcedure",
    "Trace",
    "Treatment",
    "Visits",
    "WhatIf",
    "WorkStatus",
    "__version__",
    "apply_alternative",
    "bundled_pack_dirs",
    "case_json_schema",
    "compare",
    "load_case",
    "load_pack",
]

_compat.install()
