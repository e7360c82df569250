"""mtus-rules: decide workers' compensation treatment requests the way an IMR reviewer would.

The public surface is what this module exports; everything else may change.
"""

from ._version import __version__
from .case.model import (
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
from .explanation.alternatives import apply_alternative
from .integration.audit import DecisionLog
from .integration.batch import BatchResult
from .integration.compare import Comparison, Flip, compare
from .explanation.decision import Alternative, Change, Decision, Finding, ItemDecision, Outcome, PackRef, Rationale, WhatIf
from .engine import Engine
from .errors import BackendError, CaseError, MtusRulesError, Problem, RulePackError
from .packs.model import Citation, Rule, RulePack, bundled_pack_dirs, load_pack
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
