"""For rule authors: checking packs without deciding a case (lint), the
coverage table (coverage) and the YAML rule tests next to the rules
(ruletests)."""

from .coverage import markdown as coverage_markdown
from .lint import LintFinding, lint_pack, lint_paths
from .ruletests import Report, run as run_rule_tests

__all__ = [
    "LintFinding",
    "Report",
    "coverage_markdown",
    "lint_pack",
    "lint_paths",
    "run_rule_tests",
]
