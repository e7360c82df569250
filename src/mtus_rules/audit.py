"""Decision log: one structured record per decision, as JSON Lines, for audit.

A record says what was decided, by which rule pack, from which input, without
the injured worker's identity: by default the claimant (age, sex), the date of
injury and every free-text field (item wording, diagnosis descriptions, notes)
are left out, and the case id is replaced by a keyed hash that still lets the
same case's records be found together. `include_identifying=True` keeps them,
for logs that are themselves protected.

The input hash is taken over the whole validated case, so a record can be
matched to the input that produced it without the log holding that input.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import threading
import uuid
from pathlib import Path
from typing import IO, Any

from .case import Case
from .decision import Decision


def input_hash(case: Case) -> str:
    """sha256 of the validated case in canonical JSON."""
    canonical = json.dumps(case.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class DecisionLog:
    """Appends one JSON line per decision to a file or a text stream. Thread-safe."""

    def __init__(self, target: str | Path | IO[str], *, include_identifying: bool = False, mask_key: bytes | None = None):
        if isinstance(target, (str, Path)):
            self._stream: IO[str] = open(target, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
            self._owned = True
        else:
            self._stream, self._owned = target, False
        self.include_identifying = include_identifying
        # The key makes masked ids unguessable from a list of claim numbers; keep it
        # to link records across logs, or let each log have its own.
        self._key = mask_key if mask_key is not None else uuid.uuid4().bytes
        self._lock = threading.Lock()

    def record(self, case: Case, decision: Decision) -> dict[str, Any]:
        """Write the record for one decision and return it."""
        pack = decision.rule_pack
        entry: dict[str, Any] = {
            "decision_id": str(uuid.uuid4()),
            "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
            "input_hash": input_hash(case),
            "case_id": self._case_id(case.case_id),
            "request_date": decision.request_date.isoformat(),
            "rule_pack": pack.model_dump(mode="json") if pack else None,
            "library_version": decision.library_version,
            "items": [
                {
                    "index": item.index,
                    "treatment": item.treatment.value,
                    "body_regions": [str(r) for r in item.body_regions],
                    "outcome": item.outcome.value,
                    "rules": item.rules,
                    **({"description": item.description} if self.include_identifying else {}),
                }
                for item in decision.items
            ],
        }
        if self.include_identifying:
            entry["claimant"] = case.claimant.model_dump(mode="json") if case.claimant else None
            entry["date_of_injury"] = case.date_of_injury.isoformat()
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()
        return entry

    def _case_id(self, case_id: str | None) -> str | None:
        if case_id is None or self.include_identifying:
            return case_id
        return "masked:" + hmac.new(self._key, case_id.encode(), hashlib.sha256).hexdigest()[:16]

    def close(self) -> None:
        if self._owned:
            self._stream.close()

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
