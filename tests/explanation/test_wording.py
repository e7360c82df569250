"""The findings the engine words through `wording` (compiled once per branch
from the pack) are exactly those `word_finding`, the reference, words.

Every branch of the bundled pack is worded on every facet of a treatment its
rule is for, whether or not the branch holds there, so each way a text can be
put together is met many times: the facets of the example cases, of the
recorded generated cases (tests/fixtures/golden) and of freshly generated
plain and extended cases (benchmarks/generate.py).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mtus_rules import Case, Engine, load_case
from mtus_rules.evaluation.facets import Facet, facets
from mtus_rules.explanation.findings import worded, wording
from mtus_rules.vocabulary import Treatment

from .. import golden
from ..helpers import RecordingFacts
from .reference_wording import word_finding

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from generate import generate_dicts  # noqa: E402


def _cases() -> Iterator[Case]:
    for path in golden.example_files():
        yield load_case(path)
    for _, row in golden.generated_rows():
        yield Case.model_validate(row)
    for extended in (False, True):
        for data in generate_dicts(200, 1208 + extended, extended=extended):
            yield Case.model_validate(data)


def _outcome(word: Any, facet: Facet) -> tuple[str, Any]:
    try:
        return "finding", word(facet)
    except Exception as exc:  # the reference may fail on a facet its branch can never hold for
        return "error", type(exc)


@pytest.mark.once  # pure Python, 13 s; the goldens check the wording on every Python
def test_the_compiled_wording_of_every_branch_is_word_finding_s() -> None:
    (compiled,) = Engine(cache_size=0)._packs
    by_treatment: dict[str, list] = {}
    for branch in compiled.branches.values():
        for treatment in branch.rule.applies_to.treatment:
            by_treatment.setdefault(treatment.value, []).append(branch)
    compiled_words = {id(b): wording(b) for b in compiled.branches.values()}
    met: Counter[str] = Counter()
    every = [facet for case in _cases() for facet in facets(case)]  # every fact, as the what-if search sends them
    # Treatments few or none of these cases request (H-wave, galvanic
    # stimulation, work conditioning): every treatment's rules are also
    # worded on a spread of facets of every kind, as if those requested it.
    spread = every[:: len(every) // 200]
    borrowed = [(f, t) for t in sorted(by_treatment) for f in spread if f.facts["treatment"] != t]
    for facet, treatment in [*((f, f.facts["treatment"]) for f in every), *borrowed]:
        if facet.facts["treatment"] != treatment:
            facet = replace(facet, facts={**facet.facts, "treatment": Treatment(treatment)})
        for branch in by_treatment.get(treatment, ()):
            expected = _outcome(lambda f: word_finding(branch, f), facet)
            plain = facet.facts
            facet.facts = RecordingFacts(plain)
            try:
                got = _outcome(compiled_words[id(branch)], facet)
                read = facet.facts.read
            finally:
                facet.facts = plain
            name = f"{branch.rule.id}#{branch.branch}"
            where = (name, treatment, facet.body_region, facet.facts)
            assert got[0] == expected[0], (*where, got, expected)
            if got[0] == "finding":
                assert got[1] == expected[1], where  # every field equal, so the same JSON
                # What the finding memo is keyed on still covers what is read.
                assert read <= {*worded(branch), "treatment", "body_region"}, (name, read)
                met[name] += 1
    # Every branch of the pack was worded, and on enough facets to mean something.
    missing = {f"{b.rule.id}#{b.branch}" for b in compiled.branches.values()} - set(met)
    assert not missing, sorted(missing)
    assert len(every) > 1500
    assert min(met.values()) >= 150, met.most_common()[-5:]


def test_a_finding_the_same_for_every_case_is_made_once_per_region() -> None:
    # The point of compiling: a not_recommended rule without `when` or a
    # "recommended" text is not worded again per item.
    (compiled,) = Engine(cache_size=0)._packs
    fixed = [b for b in compiled.branches.values() if b.rule.effect == "supports" and b.branch != "undetermined"]
    assert fixed
    branch = fixed[0]
    case = json.loads(json.dumps({
        "date_of_injury": "2012-03-05",
        "request_date": "2014-06-02",
        "diagnoses": [{"description": "Lumbar sprain", "body_regions": ["lumbar"], "group": "sprain_strain"}],
        "requested_items": [{"description": "x", "treatment": branch.rule.applies_to.treatment[0].value,
                             "body_regions": ["lumbar"], "quantity": {"visits": 6}}],
    }))
    (facet,) = facets(Case.model_validate(case))
    word = compiled.wordings[id(branch)]
    assert word(facet) is word(facet)
    assert word(facet) == word_finding(branch, facet)
