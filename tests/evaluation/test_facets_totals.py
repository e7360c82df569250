"""facets() writes the visit totals out inline for speed; they must be exactly
what visit_counts() (which the what-if search uses when it changes a part)
makes of the same parts, for every kind of request: a quantity, none, hours
that do or do not say how many sessions, a prior count not documented, a
surgery that splits the counts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mtus_rules import Case
from mtus_rules.evaluation.facets import facets, visit_counts

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from generate import generate_dicts  # noqa: E402


@pytest.mark.parametrize("extended", [False, True], ids=["plain", "extended"])
def test_every_facets_totals_are_what_visit_counts_makes(extended: bool) -> None:
    seen_open = seen_known = 0
    for data in generate_dicts(1500, 1345, extended=extended):
        for facet in facets(Case.model_validate(data)):
            totals = visit_counts(facet.facts)
            assert {name: facet.facts[name] for name in totals} == totals, facet.facts
            assert list(facet.facts)[-len(totals) - 1 : -1] == list(totals)  # same place, before body_region
            seen_open += facet.facts["total_visits"] is None
            seen_known += facet.facts["total_visits"] is not None
    assert seen_open and seen_known  # both kinds of total were met
