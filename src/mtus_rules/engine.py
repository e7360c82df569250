"""The Engine: loads rule packs and decides cases."""

from __future__ import annotations

import datetime as _dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from ._version import __version__
from .evaluation._capacity import CapacityError
from .evaluation import _backends
from .evaluation._backends import Matcher, MatcherFactory
from ._forksafe import renew_after_fork
from .case.model import Case, parse_case
from .explanation.alternatives import alternatives, case_key, supported_visits
from .evaluation.compile import (
    SEPARATOR,
    Branch,
    choice_sets,
    compile_pack,
    cut_points,
    effect_test,
    fact_key,
    fact_values,
    fields_used,
    RuleKey,
    rule_keys,
    rule_of,
    thresholds,
)
from .packs.conditions import AT_LEAST_SUFFIX, FACTS, KNOWN_SUFFIX
from .explanation.decision import (
    FAILING,
    SUPPORTING,
    Decision,
    Finding,
    ItemDecision,
    Outcome,
    PackRef,
    Rationale,
    WhatIf,
    assembled,
)
from .errors import Problem, RulePackError
from .case.derived import months_words
from .evaluation.facets import Facet, documented_prior_visits, facets, prior_courses
from .packs.model import Citation, RulePack, bundled_pack_dirs, load_pack
from .integration.audit import DecisionLog
from .integration.batch import BatchResult, evaluate_many
from .explanation.trace import Trace, explain
from .integration.compare import override_pack
from .vocabulary import NOT_SPECIFIED, BodyRegion, Treatment, label


@dataclass
class _ByTreatment:
    """The engine rules for one treatment, and the fact fields they read."""

    matcher: Matcher
    fields: tuple[str, ...]  # the engine fact's fields
    read_values: Callable[[dict[str, Any], frozenset[str], int], tuple]  # their values for a facet
    # The same, with each count as where it falls among the numbers the rules
    # compare it with: what the engine's answer depends on (its memo key).
    read_key: Callable[[dict[str, Any], frozenset[str], int], tuple]
    reads: frozenset[str]  # the facts these rules read: derived ones are explained in the decision
    # Per group of rules reading the same fields, their ids and the key of those fields (compile.rule_keys).
    by_rule: tuple[RuleKey, ...] = ()


