"""How many conditions one durable_rules ruleset can hold, and splitting to fit.

durable_rules' C engine (src/rules/rete.c, events.c, rules.h of
jruizgit/rules 2.0.28) compiles a ruleset into an alpha network with
fixed-size tables, and fails when one fills:

- error 106: more than 511 distinct tests below one node (a 512-slot hash set);
- error 107: more than 127 `$or` groups ending at one node (each `$or` gets a
  fresh "forward" node, never shared, listed on every alternative's last node);
- error 108: more than 255 rules ending at one node;
- error 113: 32 expressions in one rule (each `$and` / `$or` counts two);
- error 303, at match time: matching walks the network depth first with an
  explicit stack of 64 nodes; a node pushes every forward node listed on it and
  every child test the fact passes. Sixty-five rules sharing a prefix and each
  ending in an `$or` overflow it on every fact that reaches the prefix.

The first four fail `create_ruleset`; the fifth fails every match, after a pack
has loaded cleanly. So the network durable would build is modelled here (same
sharing rules as rete.c's findAlpha: a test is shared by rules with the same
path to it, a forward node never is), with a worst-case bound on the stack: at
a node, tests of one field for equality with different values cannot both
pass, anything else might, and children are pushed in the worst order. Rules
are packed greedily into rulesets that stay within every limit; a rule that
alone exceeds one is an error naming the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: What rete.c / events.c allow; each is the C constant minus the slot the
#: C code needs to stay free (a zero terminator, an empty hash slot).
MAX_STACK = 64  # events.c MAX_STACK_SIZE: pushes beyond 64 are error 303
MAX_TESTS_BELOW_NODE = 511  # rules.h NEXT_BUCKET_LENGTH 512 (open addressing)
MAX_FORWARDS_ON_NODE = 127  # rules.h NEXT_LIST_LENGTH 128, zero-terminated
MAX_RULES_ON_NODE = 255  # rules.h BETA_LIST_LENGTH 256, zero-terminated
MAX_EXPRESSIONS = 31  # rete.h MAX_SEQUENCE_EXPRESSIONS 32

#: Every ruleset also holds the adapter's priming rule: one test on the root.
PRIME_FIELD = "mtus_rules_prime"


class CapacityError(ValueError):
    """One condition is more than a durable_rules ruleset can hold."""

    def __init__(self, name: str, message: str):
        self.name = name  # the condition's name
        super().__init__(message)


class _Node:
    __slots__ = ("tests", "forwards", "rules", "peak")

    def __init__(self) -> None:
        self.tests: dict[tuple[str, str, tuple[str, Any]], _Node] = {}
        self.forwards: list[_Node] = []
        self.rules = 0
        self.peak = -1  # memo of the stack bound below this node, -1: unknown


def _leaf(cond: dict) -> tuple[str, str, tuple[str, Any]]:
    (key, value), = cond.items()
    if key.startswith("$"):
        (field, operand), = value.items()
        op = key
    else:
        field, operand, op = key, value, "$eq"
    # durable compares by JSON type: true and 1 are different tests.
    return field, op, (type(operand).__name__, operand)


def _groups(cond: dict) -> int:
    (key, value), = cond.items()
    if key in ("$and", "$or"):
        return 1 + sum(_groups(c) for c in value)
    return 0


class _Network:
    """The alpha network durable builds for a set of single-fact rules."""

    def __init__(self) -> None:
        self.root = _Node()
        self.problem: str | None = None  # the first limit exceeded
        self.add(PRIME_FIELD, {PRIME_FIELD: True})

    def add(self, name: str, cond: dict) -> None:
        if 2 * _groups(cond) > MAX_EXPRESSIONS:
            self._exceeded(f"{2 * _groups(cond)} expressions in rule {name} (durable allows {MAX_EXPRESSIONS})")
        end = self._build(self.root, cond)
        end.rules += 1
        if end.rules > MAX_RULES_ON_NODE:
            self._exceeded(f"more than {MAX_RULES_ON_NODE} rules with the same conditions")

    def _exceeded(self, what: str) -> None:
        if self.problem is None:
            self.problem = what

    def _build(self, parent: _Node, cond: dict) -> _Node:
        (key, value), = cond.items()
        if key == "$and":
            node = parent
            for part in value:
                node = self._build(node, part)
            return node
        if key == "$or":
            forward = _Node()
            for part in value:
                end = self._build(parent, part)
                end.forwards.append(forward)
                if len(end.forwards) > MAX_FORWARDS_ON_NODE:
                    self._exceeded(f"more than {MAX_FORWARDS_ON_NODE} alternatives ($or) after one test")
            return forward
        test = _leaf(cond)
        found = parent.tests.get(test)
        if found is None:
            found = parent.tests[test] = _Node()
            if len(parent.tests) > MAX_TESTS_BELOW_NODE:
                self._exceeded(f"more than {MAX_TESTS_BELOW_NODE} different tests after one test")
        return found

    def stack_bound(self) -> int:
        """An upper bound of durable's match stack for any fact."""
        seen: list[_Node] = []
        try:
            return _peak(self.root, seen)
        finally:
            for node in seen:
                node.peak = -1

    def check(self) -> str | None:
        if self.problem is None and self.stack_bound() > MAX_STACK:
            self.problem = f"more than {MAX_STACK} tests to follow at once when matching (durable's stack)"
        return self.problem


def _peak(node: _Node, seen: list[_Node]) -> int:
    if node.peak >= 0:
        return node.peak
    # Children a fact can reach: every forward node, and of the tests of one
    # field, every comparison but only one equality (a field has one value).
    pushed = len(node.forwards)
    deepest = max((_peak(f, seen) for f in node.forwards), default=0)
    equalities: set[str] = set()
    for (field, op, _), child in node.tests.items():
        below = _peak(child, seen)
        deepest = max(deepest, below)
        if op == "$eq":
            equalities.add(field)
        else:
            pushed += 1
    pushed += len(equalities)
    node.peak = 0 if pushed == 0 else max(pushed, pushed - 1 + deepest)
    seen.append(node)
    return node.peak


def split_conditions(label: str, conditions: Mapping[str, dict]) -> list[dict[str, dict]]:
    """`conditions` in as few parts as keep each within durable's limits, in
    order. Raises CapacityError naming the rule and the limit if one rule alone
    exceeds them."""
    whole = _Network()
    for name, cond in conditions.items():
        whole.add(name, cond)
    if whole.check() is None:
        return [dict(conditions)]
    parts: list[dict[str, dict]] = []
    current: dict[str, dict] = {}
    network = _Network()
    for name, cond in conditions.items():
        network.add(name, cond)
        if network.check() is None:
            current[name] = cond
            continue
        alone = _Network()
        alone.add(name, cond)
        problem = alone.check()
        if problem is not None:
            raise CapacityError(name, f"condition {name} ({label}) is more than durable_rules can hold: {problem}")
        parts.append(current)
        current = {name: cond}
        network = alone
    parts.append(current)
    return parts
