"""A rule pack compiled for the matcher, and the memos of what it answered.

`compile_for_matcher` turns a pack into one matcher (the backend seam) per
treatment, with the functions that read a facet's values and its memo key.
`CompiledPack.match` answers which rule branches hold for a facet, and keeps
the answer in a bounded memo keyed on where the facts the rules read fall
among the rules' numbers, so the matcher is asked only on a miss.

The decision memos (items, findings, what-if options) live here too, with one
lock and one bound, so that `forget` drops every memo at once after an
interrupted evaluation; what goes into them is the explanation's business.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .._forksafe import renew_after_fork
from ..case.model import Case
from ..errors import Problem, RulePackError
from ..packs.conditions import KNOWN_SUFFIX
from ..packs.model import PackRef, Rule, RulePack
from ..vocabulary import Treatment
from ._backends import Matcher, MatcherFactory
from ._capacity import CapacityError
from .compile import (
    SEPARATOR,
    Branch,
    RuleKey,
    choice_sets,
    compile_pack,
    cut_points,
    fact_dict,
    fact_key,
    fact_values,
    fields_used,
    rule_keys,
    rule_of,
    thresholds,
)
from .facets import Facet
from .outcome import governed_questions, region_status, set_aside

Reader = Callable[[dict[str, Any], frozenset[str], int], tuple]


@dataclass
class ByTreatment:
    """The engine rules for one treatment, and the fact fields they read."""

    matcher: Matcher
    fields: tuple[str, ...]  # the engine fact's fields
    read_values: Reader  # their values for a facet
    read_fact: Callable[[dict[str, Any], frozenset[str], int], dict[str, Any]]  # the fact itself: fields -> values
    # The same, with each count as where it falls among the numbers the rules
    # compare it with: what the engine's answer depends on (its memo key).
    read_key: Reader
    reads: frozenset[str]  # the facts these rules read: derived ones are explained in the decision
    # Per group of rules reading the same fields, their ids and the key of those fields (compile.rule_keys).
    by_rule: tuple[RuleKey, ...] = ()
    # Whether MTUS precedence can set any of these rules aside: an MTUS rule and
    # another answer the same question. Mostly not, and then it is not applied.
    contested: bool = True


class Answer(NamedTuple):
    """What the rules say about one facet: the branches that hold, those
    left once MTUS precedence is applied, the region's status, and the facts
    the findings of the kept branches word (explanation.findings.worded)."""

    branches: tuple[Branch, ...]
    kept: tuple[Branch, ...]
    status: str
    worded: tuple[str, ...]
    # The kept branches by id, for memo keys: branches live as long as their
    # pack, so an id is never reused for another branch while it is in a key.
    kept_ids: tuple[int, ...]


NO_ANSWER = Answer((), (), "none", (), ())


@dataclass
class CompiledPack:
    pack: RulePack
    ref: PackRef
    # Every rule is scoped to treatments, so each treatment gets its own engine
    # ruleset: a fact carries only what that treatment's rules read, and the
    # engine tests only their conditions.
    by_treatment: dict[str, ByTreatment]
    branches: dict[str, Branch]
    cache_size: int
    # The facts a branch's finding words (explanation.findings.worded): part of
    # every answer, so that findings and items are memoised on them.
    word_facts: Callable[[Branch], tuple[str, ...]]
    # What the guideline says and cites for the rules that decided (explanation.rationale).
    guideline: Callable[[tuple[str, ...]], tuple[str, tuple[Any, ...]]]
    # A branch's finding as a function of the facet, compiled once per branch
    # (explanation.findings.wording).
    wording: Callable[[Branch], Callable[[Facet], Any]]

    def __post_init__(self) -> None:
        self.answer_memo: OrderedDict[tuple, Answer] = OrderedDict()
        self.rule_memo: OrderedDict[tuple, tuple[str, ...]] = OrderedDict()
        self.fired_memo: OrderedDict[frozenset[str], Answer] = OrderedDict()  # by the branch names that hold
        self.options_memo: OrderedDict[tuple, Any] = OrderedDict()
        self.finding_memo: OrderedDict[tuple, Any] = OrderedDict()
        self.item_memo: OrderedDict[tuple, Any] = OrderedDict()
        # Lookups and hits of the item memo and of the engine-answer memo, for
        # the benchmark's hit rates. Not under the lock: a count lost to a race
        # between threads only blurs a statistic.
        self.item_lookups = self.item_hits = self.match_lookups = self.match_hits = self.engine_calls = 0
        self._memo_lock = threading.Lock()
        self.bounds = {t.value: thresholds(self.pack, t.value) for t in Treatment}
        self._reads = {treatment: rules.reads for treatment, rules in self.by_treatment.items()}
        # The place of each rule in the pack, by id (a tuple: only loading holds ids unique).
        self.positions: dict[str, tuple[int, ...]] = {}
        for position, rule in enumerate(self.pack.rules):
            self.positions[rule.id] = (*self.positions.get(rule.id, ()), position)
        # By id: branches live as long as this pack, and hashing one hashes its rule.
        self.worded = {id(b): self.word_facts(b) for b in self.branches.values()}
        self.wordings = {id(b): self.wording(b) for b in self.branches.values()}
        renew_after_fork(self)

    def _after_fork_in_child(self) -> None:
        # Another thread may have held the lock at the fork (see _durable).
        self._memo_lock = threading.Lock()

    def forget(self) -> None:
        """Drop every memoised answer (after an interrupted evaluation)."""
        with self._memo_lock:
            # Every memo, whatever it is called: one added later must not be missed.
            for value in vars(self).values():
                if isinstance(value, OrderedDict):
                    value.clear()

    def _read(self, facet: Facet, day: int) -> tuple[ByTreatment | None, tuple, tuple]:
        treatment = facet.facts["treatment"]
        rules = self.by_treatment.get(treatment)
        values = rules.read_values(facet.facts, facet.diagnosis_groups, day) if rules else ()
        return rules, values, (treatment, *values)

    def fact_key(self, facet: Facet, day: int) -> tuple:
        return self._read(facet, day)[2]

    def remember(self, memo: OrderedDict, key: Hashable, value: Any) -> None:
        if self.cache_size:
            with self._memo_lock:
                if len(memo) >= self.cache_size:
                    # Oldest first. A plain dict's next(iter(d)) after many
                    # deletions scans the dead slots at its front: O(churn).
                    memo.popitem(last=False)
                memo[key] = value

    def match(self, facet: Facet, day: int) -> Answer:
        """The rule branches that hold for this facet, in pack order, and what
        follows from them.

        The answer depends only on how the facts the rules read compare with
        the rules' numbers (fact_key), so it is kept in a bounded memo; the
        engine (durable_rules) is asked on a miss."""
        facts = facet.facts
        treatment = facts["treatment"]
        rules = self.by_treatment.get(treatment)
        self.match_lookups += 1
        if not self.cache_size:  # no memo: nothing is keyed
            if rules is None:
                return NO_ANSWER
            names = self._fired(rules, facts, facet.diagnosis_groups, day)
            branches = tuple(sorted((self.branches[n] for n in names), key=_position))
            kept = tuple(_apply_precedence(branches)) if rules.contested else branches
            return Answer(branches, kept, region_status({b.verdict for b in kept}), (), ())
        key = (treatment, *rules.read_key(facts, facet.diagnosis_groups, day)) if rules else (treatment,)
        facet.key = key
        found = self.answer_memo.get(key)
        if found is not None:
            self.match_hits += 1
            return found
        if rules is None:
            found = NO_ANSWER
        else:
            names = self._fired(rules, facts, facet.diagnosis_groups, day)
            # What follows from the branches that hold depends on which they are
            # and nothing else, and few sets of them occur: facts new to the
            # answer memo mostly fire a set met before.
            fired = frozenset(names)
            found = self.fired_memo.get(fired)
            if found is None:
                found = self._answer(names, rules.contested)
                self.remember(self.fired_memo, fired, found)
        self.remember(self.answer_memo, key, found)
        return found

    def _answer(self, names: list[str], contested: bool) -> Answer:
        branches = tuple(sorted((self.branches[n] for n in names), key=_position))
        kept = tuple(_apply_precedence(branches)) if contested else branches
        worded = tuple(dict.fromkeys(name for b in kept for name in self.worded[id(b)]))
        return Answer(branches, kept, region_status({b.verdict for b in kept}), worded, tuple(id(b) for b in kept))

    def _fired(self, rules: ByTreatment, facts: dict[str, Any], groups: frozenset[str], day: int) -> list[str]:
        """The names of the branches that hold, from what each rule answered
        for the same values of its own fields before, else from the engine."""
        if not self.cache_size or not rules.by_rule:  # no memo, or nothing to key it on
            self.engine_calls += 1
            return rules.matcher.match(rules.read_fact(facts, groups, day))
        keys = [(ids, *read(facts, groups, day)) for ids, read in rules.by_rule]
        memo = self.rule_memo
        names: list[str] = []
        for key in keys:
            found = memo.get(key)
            if found is None:
                break
            names.extend(found)
        else:
            return names
        self.engine_calls += 1
        fired = rules.matcher.match(rules.read_fact(facts, groups, day))
        for key in keys:
            ids = key[0]
            self.remember(memo, key, tuple(name for name in fired if rule_of(name) in ids))
        return fired

    def needs(self, case: Case) -> frozenset[str]:
        """The facts the rules for the case's items read."""
        items = case.requested_items
        if len(items) == 1:  # the usual case
            rules = self.by_treatment.get(items[0].treatment)
            return rules.reads if rules is not None else frozenset()
        reads = self._reads
        return frozenset().union(*(reads.get(i.treatment, ()) for i in items))