@dataclass
class _Compiled:
    pack: RulePack
    ref: PackRef
    # Every rule is scoped to treatments, so each treatment gets its own engine
    # ruleset: a fact carries only what that treatment's rules read, and the
    # engine tests only their conditions.
    by_treatment: dict[str, _ByTreatment]
    branches: dict[str, Branch]
    cache_size: int

    def __post_init__(self) -> None:
        self._memo: OrderedDict[tuple, _Answer] = OrderedDict()
        self._rule_memo: OrderedDict[tuple, tuple[str, ...]] = OrderedDict()
        self._options_memo: OrderedDict[tuple, WhatIf] = OrderedDict()
        self._finding_memo: OrderedDict[tuple, Finding] = OrderedDict()
        self._item_memo: OrderedDict[tuple, _Decided] = OrderedDict()
        # Lookups and hits of the item memo and of the engine-answer memo, for
        # the benchmark's hit rates. Not under the lock: a count lost to a race
        # between threads only blurs a statistic.
        self.item_lookups = self.item_hits = self.match_lookups = self.match_hits = self.engine_calls = 0
        self._memo_lock = threading.Lock()
        self.bounds = {t.value: thresholds(self.pack, t.value) for t in Treatment}
        # By id: branches live as long as this pack, and hashing one hashes its rule.
        self.worded = {id(b): _worded(b) for b in self.branches.values()}
        rules = {rule.id: rule for rule in self.pack.rules}

        # What the guideline says and what it cites depend only on which rules
        # decided, and the same few combinations recur across cases.
        @lru_cache(maxsize=4096)
        def guideline(rule_ids: tuple[str, ...]) -> tuple[str, tuple[Citation, ...]]:
            chosen = [rules[r] for r in rule_ids]
            return _guideline_text(chosen), tuple(_citations(chosen))

        self.guideline = guideline
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

    def finding(self, branch: Branch, facet: Facet) -> Finding:
        """The finding of one rule outcome on one region. Its text reads only the
        region, the treatment and the facts `_worded` names, so findings are
        kept in a bounded memo (they are immutable)."""
        if not self.cache_size:
            return _finding(branch, facet)
        key = (id(branch), facet.body_region, facet.key[0], *map(facet.facts.get, self.worded[id(branch)]))
        found = self._finding_memo.get(key)
        if found is None:
            found = _finding(branch, facet)
            self.remember(self._finding_memo, key, found)
        return found

    def _read(self, facet: Facet, day: int) -> tuple[_ByTreatment | None, tuple, tuple]:
        treatment = facet.facts["treatment"]
        rules = self.by_treatment.get(treatment)
        values = rules.read_values(facet.facts, facet.diagnosis_groups, day) if rules else ()
        return rules, values, (treatment, *values)

    def fact_key(self, facet: Facet, day: int) -> tuple:
        return self._read(facet, day)[2]

    def remember(self, memo: OrderedDict, key: tuple, value: Any) -> None:
        if self.cache_size:
            with self._memo_lock:
                if len(memo) >= self.cache_size:
                    # Oldest first. A plain dict's next(iter(d)) after many
                    # deletions scans the dead slots at its front: O(churn).
                    memo.popitem(last=False)
                memo[key] = value

    def match(self, facet: Facet, day: int) -> _Answer:
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
                return _NO_ANSWER
            names = self._fired(rules, facts, facet.diagnosis_groups, day)
            branches = tuple(sorted((self.branches[n] for n in names), key=_position))
            kept = tuple(_apply_precedence(branches))
            return _Answer(branches, kept, facet_status(kept), (), ())
        key = (treatment, *rules.read_key(facts, facet.diagnosis_groups, day)) if rules else (treatment,)
        facet.key = key
        found = self._memo.get(key)
        if found is not None:
            self.match_hits += 1
            return found
        if rules is None:
            found = _NO_ANSWER
        else:
            names = self._fired(rules, facts, facet.diagnosis_groups, day)
            branches = tuple(sorted((self.branches[n] for n in names), key=_position))
            kept = tuple(_apply_precedence(branches))
            worded = tuple(dict.fromkeys(name for b in kept for name in self.worded[id(b)]))
            found = _Answer(branches, kept, facet_status(kept), worded, tuple(id(b) for b in kept))
        self.remember(self._memo, key, found)
        return found

    def _fired(self, rules: _ByTreatment, facts: dict[str, Any], groups: frozenset[str], day: int) -> list[str]:
        """The names of the branches that hold, from what each rule answered
        for the same values of its own fields before, else from the engine."""
        if not self.cache_size or not rules.by_rule:  # no memo, or nothing to key it on
            self.engine_calls += 1
            return rules.matcher.match(dict(zip(rules.fields, rules.read_values(facts, groups, day))))
        keys = [(ids, *read(facts, groups, day)) for ids, read in rules.by_rule]
        memo = self._rule_memo
        names: list[str] = []
        for key in keys:
            found = memo.get(key)
            if found is None:
                break
            names.extend(found)
        else:
            return names
        self.engine_calls += 1
        fired = rules.matcher.match(dict(zip(rules.fields, rules.read_values(facts, groups, day))))
        for key in keys:
            ids = key[0]
            self.remember(memo, key, tuple(name for name in fired if rule_of(name) in ids))
        return fired

    def needs(self, case: Case) -> frozenset[str]:
        """The facts the rules for the case's items read."""
        reads = [self.by_treatment[i.treatment].reads for i in case.requested_items if i.treatment in self.by_treatment]
        return reads[0] if len(reads) == 1 else frozenset().union(*reads)


