"""The public API is what `mtus_rules` and its subpackages export: held here so
that removing or renaming a name is a deliberate change (and a CHANGELOG entry),
not an accident."""

from __future__ import annotations

import importlib
import types

import pytest

import mtus_rules

PUBLIC = [
    "Alternative", "BackendError", "BatchResult", "BodyRegion", "CareStage", "Case", "CaseError", "Change",
    "Citation", "Claimant", "Comparison", "Decision", "DecisionLog", "Diagnosis",
    "DiagnosisGroup", "Documented", "Engine", "Finding", "Flip", "Frequency", "Hours", "InputLimits",
    "ItemDecision", "MtusRulesError", "Outcome", "PackRef", "PainPhase", "PriorTreatment",
    "Problem", "Purpose", "Rationale", "RequestedItem", "Rule", "RulePack", "RulePackError",
    "Surgery", "SurgicalProcedure", "Trace", "Treatment", "Visits", "WhatIf", "WorkStatus",
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



#: Each subpackage's public names (its __all__), in the pipeline's order.
SUBPACKAGES = {
    "mtus_rules.case": [
        "DEFAULT_LIMITS", "NOT_DOCUMENTED", "Case", "Claimant", "Diagnosis", "Frequency", "Hours", "InputLimits",
        "PriorTreatment", "QuantityError", "RequestedItem", "RfaCase", "RfaLine", "RfaMapping", "Surgery", "Visits",
        "case_json_schema", "load_case", "parse_case", "parse_quantity", "parse_quantity_field", "parse_rfa_case",
    ],
    "mtus_rules.packs": [
        "FACTS", "Citation", "PackRef", "Period", "Rule", "RulePack", "bundled_pack_dirs", "load_pack", "override_pack",
    ],
    "mtus_rules.evaluation": ["Outcome"],
    "mtus_rules.explanation": [
        "Alternative", "Change", "Decision", "Finding", "ItemDecision", "Outcome", "Rationale", "Trace", "WhatIf",
        "apply_alternative", "decision_html", "decision_text", "trace_text",
    ],
    "mtus_rules.authoring": ["LintFinding", "Report", "coverage_markdown", "lint_pack", "lint_paths", "run_rule_tests"],
    "mtus_rules.integration": ["BatchResult", "Comparison", "DecisionLog", "Flip", "PoolError", "compare", "evaluate_many"],
    "mtus_rules.protocols": ["BatchRunner", "DecisionRecorder", "Matcher"],
}


@pytest.mark.parametrize("name", sorted(SUBPACKAGES))
def test_each_subpackage_lists_exactly_its_public_names(name):
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__), f"keep {name}.__all__ sorted"
    assert module.__all__ == sorted(SUBPACKAGES[name])
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.{exported}"


def test_the_root_exports_the_same_objects_as_the_subpackages():
    """One object per name: `mtus_rules.Decision is mtus_rules.explanation.Decision`."""
    for name, exported in SUBPACKAGES.items():
        module = importlib.import_module(name)
        for attribute in exported:
            if attribute in mtus_rules.__all__:
                assert getattr(mtus_rules, attribute) is getattr(module, attribute), f"{name}.{attribute}"
