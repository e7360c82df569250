"""mtus-rules: decide workers' compensation treatment requests the way an IMR reviewer would.

The public surface is what this module exports; everything else may change.
"""

__version__ = "0.1.0"

from .case import (  # noqa: E402
    Case,
    Claimant,
    Diagnosis,
    Frequency,
    Hours,
    PriorTreatment,
    RequestedItem,
    Surgery,
    Visits,
    case_json_schema,
    load_case,
)
from .alternatives import apply_alternative  # noqa: E402
from .audit import DecisionLog  # noqa: E402
from .batch import BatchResult  # noqa: E402
from .whatif import Comparison, Flip, compare  # noqa: E402
from .decision import Alternative, Change, Decision, Finding, ItemDecision, Outcome, PackRef, Rationale, WhatIf  # noqa: E402
from .engine import Engine  # noqa: E402
from .errors import CaseError, MtusRulesError, Problem, RulePackError  # noqa: E402
from .pack import Citation, Rule, RulePack, bundled_pack_dirs, load_pack  # noqa: E402
from .vocabulary import (  # noqa: E402
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