class Engine:
    """Decides treatment requests against one or more rule packs.

    >>> engine = Engine()                      # the bundled packs
    >>> decision = engine.evaluate(case)       # a Case or a plain dict
    >>> decision.items[0].outcome
    <Outcome.UPHELD: 'upheld'>

    Packs are compiled once, here. `evaluate` keeps no case data between calls
    and is safe to call from several threads. Packs given together must not be
    in force on the same day: the request date picks the pack.

    `cache_size` bounds a memo of engine answers per distinct set of facts the
    rules read (not per case); 0 asks the engine for every facet. With a
    `decision_log`, every decision is also recorded there for audit.

    `backend` picks the matcher: "durable_rules" (the default wherever it
    imports) or "python" (pure Python, the same answers; the default where
    durable_rules does not import, e.g. Python 3.13). The environment variable
    MTUS_RULES_BACKEND sets it when the argument is not given; each decision
    names the backend that decided it.
    """

    def __init__(
        self,
        packs: Iterable[RulePack | str | Path] | None = None,
        *,
        cache_size: int = 4096,
        decision_log: DecisionLog | None = None,
        backend: str | None = None,
    ):
        loaded = [p if isinstance(p, RulePack) else load_pack(p) for p in (packs if packs is not None else bundled_pack_dirs())]
        if not loaded:
            raise RulePackError([Problem(message="no rule packs given")])
        _check_no_overlap(loaded)
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self.cache_size = cache_size
        self.decision_log = decision_log
        self.backend = _backends.resolve(backend)
        make = _backends.factory(self.backend)
        self._packs = [self._compile(pack, cache_size, make) for pack in loaded]

    @staticmethod
    def _compile(pack: RulePack, cache_size: int, make: MatcherFactory) -> _Compiled:
        _, branches = compile_pack(pack)
        by_treatment = {}
        for treatment in Treatment:
            mine, _ = compile_pack(pack, treatment.value)
            if mine:
                used = fields_used(mine)
                fields = tuple(sorted(used))
                by_treatment[treatment.value] = _ByTreatment(
                    matcher=_matcher(make, pack, treatment.value, mine),
                    fields=fields,
                    read_values=fact_values(fields),
                    read_key=fact_key(fields, cut_points(mine), choice_sets(mine)),
                    reads=frozenset(f.removesuffix(KNOWN_SUFFIX) for f in used),
                    by_rule=rule_keys(mine),
                )
        return _Compiled(
            pack=pack,
            ref=PackRef(name=pack.name, version=pack.version, content_hash=pack.content_hash, overrides=pack.overrides),
            by_treatment=by_treatment,
            branches=branches,
            cache_size=cache_size,
        )

    @property
    def packs(self) -> list[RulePack]:
        return [c.pack for c in self._packs]

    @property
    def pack_refs(self) -> list[PackRef]:
        """Name, version and content hash of each pack, as decisions cite them."""
        return [c.ref for c in self._packs]

    def pack_for(self, day: _dt.date) -> RulePack | None:
        compiled = self._compiled_for(day)
        return compiled.pack if compiled else None

    def _compiled_for(self, day: _dt.date) -> _Compiled | None:
        for compiled in self._packs:
            if compiled.pack.effective.contains(day):
                return compiled
        return None

    def evaluate(self, case: Case | Mapping[str, Any], *, what_if: bool = False) -> Decision:
        """Decide every requested item of `case`. Raises CaseError on invalid input.

        With `what_if=True` each item also carries what the rules would support:
        the most visits supported, and for an upheld item the changes that would
        make it medically necessary. That re-decides the item several times, so
        it is off unless asked for."""
        case = parse_case(case)
        try:
            decision = self._decide(case, what_if)
        except BaseException:
            # Interrupted (a signal handler's exception, Ctrl-C) or failed part
            # way: the engine sessions recover by themselves (_durable), and
            # nothing this evaluation memoised is kept.
            for compiled in self._packs:
                compiled.forget()
            raise
        if self.decision_log is not None:
            self.decision_log.record(case, decision)
        return decision

    def _decide(self, case: Case, what_if: bool) -> Decision:
        compiled = self._compiled_for(case.request_date)
        if compiled is None:
            return self._outside_period(case, what_if)
        day = case.request_date.toordinal()
        # Derived facts no rule of these items reads are not worked out; the
        # what-if search varies facts, so it gets all of them as before.
        match = compiled.match
        matched = [(facet, match(facet, day)) for facet in facets(case, None if what_if else compiled.needs(case))]
        count = len(case.requested_items)
        if len(matched) == count:  # one region per item, in item order: the usual case
            by_item = [[pair] for pair in matched]
        else:
            by_item = [[] for _ in range(count)]
            for pair in matched:
                by_item[pair[0].item_index].append(pair)
        items = [_decide_item(case, index, by_item[index], compiled, day, what_if) for index in range(count)]
        # Every value is already as validation would leave it (a validated
        # case's own fields, the engine's models): see decision.assembled.
        return assembled(
            Decision,
            {
                "case_id": case.case_id,
                "request_date": case.request_date,
                "rule_pack": compiled.ref,
                "library_version": __version__,
                "backend": self.backend,
                "items": items,
            },
        )

    def evaluate_many(
        self, cases: Iterable[Case | Mapping[str, Any]], *, workers: int = 1, what_if: bool = False
    ) -> Iterator[BatchResult]:
        """Decide every case of `cases`, yielding one BatchResult per input, in
        order: a decision, or the problems of a bad row (never dropped, never
        stopping the batch). `workers` > 1 spreads the work over processes;
        input is read through a bounded window, so memory stays flat."""
        return evaluate_many(self, cases, workers=workers, what_if=what_if)

    def with_overrides(
        self, limits: Mapping[str, int] | None = None, disabled: Iterable[str] = ()
    ) -> Engine:
        """A new engine whose packs have these limits changed (rule id -> number)
        and these rules switched off; no file is edited. Decisions it makes carry
        the overrides in `rule_pack.overrides`."""
        limits = dict(limits or {})
        disabled = list(disabled)
        changed = []
        for pack in self.packs:
            ids = {rule.id for rule in pack.rules}
            mine_limits = {r: v for r, v in limits.items() if r in ids}
            mine_disabled = [r for r in disabled if r in ids]
            changed.append(override_pack(pack, mine_limits, mine_disabled) if mine_limits or mine_disabled else pack)
        everywhere = {rule.id for pack in self.packs for rule in pack.rules}
        missing = [r for r in [*limits, *disabled] if r not in everywhere]
        if missing:
            raise RulePackError([Problem(message=f"no rule '{r}' in any loaded pack") for r in missing])
        return Engine(changed, cache_size=self.cache_size, decision_log=self.decision_log, backend=self.backend)

    def explain(self, case: Case | Mapping[str, Any]) -> Trace:
        """Every rule considered for every item, with the value of each
        condition and why it did or did not decide. Computed in plain Python,
        independently of durable_rules."""
        case = parse_case(case)
        compiled = self._compiled_for(case.request_date)
        return explain(case, compiled.pack if compiled else None, compiled.ref if compiled else None)

    def _outside_period(self, case: Case, what_if: bool) -> Decision:
        periods = "; ".join(f"{c.pack.name} {c.pack.version}: {c.pack.effective}" for c in self._packs)
        text = (
            f"The request date {case.request_date} is outside the period of every loaded rule pack ({periods}); "
            "no rule in force on that date is available, so none is applied."
        )
        items = []
        for index, item in enumerate(case.requested_items):
            regions = [str(r) for r in item.body_regions] if item.body_regions != NOT_SPECIFIED else [NOT_SPECIFIED]
            items.append(
                ItemDecision(
                    index=index,
                    description=item.description,
                    treatment=item.treatment,
                    body_regions=regions,
                    outcome=Outcome.NO_APPLICABLE_GUIDELINE,
                    rules=[],
                    findings=[Finding(kind="note", text=text)],
                    citations=[],
                    rationale=Rationale(
                        guideline="No guideline rule in force on the request date is loaded.",
                        case=text,
                        conclusion=f"The request for {item.description} cannot be decided from these rules.",
                    ),
                    what_if=WhatIf(supported_visits=0, alternatives=[]) if what_if else None,
                )
            )
        return Decision(
            case_id=case.case_id,
            request_date=case.request_date,
            rule_pack=None,
            library_version=__version__,
            backend=self.backend,
            items=items,
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


def _check_no_overlap(packs: list[RulePack]) -> None:
    problems = []
    for i, a in enumerate(packs):
        for b in packs[i + 1 :]:
            a_end = a.effective.end or _dt.date.max
            b_end = b.effective.end or _dt.date.max
            if a.effective.start <= b_end and b.effective.start <= a_end:
                problems.append(
                    Problem(
                        message=f"packs {a.name} {a.version} ({a.effective}) and {b.name} {b.version} "
                        f"({b.effective}) are both in force on some days; give them to separate engines"
                    )
                )
    if problems:
        raise RulePackError(problems)


# -- deciding one item ----------------------------------------------------------


class _Decided(NamedTuple):
    """An item's decision apart from what is the item's own (index,
    description, RFA line, what-if): the conclusion is `before` + the
    description + `after`."""

    outcome: Outcome
    rules: tuple[str, ...]
    findings: tuple[Finding, ...]
    citations: tuple[Citation, ...]
    body_regions: tuple[str, ...]
    guideline: str
    case: str
    before: str
    after: str


def _decide_item(
    case: Case, index: int, facets_: list[tuple[Facet, _Answer]], compiled: _Compiled, day: int, what_if: bool
) -> ItemDecision:
    item = case.requested_items[index]
    first, answer = facets_[0]
    rules = compiled.by_treatment.get(item.treatment)
    notes = first.notes  # read, never changed
    if rules is not None and first.derived_notes:
        # A derived fact is explained where this treatment's rules read it, and nowhere else.
        reads = rules.reads
        explained = [d.note for f, d in first.derived_notes.items() if f in reads]
        if explained:
            notes = [*notes, *dict.fromkeys(explained)]
    if compiled.cache_size:
        # Everything the decision reads: the treatment; per region, the rule
        # branches kept (they settle its status) and the facts their findings
        # word; and the notes. The description is put in afterwards.
        if len(facets_) == 1:
            regions = ((first.body_region, answer.kept_ids, *map(first.facts.get, answer.worded)),)
        else:
            regions = tuple((f.body_region, a.kept_ids, *map(f.facts.get, a.worded)) for f, a in facets_)
        key = (item.treatment, regions, *notes)
        compiled.item_lookups += 1
        decided = compiled._item_memo.get(key)
        if decided is None:
            decided = _decide_regions(item.treatment, facets_, notes, compiled)
            compiled.remember(compiled._item_memo, key, decided)
        else:
            compiled.item_hits += 1
    else:
        decided = _decide_regions(item.treatment, facets_, notes, compiled)

    options = _what_if(case, item, facets_, compiled, day, decided.outcome) if what_if else None
    # As validation would leave them (decision.assembled): the case is
    # validated, and _Decided holds members and models. Lists are the item's own.
    rationale = {"guideline": decided.guideline, "case": decided.case, "conclusion": decided.before + item.description + decided.after}
    return assembled(
        ItemDecision,
        {
            "index": index,
            "description": item.description,
            "treatment": item.treatment,
            "body_regions": list(decided.body_regions),
            "outcome": decided.outcome,
            "rules": list(decided.rules),
            "findings": list(decided.findings),
            "citations": list(decided.citations),
            "rationale": assembled(Rationale, rationale),
            "rfa": item.rfa,
            "what_if": options,
        },
    )


def _decide_regions(
    treatment: str, facets_: list[tuple[Facet, _Answer]], notes: list[str], compiled: _Compiled
) -> _Decided:
    multi = len(facets_) > 1
    findings = [_note(n) for n in notes]
    status: dict[str, str] = {}
    for facet, answer in facets_:
        findings.extend(compiled.finding(b, facet) for b in answer.kept)
        status[facet.body_region] = answer.status
    outcome = item_outcome(status)
    if outcome is Outcome.UPHELD:
        decisive = [f for f in findings if f.kind in FAILING]
    elif outcome is Outcome.OVERTURNED:
        decisive = [f for f in findings if f.kind in SUPPORTING or f.kind == "criterion_met"]
    else:
        decisive = []

    rule_ids = tuple(dict.fromkeys(f.rule for f in decisive if f.rule))
    guideline, citations = compiled.guideline(rule_ids)
    guideline, case_text, before, after = _rationale(
        treatment, outcome, guideline, decisive, notes, status, multi, compiled.pack
    )
    # As the members the decision model holds, so that validating them is a lookup.
    regions = tuple(_REGIONS.get(r, r) for r in status)
    return _Decided(outcome, rule_ids, tuple(findings), citations, regions, guideline, case_text, before, after)


_REGIONS = {r.value: r for r in BodyRegion}


@lru_cache(maxsize=4096)
def _note(text: str) -> Finding:
    # Findings are immutable, and the same notes recur from case to case.
    return Finding(kind="note", text=text)


def _what_if(
    case: Case, item: Any, facets_: list[tuple[Facet, _Answer]], compiled: _Compiled, day: int, outcome: Outcome
) -> WhatIf:
    def decide(varied: list[Facet]) -> tuple[Outcome, list[tuple[Facet, Branch]]]:
        status, failing = {}, []
        for facet in varied:
            answer = compiled.match(facet, day)
            status[facet.body_region] = answer.status
            failing.extend((facet, b) for b in answer.kept if b.verdict == "fail")
        return item_outcome(status), failing

    # The key holds everything the search reads: the facts the rules read, the
    # prior and requested counts apart (the rules may read only their sum), the
    # visits already documented, the diagnoses' regions and groups, whether
    # a prior course exists, and what the search reads of the surgery and the
    # courses' dates (case_key). The same key, the same answer.
    courses = prior_courses(case, item.treatment)
    first = facets_[0][0].facts
    key = (
        tuple(compiled.fact_key(f, day) for f, _ in facets_),
        first["visits_to_date"],
        first["visits_requested"],
        documented_prior_visits(courses),
        tuple((d.group, tuple(d.body_regions)) for d in case.diagnoses),
        bool(courses),
        case_key(case, [f for f, _ in facets_]),
    )
    found = compiled._options_memo.get(key)
    if found is None:
        plain = [facet for facet, _ in facets_]
        bounds = compiled.bounds[item.treatment]
        supported = supported_visits(decide, plain, case, bounds)
        options = []
        if outcome is Outcome.UPHELD:
            failing = [(f, b) for f, answer in facets_ for b in answer.kept if b.verdict == "fail"]
            options = alternatives(decide, plain, case, bounds, failing, supported)
        found = WhatIf(supported_visits=supported, alternatives=options)
        compiled.remember(compiled._options_memo, key, found)
    return found


class _Answer(NamedTuple):
    """What the rules say about one facet: the branches that hold, those
    left once MTUS precedence is applied, the region's status, and the facts
    the findings of the kept branches word (see _worded)."""

    branches: tuple[Branch, ...]
    kept: tuple[Branch, ...]
    status: str
    worded: tuple[str, ...]
    # The kept branches by id, for memo keys: branches live as long as their
    # pack, so an id is never reused for another branch while it is in a key.
    kept_ids: tuple[int, ...]


_NO_ANSWER = _Answer((), (), "none", (), ())


def facet_status(kept: Iterable[Branch]) -> str:
    verdicts = {b.verdict for b in kept}
    return "fail" if "fail" in verdicts else "support" if "support" in verdicts else "none"


def item_outcome(status: dict[str, str]) -> Outcome:
    """Upheld if any region fails; overturned only if every region is supported."""
    values = status.values()
    if "fail" in values:
        return Outcome.UPHELD
    if all(v == "support" for v in values):
        return Outcome.OVERTURNED
    return Outcome.NO_APPLICABLE_GUIDELINE


def _apply_precedence(branches: tuple[Branch, ...]) -> list[Branch]:
    """An MTUS rule governs every ODG rule on the same question."""
    mtus_questions = {b.rule.question for b in branches if b.rule.source == "MTUS"}
    return [b for b in branches if b.rule.source == "MTUS" or b.rule.question not in mtus_questions]


def _shown(facts: Mapping[str, Any], name: str) -> str:
    value = facts[name]
    if value is None:
        if FACTS[name].stated_only:
            return "not stated"
        least = facts.get(name + AT_LEAST_SUFFIX, 0)
        return f"not documented (at least {least})" if least else "not documented"
    if name.startswith("months_"):
        return months_words(value)
    return str(value).replace("_", " ")


def _visits_phrase(facts: Mapping[str, Any], counts: str) -> str:
    prior, requested = facts["visits_to_date"], facts["visits_requested"]
    if counts == "visits_requested":
        return f"{requested} visits requested"
    total = facts[counts]
    if counts == "injury_visits":
        prior = None if total is None else total - (requested or 0)
    if prior is None:
        least = facts[counts + AT_LEAST_SUFFIX]
        known = least - (requested or 0)
        shown = f"at least {known} prior visits documented" if known else "prior visits not documented"
        if requested is None:
            return f"{shown} and no quantity stated"
        return f"{shown} + {requested} requested = at least {least} visits"
    if requested is None:
        return f"{prior} prior visits and no quantity stated"
    return f"{prior} prior + {requested} requested = {total} visits"


#: The counts `_visits_phrase` words as visits (prior + requested).
_VISIT_COUNTS = ("injury_visits", "total_visits", "visits_requested")


def _worded(branch: Branch) -> tuple[str, ...]:
    """The facts `_finding` reads for this branch, besides the treatment and
    the region: a finding is the same wherever these are (the finding and item
    memos are keyed on them). Kept in step with `_finding` and `_visits_phrase`;
    tests/test_perf_identity.py checks it on every branch it meets."""
    rule = branch.rule
    tests = list(branch.when)  # the context: `when` facts shown when remarkable
    counts = False
    if branch.branch == "undetermined":
        tests += branch.conditions  # which conditions are open
        counts = True  # needs(): whether the request itself leaves a total open
    test = effect_test(rule)
    if test is not None:
        tests.append(test)
        # A limit's phrase words prior + requested; so does a statute's count, and needs().
        counts = counts or rule.effect == "limit" or rule.source == "statute" or branch.branch == "unknown"
    names = [name for t in tests for name in (t.fact, t.fact + AT_LEAST_SUFFIX)]
    if counts:
        names += [f"{n}{suffix}" for n in _VISIT_COUNTS for suffix in ("", AT_LEAST_SUFFIX)]
        names += ["visits_to_date", "visits_to_date" + AT_LEAST_SUFFIX]
    return tuple(dict.fromkeys(names))


def _finding(branch: Branch, facet: Facet) -> Finding:
    rule, facts = branch.rule, facet.facts
    region = facet.body_region
    treatment = label(facts["treatment"])

    def needs(names: list[str]) -> list[str]:
        # A total is open because of the request itself when the prior visits
        # are known (hours that do not say how many sessions): ask for that.
        request_open = facts["visits_to_date"] is not None and facts["visits_requested"] is None
        names = ["visits_requested" if n in ("total_visits", "injury_visits") and request_open else n for n in names]
        return list(dict.fromkeys(FACTS[n].needed.replace("this treatment", treatment) for n in names))

    def make(kind: str, text: str, needed: list[str] | None = None) -> Finding:
        return Finding(kind=kind, rule=rule.id, body_region=region, text=text, needed=tuple(needed or ()))

    if branch.branch == "undetermined":
        needed = needs([t.fact for t in branch.conditions if t.holds(facts) is None])
        if rule.source == "statute":
            return make(
                "insufficient_documentation",
                f"Not documented: {'; '.join(needed)}. It is needed to tell whether the statutory cap applies "
                f"({rule.title}).",
                needed,
            )
        return make(
            "insufficient_documentation",
            f"Not documented: {'; '.join(needed)}. It is needed to apply the rule: {rule.title}.",
            needed,
        )
    context = "; ".join(
        f"{FACTS[t.fact].label}: {_shown(facts, t.fact)}"
        for t in branch.when
        if facts[t.fact] is None or facts[t.fact] != FACTS[t.fact].unremarkable
    )
    if rule.effect == "not_recommended":
        return make("not_recommended", f"{rule.title}" + (f" ({context})." if context else "."))
    if rule.effect == "supports":
        return make("recommended", f"{rule.title}.")
    test = effect_test(rule)
    assert test is not None
    if rule.effect == "limit":
        assert rule.limit is not None
        n, counts = rule.limit.visits, rule.limit.counts
        if branch.branch == "pass":
            return make("within_limit", f"{_visits_phrase(facts, counts)}: within the limit of {n} ({rule.title}).")
        if branch.branch == "fail":
            return make("exceeds_limit", f"{_visits_phrase(facts, counts)}: over the limit of {n} ({rule.title}).")
        needed = needs(["visits_to_date" if counts == "total_visits" else "visits_requested"])
        return make(
            "insufficient_documentation",
            f"Not documented: {needed[0]}. Without it the limit of {n} visits cannot be applied ({rule.title}).",
            needed,
        )
    # requires
    shown = f"{FACTS[test.fact].label}: {_shown(facts, test.fact)}"
    if rule.source == "statute":
        # A statute is not a guideline: its finding says what the law caps and
        # counts, never "the guideline's limit" (Labor Code 4604.5).
        # The visit count the statute tests (not another count such as injury_year).
        counted = next((t for t in branch.when if t.fact in _VISIT_COUNTS), None)
        counts = f"{_visits_phrase(facts, counted.fact)}; " if counted else ""
        if branch.branch == "pass":
            return make("criterion_met", f"{rule.title} ({counts}{shown}): the cap is lifted.")
        if branch.branch == "fail":
            return make("exceeds_statutory_cap", f"{rule.title} ({counts}{shown}): over the statutory cap.")
        needed = needs([test.fact])
        return make(
            "insufficient_documentation", f"{rule.title} ({counts}{shown}). Not documented: {needed[0]}.", needed
        )
    prefix = f"{rule.title} ({context}; {shown})" if context else f"{rule.title} ({shown})"
    if branch.branch == "pass":
        return make("criterion_met", f"{prefix}: met.")
    if branch.branch == "fail":
        return make("criterion_not_met", f"{prefix}: not met.")
    needed = needs([test.fact])
    return make("insufficient_documentation", f"{prefix}. Not documented: {needed[0]}.", needed)


def _citations(rules: list) -> list[Citation]:
    out: dict[tuple, Citation] = {}
    for rule in rules:
        for citation in (rule.fills_gap_in, rule.citation):
            if citation is not None:
                out.setdefault((citation.guideline, citation.section, citation.pages), citation)
    return list(out.values())


def _guideline_text(rules: list) -> str:
    said: list[str] = []
    for rule in rules:
        if rule.fills_gap_in is not None:
            text = (
                f"The MTUS ({rule.fills_gap_in}) does not settle this point; ODG fills the gap "
                f"({rule.citation}): {rule.statement}"
            )
        else:
            text = f"{rule.statement} ({rule.citation})"
        if text not in said:
            said.append(text)
    return " ".join(said)


def _rationale(
    treatment: str,
    outcome: Outcome,
    guideline: str,
    decisive: list[Finding],
    notes: list[str],
    status: dict[str, str],
    multi: bool,
    pack: RulePack,
) -> tuple[str, str, str, str]:
    """The guideline and case parts of the rationale, and its conclusion as
    the words before and after the item's description."""
    regions_by_text: dict[str, list[str]] = {}
    for finding in decisive:
        regions_by_text.setdefault(finding.text, []).append(label(finding.body_region))
    case_lines = list(notes)
    for text, regions in regions_by_text.items():
        shown = list(dict.fromkeys(regions))
        case_lines.append(f"{', '.join(shown).capitalize()}: {text}" if multi else text)
    if outcome is Outcome.UPHELD:
        failed = [r for r, s in status.items() if s == "fail"]
        where = ""
        if multi and len(failed) < len(status):
            where = f" It is not supported for the {', '.join(label(r) for r in failed)}, and a request is medically necessary only if it is for every part it covers."
        before, after = "Therefore, the request for ", f" is not medically necessary.{where}"

    elif outcome is Outcome.OVERTURNED:
        before, after = "Therefore, the request for ", " is medically necessary."
    else:
        open_regions = [label(r) for r, s in status.items() if s == "none"]
        gap = f"No rule in {pack.name} {pack.version} decides {label(treatment)} for the {', '.join(open_regions)}."
        guideline = f"{guideline} {gap}" if guideline else gap
        before, after = "The request for ", " cannot be decided from these rules (no applicable guideline)."
    return guideline, " ".join(case_lines), before, after
