"""Turn a rule pack into named engine conditions, one per rule outcome.

Each rule becomes up to four conditions (its "branches"), built so that for
any facet at most one branch of a rule holds:

- `applies`       conditions true (not_recommended and supports rules)
- `pass` / `fail` conditions true, and the limit or requirement met / not met
- `unknown`       conditions true, but the limit or requirement turns on a
                  fact the record does not document
- `undetermined`  no condition false, but at least one not documented, and
                  the limit or requirement (if any) not already met
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..packs.conditions import AT_LEAST_SUFFIX, FACTS, KNOWN_SUFFIX, Test, engine_all_of, join_all, join_any
from ..packs.model import Rule, RulePack

BRANCHES = ("applies", "pass", "fail", "unknown", "undetermined")
SEPARATOR = "#"


@dataclass(frozen=True)
class Branch:
    rule: Rule
    branch: str
    conditions: tuple[Test, ...]  # the rule's region scope and `when` tests
    when: tuple[Test, ...]  # the `when` tests alone
    position: int  # the rule's place in its pack, for a stable order
    verdict: str  # "fail", "support" or "neutral": what this branch does to its region
    # The rule's source and question, read by precedence (outcome.set_aside) for
    # every facet: kept here as plain fields rather than looked up in the rule.
    source: str
    question: str


def verdict(rule: Rule, branch: str) -> str:
    if branch in ("fail", "unknown", "undetermined") or rule.effect == "not_recommended":
        return "fail"
    if rule.effect in ("supports", "limit"):
        return "support"
    return "neutral"  # a requirement that is met neither supports nor fails


def statute_bars_only_what_is_shown(rule: Rule) -> bool:
    """A statute's cap is applied by the claims administrator from its own records; the
    documentation burden of medical necessity is the patient's, not the cap's. So a
    statute rule whose conditions the record leaves open (a visit count not documented)
    is not "insufficient documentation": it bars only what the record shows."""
    return rule.citation.source == "statute"


def effect_test(rule: Rule) -> Test | None:
    if rule.effect == "limit":
        assert rule.limit is not None
        return Test(rule.limit.counts, "le", rule.limit.visits)
    if rule.effect == "requires":
        return rule.requirement
    return None


def rule_conditions(rule: Rule) -> list[Test]:
    """The rule's `when` tests, preceded by its body-region scope.

    The region is a test like any other, so a request that specifies no region
    leaves a region-scoped rule undetermined ("might apply") rather than
    silently not applying."""
    regions = rule.applies_to.body_region
    region = [Test("body_region", "is", tuple(r.value for r in regions))] if regions else []
    return region + rule.conditions


def scope_condition(rule: Rule, treatment: str | None = None) -> dict:
    """The rule's scope. For the ruleset of one `treatment` the treatment test
    is that one value: durable_rules adds a node below every value of an `$or`
    for each rule using it, and pushes all of them for every fact that matches
    the value, at most 64 at a time (its MAX_STACK_SIZE, error 303), so rules
    naming several treatments must not repeat an `$or` of them each time."""
    scope = rule.applies_to
    treatments = [treatment] if treatment is not None else [t.value for t in scope.treatment]
    parts: list[dict | None] = [join_any([{"treatment": t} for t in treatments])]
    if scope.diagnosis_group:
        parts.append(join_any([{f"dx_{g.value}": True} for g in scope.diagnosis_group]))
    if scope.unless_diagnosis_group:
        parts.append(join_all([{f"dx_{g.value}": False} for g in scope.unless_diagnosis_group]))
    if rule.effective is not None:
        parts.append({"$gte": {"request_day": rule.effective.start.toordinal()}})
        if rule.effective.end is not None:
            parts.append({"$lte": {"request_day": rule.effective.end.toordinal()}})
    cond = join_all(parts)
    assert cond is not None
    return cond


def thresholds(pack: RulePack, treatment: str) -> dict[str, frozenset[int]]:
    """Every number a count fact is compared with in the rules for `treatment`,
    by fact: the only places where an outcome can change."""
    found: dict[str, set[int]] = {}
    for rule in pack.rules:
        if treatment not in rule.applies_to.treatment:
            continue
        tests = list(rule.conditions)
        extra = effect_test(rule)
        if extra is not None:
            tests.append(extra)
        for test in tests:
            if FACTS[test.fact].kind == "count":
                found.setdefault(test.fact, set()).add(test.value)
    return {fact: frozenset(values) for fact, values in found.items()}


def fields_used(conditions: dict[str, dict]) -> frozenset[str]:
    """Every fact field some condition reads: the engine is sent only these."""
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.startswith("$"):
                    walk(value)
                else:
                    used.add(key)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(list(conditions.values()))
    return frozenset(used)


def compile_pack(pack: RulePack, treatment: str | None = None) -> tuple[dict[str, dict], dict[str, Branch]]:
    """Engine conditions by branch name, and what each name stands for; with
    `treatment`, only for the rules that apply to it (one engine ruleset)."""
    conditions: dict[str, dict] = {}
    branches: dict[str, Branch] = {}

    for position, rule in enumerate(pack.rules):
        if treatment is not None and treatment not in rule.applies_to.treatment:
            continue
        scope = scope_condition(rule, treatment)
        tests = tuple(rule_conditions(rule))
        when_true, when_unknown = engine_all_of(list(tests))
        outcomes: list[tuple[str, list[dict | None]]] = []
        test = effect_test(rule)
        if test is None:
            outcomes.append(("applies", [scope, when_true]))
        else:
            passed, failed, unknown = test.engine_conditions()
            for branch, cond in (("pass", passed), ("fail", failed), ("unknown", unknown)):
                if cond is not None:  # None: this outcome is impossible for the test
                    outcomes.append((branch, [scope, when_true, cond]))
        if when_unknown is not None:
            # A rule that might apply is undetermined only if its effect could
            # still fail: a requirement already met (improvement documented) or
            # a limit already kept decides nothing whether or not it applies.
            could_fail = None if test is None else join_any(list(test.engine_conditions()[1:]))
            if not statute_bars_only_what_is_shown(rule) and (test is None or could_fail is not None):
                outcomes.append(("undetermined", [scope, when_unknown, could_fail]))
        for branch, parts in outcomes:
            name = f"{rule.id}{SEPARATOR}{branch}"
            cond = join_all(parts)
            assert cond is not None
            conditions[name] = cond
            branches[name] = Branch(
                rule, branch, tests, tuple(rule.conditions), position, verdict(rule, branch), rule.source, rule.question
            )
    return conditions, branches


def fact_values(used: tuple[str, ...]) -> Callable[[dict[str, Any], frozenset[str], int], tuple]:
    """A function giving the values of the engine's fact for a facet, one per
    `used` field in that order (the fact is `dict(zip(used, values))`): counts
    as a number plus a `_known` flag, diagnosis groups as `dx_<group>` flags,
    and the request day; nothing no rule reads.

    It runs for every region of every item, so it is compiled into a single
    expression (as namedtuple and dataclasses do) instead of looping over a
    plan; the field names are quoted with repr."""
    parts = _value_parts(used)
    body = f"({', '.join(parts)},)" if parts else "()"
    return eval(f"lambda facts, groups, day: {body}", {})  # noqa: S307 - built above from fact names only


def fact_dict(used: tuple[str, ...]) -> Callable[[dict[str, Any], frozenset[str], int], dict[str, Any]]:
    """The engine's fact for a facet, `dict(zip(used, fact_values(used)(...)))`,
    built as one dict display: it is made for every region of every item that
    the matcher is asked about."""
    parts = _value_parts(used)
    body = ", ".join(f"{name!r}: {part}" for name, part in zip(used, parts))
    return eval(f"lambda facts, groups, day: {{{body}}}", {})  # noqa: S307 - built above from fact names only


def _value_parts(used: tuple[str, ...]) -> list[str]:
    """One expression per field for the compiled functions above, reading
    `facts`, `groups` and `day`."""
    parts: list[str] = []
    for name in used:
        if name == "request_day":
            parts.append("day")
        elif name.startswith("dx_"):
            parts.append(f"{name[3:]!r} in groups")
        elif name.endswith(KNOWN_SUFFIX) and name[: -len(KNOWN_SUFFIX)] in _COUNTS:
            parts.append(f"facts[{name[: -len(KNOWN_SUFFIX)]!r}] is not None")
        elif name in _COUNTS:
            # Not documented: the least it can be (see Test.engine_conditions).
            least = name + AT_LEAST_SUFFIX
            parts.append(f"(facts[{name!r}] if facts[{name!r}] is not None else facts.get({least!r}, 0))")
        else:
            parts.append(f"facts[{name!r}]")
    return parts


_COUNTS = frozenset(name for name, fact in FACTS.items() if fact.kind == "count")


#: The engine's ordering comparisons; any other operator compares for (in)equality.
_ORDERING = frozenset({"$lt", "$lte", "$gt", "$gte"})


def _comparisons(conditions: dict[str, dict]) -> dict[str, list[tuple[str, Any]]]:
    """Per field, how the conditions compare it: ("order", number) for <, <=, >, >=,
    ("equal", value) for == and !=, ("other", None) for anything else."""
    found: dict[str, list[tuple[str, Any]]] = {}

    def walk(node: Any, op: str | None) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child, op)
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key in ("$and", "$or"):
                walk(value, None)
            elif key in _ORDERING and isinstance(value, dict):
                walk(value, "order")
            elif key == "$neq" and isinstance(value, dict):
                walk(value, "equal")
            elif key.startswith("$"):  # an operator this does not know
                for name in _fields_under(value):
                    found.setdefault(name, []).append(("other", None))
            elif isinstance(value, (dict, list)):
                found.setdefault(key, []).append(("other", None))
            else:
                found.setdefault(key, []).append((op or "equal", value))

    walk(list(conditions.values()), None)
    return found


def cut_points(conditions: dict[str, dict]) -> dict[str, tuple[int | float, ...]]:
    """The numbers each field is compared with, for the fields the conditions
    compare only by order (<, <=, >, >=) and only with numbers.

    Where a value falls among these points (below, on, between, above each)
    settles every comparison of that field, so two facts whose fields fall
    alike get the same answer from the engine. A field compared for equality,
    with anything but a number, or under an operator not known here, is left
    out: its raw value is what counts."""
    return {
        name: tuple(sorted({value for _, value in tests}))
        for name, tests in _comparisons(conditions).items()
        if all(kind == "order" and _is_number(value) for kind, value in tests)
    }


def choice_sets(conditions: dict[str, dict]) -> dict[str, frozenset[str]]:
    """The texts each field is compared with, for the fields the conditions
    compare only for (in)equality and only with texts: any other text is
    unequal to all of them, so every such text gets the same answer."""
    return {
        name: frozenset(value for _, value in tests)
        for name, tests in _comparisons(conditions).items()
        if all(kind == "equal" and isinstance(value, str) for kind, value in tests)
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fields_under(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("$"):
                found.add(key)
            found |= _fields_under(value)
    elif isinstance(node, list):
        for child in node:
            found |= _fields_under(child)
    return found


#: Stands for every text a choice field is never compared with (see choice_sets).
OTHER_CHOICE = ("any other text",)


class _Places(dict):
    """Where a number falls among `points`: 2i below the i-th point, 2i+1 on
    it, as a lookup (`places[value]`). Counts are small whole numbers, so the
    places of 0 up to past the last point are kept, and other whole numbers
    as they come (years), up to a bound; any other value is worked out when
    asked. Anything but a number is kept as itself, in a tuple (no place
    equals it). Counts are never booleans (the case validates them as whole
    numbers), which a lookup would take for 0 and 1."""

    LIMIT = 4096

    def __init__(self, points: tuple[int | float, ...]):
        super().__init__()
        self.points = points
        for n in range(0, int(max(points, default=0)) + 2):
            self[n] = self.__missing__(n)

    def __missing__(self, value: Any) -> Any:
        if type(value) is not int and type(value) is not float:
            return (value,)
        points = self.points
        i = bisect_left(points, value)
        place = 2 * i + 1 if i < len(points) and points[i] == value else 2 * i
        if type(value) is int and len(self) < self.LIMIT:
            self[value] = place  # a race between threads stores the same place twice
        return place


def fact_key(
    used: tuple[str, ...],
    cuts: dict[str, tuple[int | float, ...]],
    choices: dict[str, frozenset[str]] | None = None,
) -> Callable[[dict[str, Any], frozenset[str], int], tuple]:
    """Like `fact_values`, but each field in `cuts` is given as where its value
    falls among its cut points (see cut_points), and each in `choices` as its
    text or OTHER_CHOICE (see choice_sets): the same key, the same answer from
    the engine, for every fact it stands for."""
    parts = _value_parts(used)
    scope: dict[str, Any] = {"_other": OTHER_CHOICE, "_str": str}
    for i, name in enumerate(used):
        part = parts[i]
        if name in cuts:
            scope[f"_p{i}"] = _Places(cuts[name])
            parts[i] = f"_p{i}[{part}]"
        elif choices and name in choices and part == f"facts[{name!r}]":
            # Inline, not a call per field: a text the rules never name is
            # folded; anything else, a named text or not a text, is kept.
            scope[f"_p{i}"] = choices[name]
            parts[i] = f"({part} if {part} in _p{i} or not isinstance({part}, _str) else _other)"
    body = f"({', '.join(parts)},)" if parts else "()"
    return eval(f"lambda facts, groups, day: {body}", scope)  # noqa: S307 - built above from fact names only


def rule_of(name: str) -> str:
    """The rule id of an engine condition's name (`<rule id>#<branch>`)."""
    return name.rpartition(SEPARATOR)[0]


RuleKey = tuple[frozenset[str], Callable[[dict[str, Any], frozenset[str], int], tuple]]


def rule_keys(conditions: dict[str, dict]) -> tuple[RuleKey, ...]:
    """Per group of rules of one engine ruleset that read the same fields,
    their ids and a function giving the `fact_key` of those fields, cut at
    those rules' own points.

    A rule's branches hold or not by its fields only, so which of them the
    engine fires for a fact is the same for every fact with the same key:
    facts new to the whole ruleset are often made of parts each rule has seen
    (see evaluation.matching.CompiledPack.match)."""
    by_rule: dict[str, dict[str, dict]] = {}
    for name, cond in conditions.items():
        by_rule.setdefault(rule_of(name), {})[name] = cond
    # Rules that read the same fields share one key, cut at the points of
    # them all (finer than each needs, so still enough for each): fewer keys
    # to work out per fact.
    by_fields: dict[tuple[str, ...], dict[str, dict]] = {}
    for mine in by_rule.values():
        by_fields.setdefault(tuple(sorted(fields_used(mine))), {}).update(mine)
    return tuple(
        (frozenset(rule_of(name) for name in shared), fact_key(fields, cut_points(shared), choice_sets(shared)))
        for fields, shared in by_fields.items()
    )
