"""The one module that touches durable_rules.

durable-rules 2.0.28 is unmaintained (source only, last release 2020), so
everything the library needs from it goes through `Matcher`, and
tests/evaluation/test_durable_contract.py pins every call and return shape used here.

How it is used, and why (see shared/reference/durable-rules.md):
- The C module `durable_rules_engine` is called directly. The stock `Host`
  starts timer threads that can run actions on any state, and its global
  registry refuses a ruleset name twice.
- Each match asserts one fact, collects every rule that fires, and retracts the
  fact. A fact (unlike an event, which the first matching rule consumes) is
  seen by every rule whose conditions it meets. Retracting it keeps memory flat.
- One session per ruleset, used under a lock: threads sharing a session
  unlocked get wrong answers, not errors. The engine holds the GIL anyway, so
  the lock costs no throughput.
- A fact id that is unique per match: durable refuses a fact whose content it
  has already seen.
- The C engine has fixed-size tables; `_capacity` splits a set of conditions
  over as many rulesets as it needs so that none overflows (errors 106-108,
  113 at creation, 303 at match time).

Interruptions. A match is several C calls; an exception between two of them
(Ctrl-C, a timeout raised by a signal handler, any error) leaves the session
holding a fact or a half-run action, and the next match would report that
fact's rules too. So a ruleset is checked out of its Matcher for the duration
of one match and put back only when the match completed; one that is not put
back is deleted and a fresh one (a new, unique name) is built on the next
match. Nothing is ever "repaired" in place.

Native memory. `delete_ruleset` does not free a session's tables (about 10 KB
per rule), so a ruleset is deleted with `delete_state` first. durable leaves a
new session's action context uninitialised and `delete_state` frees it (an
invalid free: heap corruption, SIGSEGV later); one complete action cycle on a
sentinel fact ("priming", at creation) sets it, and from then on
`delete_state` is safe whatever the session holds. A ruleset whose priming was
interrupted is deleted without its session (a bounded leak, never a crash).

Fork. A child forked while another thread is inside `match` inherits that
thread's lock held forever; after a fork each live Matcher gets a new lock in
the child, and the ruleset the other thread had checked out is rebuilt there.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Mapping

import durable_rules_engine as _engine

from ._capacity import split_conditions
from .._forksafe import renew_after_fork

_SID = "0"
_names = itertools.count(1)

# Return codes of assert_fact / retract_fact (durable's rules.h).
_OK = 0
_NO_MATCH = 1

# The sentinel rule every ruleset carries for priming. Conditions name fact
# fields from compile.py (identifiers), never this one.
_PRIME_RULE = "mtus_rules.prime"
_PRIME_FIELD = "mtus_rules_prime"
_PRIME_FACT = json.dumps({"sid": _SID, "id": 0, _PRIME_FIELD: True})


def _rule_name(message: str) -> str:
    # A message is '{"<rule name>":{...the fact...}}' with exactly one key. Rule
    # names never contain quotes (compile.py builds them from validated ids), so
    # the name is read directly instead of JSON-decoding the whole fact again.
    if not message.startswith('{"'):
        raise EngineFailure(f"unexpected action message {message[:80]!r}")
    return message[2 : message.index('"', 2)]


class EngineFailure(RuntimeError):
    """durable_rules did something this adapter does not expect."""


def definition(conditions: Mapping[str, dict]) -> str:
    """The ruleset JSON durable compiles: one single-fact rule per condition,
    plus the priming rule."""
    rules = {name: {"all": [{"m": cond}]} for name, cond in conditions.items()}
    rules[_PRIME_RULE] = {"all": [{"m": {_PRIME_FIELD: True}}]}
    return json.dumps(rules)


class _Ruleset:
    """One native ruleset and its one session. Used by one thread at a time."""

    __slots__ = ("_handle", "_primed", "__weakref__")

    def __init__(self, name: str, text: str):
        self._handle: int | None = None
        self._primed = False
        self._handle = _engine.create_ruleset(name, text)
        if self.run(_PRIME_FACT) != [_PRIME_RULE]:
            raise EngineFailure(f"ruleset {name} did not prime")
        self._primed = True

    def run(self, text: str) -> list[str]:
        """Assert the fact `text`, collect every rule that fires, retract it.
        Any exception leaves this ruleset unusable: the caller drops it."""
        handle = self._handle
        status, state = _engine.assert_fact(handle, text)
        if status == _NO_MATCH:
            fired: list[str] = []
        elif status != _OK:
            raise EngineFailure(f"assert_fact returned status {status}")
        else:
            fired = []
            started = _engine.start_action_for_state(handle, state)
            message = started[1] if started else None
            while message:
                fired.append(_rule_name(message))
                message = _engine.complete_and_start_action(handle, state)
        status = _engine.retract_fact(handle, text)[0]
        if status != _OK:
            raise EngineFailure(f"retract_fact returned status {status}")
        # durable fires a rule once per alternative of an `$or` the fact
        # meets; a name holds or not, so each is returned once.
        return list(dict.fromkeys(fired))

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            if self._primed:
                _engine.delete_state(handle, _SID)
        except Exception:  # durable refused; the ruleset itself still goes
            pass
        finally:
            _engine.delete_ruleset(handle)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit the module may be gone
            pass


class Matcher:
    """A compiled set of named conditions; `match(fact)` returns the names that hold."""

    def __init__(self, label: str, conditions: Mapping[str, dict]):
        self.name = f"mtus_rules.{next(_names)}.{label}"
        self._texts = [definition(part) for part in split_conditions(label, conditions)]
        self._generation = itertools.count(1)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._parts: list[_Ruleset | None] = [None] * len(self._texts)
        for index in range(len(self._texts)):
            self._parts[index] = self._build(index)
        renew_after_fork(self)

    @property
    def rulesets(self) -> int:
        """How many native rulesets the conditions were split over."""
        return len(self._texts)

    @property
    def _handle(self) -> int | None:
        """The native handle of the first ruleset (for inspection in tests)."""
        part = self._parts[0]
        return part._handle if part is not None else None

    def _build(self, index: int) -> _Ruleset:
        return _Ruleset(f"{self.name}.{index}.{next(self._generation)}", self._texts[index])

    def match(self, fact: Mapping[str, object]) -> list[str]:
        payload = dict(fact)
        payload["sid"] = _SID
        with self._lock:
            payload["id"] = next(self._ids)
            text = json.dumps(payload)
            parts = self._parts
            if len(parts) == 1:  # the usual case, without the loop
                part = parts[0]
                parts[0] = None  # checked out: put back only after a complete match
                if part is None:
                    part = self._build(0)
                fired = part.run(text)
                parts[0] = part
                return fired
            fired = []
            for index in range(len(parts)):
                part = parts[index]
                parts[index] = None
                if part is None:
                    part = self._build(index)
                fired += part.run(text)
                parts[index] = part
            return fired

    def close(self) -> None:
        """Free the native rulesets now; a later match rebuilds them."""
        with self._lock:
            for index, part in enumerate(self._parts):
                self._parts[index] = None
                if part is not None:
                    part.close()

    def __del__(self) -> None:
        for part in getattr(self, "_parts", ()):
            if part is not None:
                try:
                    part.close()
                except Exception:
                    pass

    def _after_fork_in_child(self) -> None:
        # The lock may be held by a thread that does not exist in the child; the
        # ruleset that thread had checked out is missing from _parts and is
        # rebuilt on the next match.
        self._lock = threading.Lock()
