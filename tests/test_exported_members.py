"""The public API is what `mtus_rules` exports: held here so that removing or
renaming a name is a deliberate change (and a CHANGELOG entry), not an accident."""

from __future__ import annotations

import types

import mtus_rules

PUBLIC = [
    "Alternative", "BackendError", "BatchResult", "BodyRegion", "CareStage", "Case", "CaseError", "Change",
    "Citation", "Claimant", "Comparison", "Decision", "DecisionLog", "Diagnosis",
    "DiagnosisGroup", "Documented", "Engine", "Finding", "Flip", "Frequency", "Hours", "InputLimits",
    "ItemDecision", "MtusRulesError", "Outcome", "PackRef", "PainPhase", "PriorTreatment",
    "Problem", "Purpose", "Rationale", "RequestedItem", "Rule", "RulePack", "RulePackError",
    "Surgery", "SurgicalProcedure", "Treatment", "Visits", "WhatIf", "WorkStatus",
    "__version__", "apply_alternative", "bundled_pack_dirs", "case_json_schema", "compare",
    "load_case", "load_pack",
]


def test_all_lists_exactly_the_public_names():
    assert mtus_rules.__all__ == sorted(mtus_rules.__all__), "keep __all__ sorted"
    assert sorted(PUBLIC) == mtus_rules.__all__


def test_every_exported_name_is_importable_and_nothing_else_is_public():
    for name in mtus_rules.__all__:
        assert hasattr(mtus_rules, name), name
    # Submodules are reachable as attributes once imported; they are not API.
    public = {
        name
        for name, value in vars(mtus_rules).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(mtus_rules.__all__) - {"__version__"}

