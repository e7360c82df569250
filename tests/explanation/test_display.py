"""Decisions and comparisons as HTML, as Jupyter shows them (no extra needed)."""

from __future__ import annotations

from html.parser import HTMLParser

from mtus_rules import Engine, compare, load_case
from mtus_rules.explanation.render import OUTCOME_WORDS

from ..helpers import EXAMPLES, make_case


class _Text(HTMLParser):
    """The visible text of an HTML fragment, and whether its tags balance."""

    VOID = frozenset({"br"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:] or 'nothing'}"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def _read(fragment: str) -> _Text:
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    assert parser.open == [], f"unclosed tags: {parser.open}"
    return parser


def test_a_decision_shows_each_item_with_its_outcome_guideline_rules_and_rationale(engine):
    decision = engine.evaluate(load_case(next(EXAMPLES.glob("seed-002-*.yaml"))), what_if=True)
    page = _read(decision._repr_html_())
    text = " ".join(" ".join(page.text).split())
    assert f"Case {decision.case_id}" in text
    assert decision.rule_pack.content_hash[:12] in text
    for item in decision.items:
        assert item.description in text
        assert OUTCOME_WORDS[item.outcome] in text
        for citation in item.citations:
            assert str(citation) in text
        for rule in item.rules:
            assert rule in text
        for part in (item.rationale.guideline, item.rationale.case, item.rationale.conclusion):
            assert " ".join(part.split()) in text
    # Upheld traction and NMES: nothing the rules read would change them, and the display says so.
    assert text.count("no change of the documented facts makes it medically necessary") == 2
    assert "table" in page.tags and "details" in page.tags


def test_an_item_displays_on_its_own(engine):
    decision = engine.evaluate(load_case(next(EXAMPLES.glob("seed-004-*.yaml"))))
    item = decision.items[0]
    text = " ".join(_read(item._repr_html_()).text)
    assert item.description in text and OUTCOME_WORDS[item.outcome] in text
    assert "Visits supported" not in text  # what-if was not asked for, so nothing is claimed


def test_text_from_the_case_is_escaped(engine):
    decision = engine.evaluate(
        make_case({"description": "<script>alert(1)</script> massage x2", "treatment": "massage", "quantity": {"visits": 2}})
    )
    fragment = decision._repr_html_()
    assert "<script>" not in fragment
    assert "&lt;script&gt;alert(1)&lt;/script&gt; massage x2" in fragment
    assert "script" not in _read(fragment).tags


def test_a_comparison_shows_its_counts_and_the_packs_compared():
    engine = Engine()
    lower = engine.with_overrides({"mtus.cpmtg.massage.limit": 4})
    cases = [make_case({"description": f"massage x{n}", "treatment": "massage", "quantity": {"visits": n}}) for n in (4, 5, 6)]
    result = compare(engine, lower, cases)
    assert result.before == engine.pack_refs and result.after == lower.pack_refs
    assert result.items_by_treatment == {"massage": 3}
    text = " ".join(" ".join(_read(result._repr_html_()).text).split())
    assert "3 items compared; 2 flips; 0 rows could not be read." in text
    assert f"sha256:{lower.pack_refs[0].content_hash[:12]}) with what-if changes" in text
    assert "overturned -> upheld 2" in text and "massage therapy 2" in text and "mtus.cpmtg.massage.limit 2" in text