def compile_for_matcher(
    pack: RulePack,
    cache_size: int,
    make: MatcherFactory,
    word_facts: Callable[[Branch], tuple[str, ...]],
    guideline: Callable[[tuple[str, ...]], tuple[str, tuple[Any, ...]]],
    wording: Callable[[Branch], Callable[[Facet], Any]],
) -> CompiledPack:
    """`pack` compiled into one matcher per treatment (made by `make`, the backend)."""
    _, branches = compile_pack(pack)
    by_treatment = {}
    for treatment in Treatment:
        mine, named = compile_pack(pack, treatment.value)
        if mine:
            rules = [b.rule for b in named.values()]
            used = fields_used(mine)
            fields = tuple(sorted(used))
            by_treatment[treatment.value] = ByTreatment(
                matcher=_matcher(make, pack, treatment.value, mine),
                fields=fields,
                read_values=fact_values(fields),
                read_fact=fact_dict(fields),
                read_key=fact_key(fields, cut_points(mine), choice_sets(mine)),
                reads=frozenset(f.removesuffix(KNOWN_SUFFIX) for f in used),
                by_rule=rule_keys(mine),
                contested=_contested(rules),
            )
    return CompiledPack(
        pack=pack,
        ref=PackRef(
            name=pack.name, version=pack.version, content_hash=pack.content_hash, overrides=pack.overrides,
            layers=list(pack.layers) or None,
        ),
        by_treatment=by_treatment,
        branches=branches,
        cache_size=cache_size,
        word_facts=word_facts,
        guideline=guideline,
        wording=wording,
    )


def _matcher(make: MatcherFactory, pack: RulePack, treatment: str, conditions: dict[str, dict]) -> Matcher:
    try:
        return make(f"{pack.name}.{pack.version}.{treatment}", conditions)
    except CapacityError as exc:
        rule_id = exc.name.split(SEPARATOR)[0]
        problem = Problem(
            file=pack.files.get(rule_id),
            line=pack.lines.get(rule_id),
            location=f"rule {rule_id}",
            message=f"treatment {treatment}: {exc}",
        )
        raise RulePackError([problem]) from None


def _position(branch: Branch) -> int:
    return branch.position


def _contested(rules: list[Rule]) -> bool:
    """Whether precedence could set aside one of these rules (_apply_precedence)."""
    governed = governed_questions(rules)
    return any(set_aside(rule, governed) for rule in rules)


def _apply_precedence(branches: tuple[Branch, ...]) -> list[Branch]:
    """The branches left once an MTUS rule governs the others on its question
    (outcome.set_aside; a branch carries its rule's source and question)."""
    governed = governed_questions(branches)
    if not governed:  # the usual case: nothing to set aside
        return list(branches)
    return [b for b in branches if not set_aside(b, governed)]
