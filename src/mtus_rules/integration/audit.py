"""Decision log: one structured record per decision, as JSON Lines, for audit.

A record says what was decided, by which rule pack, from which input, without
the injured worker's identity: by default the claimant (age, sex), the date of
injury and every free-text field (item wording, diagnosis descriptions, notes)
are left out, and the case id is replaced by a keyed hash that still lets the
same case's records be found together. `include_identifying=True` keeps them,
for logs that are themselves protected.

The input hash is an HMAC-SHA256, under the log's key, of the whole validated
case: whoever holds the key can match a record to the input that produced it
(`DecisionLog.input_hash`), without the log holding that input; without the
key, a small input cannot be guessed by hashing candidates, as it could from a
bare sha256. Give the same `mask_key` to link records across logs.

A log file is created readable and writable by its owner only (0600; the umask
can only narrow it); an existing file keeps its mode. Each record is one
complete line, flushed before `record` returns.
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

from ..case.model import Case
from ..explanation.decision import Decision
from .jsonl import JsonlWriter, encode_line


def input_hash(case: Case, key: bytes | None = None) -> str:
    """sha256 of the validated case in canonical JSON; with `key`, an HMAC-SHA256
    under that key (what the decision log records)."""
    canonical = json.dumps(case.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if key is None:
        return hashlib.sha256(canonical.encode()).hexdigest()
    return "hmac-sha256:" + hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


class DecisionLog:
    """Appends one JSON line per decision to a file or a text stream. Thread-safe."""

    def __init__(self, target: str | Path | IO[str], *, include_identifying: bool = False, mask_key: bytes | None = None):
        if isinstance(target, (str, Path)):
            # Whole lines written straight to the file: a full disk leaves no
            # partial last line and no buffered text to fail again at exit.
            self._file: JsonlWriter | None = JsonlWriter.create_appending(Path(target))
            self._stream: IO[str] | None = None
        else:
            self._file, self._stream = None, target
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
            "input_hash": self.input_hash(case),
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
        with self._lock:
            if self._file is not None:
                self._file.write_line(encode_line(entry))
            else:
                assert self._stream is not None
                self._stream.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self._stream.flush()
        return entry

    def input_hash(self, case: Case) -> str:
        """The input hash this log records for `case` (keyed with the log's key)."""
        return input_hash(case, self._key)

    def _case_id(self, case_id: str | None) -> str | None:
        if case_id is None or self.include_identifying:
            return case_id
        return "masked:" + hmac.new(self._key, case_id.encode(), hashlib.sha256).hexdigest()[:16]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
