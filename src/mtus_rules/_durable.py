"""The one module that touches durable_rules.

durable-rules 2.0.28 is unmaintained (source only, last release 2020), so
everything the library needs from it goes through `Matcher`, and
tests/test_durable_contract.py pins every call and return shape used here.

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
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Mapping

import durable_rules_engine as _engine

_SID = "0"
_names = itertools.count(1)

# Return codes of assert_fact / retract_fact (durable's rules.h).
_OK = 0
_NO_MATCH = 1


def _rule_name(message: str) -> str:
    # A message is '{"<rule name>":{...the fact...}}' with exactly one key. Rule
    # names never contain quotes (compile.py builds them from validated ids), so
    # the name is read directly instead of JSON-decoding the whole fact again.
    if not message.startswith('{"'):
        raise EngineFailure(f"unexpected action message {message[:80]!r}")
    return message[2 : message.index('"', 2)]


class EngineFailure(RuntimeError):
    """durable_rules did something this adapter does not expect."""


class Matcher:
    """A compiled set of named conditions; `match(fact)` returns the names that hold."""

    def __init__(self, label: str, conditions: Mapping[str, dict]):
        self.name = f"mtus_rules.{next(_names)}.{label}"
        definition = {name: {"all": [{"m": cond}]} for name, cond in conditions.items()}
        self._handle = _engine.create_ruleset(self.name, json.dumps(definition))
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def match(self, fact: Mapping[str, object]) -> list[str]:
        with self._lock:
            payload = dict(fact)
            payload["sid"] = _SID
            payload["id"] = next(self._ids)
            text = json.dumps(payload)
            status, state = _engine.assert_fact(self._handle, text)
            if status == _NO_MATCH:
                self._retract(text)
                return []
            if status != _OK:
                self._reset()  # whatever durable kept of this fact goes with the state
                raise EngineFailure(f"assert_fact returned status {status}")
            fired: list[str] = []
            try:
                started = _engine.start_action_for_state(self._handle, state)
                message = started[1] if started else None
                while message:
                    fired.append(_rule_name(message))
                    message = _engine.complete_and_start_action(self._handle, state)
            except BaseException:
                # A started action left open locks the session and fires again
                # on the next fact; start over with a clean state.
                self._reset()
                raise
            self._retract(text)
            # durable fires a rule once per alternative of an `$or` the fact
            # meets; a name holds or not, so each is returned once.
            return list(dict.fromkeys(fired))

    def _retract(self, text: str) -> None:
        try:
            _engine.retract_fact(self._handle, text)
        except BaseException:
            self._reset()
            raise

    def _reset(self) -> None:
        try:
            _engine.delete_state(self._handle, _SID)
        except Exception:  # nothing more can be done; the next fact starts a new state
            pass

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None:
            try:
                _engine.delete_ruleset(handle)
            except Exception:
                pass
