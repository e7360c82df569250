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
bare sha256.

The key is a secret: whoever holds it can confirm a guessed claim number
against a masked id. Give the same key to every run whose logs must be joined
(the same claimant then has the same masked id in each): `mask_key=`, the
environment variable MTUS_RULES_AUDIT_KEY, or a key file (`read_key_file`; the
CLI's `--audit-key-file`). Without one, each log gets a random key, and a
warning says its records cannot be joined with any other run's.

Every record carries the `decision_id` of the decision it records (the same
id the returned decision has) and its own unique `record_id`, and goes to the
Python logger "mtus_rules.audit" (level INFO, the record under
`extra={"audit_record": ...}`) as well as to the JSON Lines target.

A log file is created readable and writable by its owner only (0600; the umask
can only narrow it); an existing file keeps its mode. Each record is one
complete line, flushed before `record` returns.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import threading
import uuid
from pathlib import Path
from typing import IO, Any

from ..case.model import Case
from ..errors import MtusRulesError, Problem
from ..explanation.decision import Decision
from .jsonl import JsonlWriter, encode_line

logger = logging.getLogger("mtus_rules.audit")

#: The environment variable that holds the masking key (a secret) when none is given.
KEY_VARIABLE = "MTUS_RULES_AUDIT_KEY"

#: Shorter keys are refused: a masked claim number is only as hard to confirm as its key is to guess.
MIN_KEY_LENGTH = 16


class AuditKeyError(MtusRulesError):
    """The masking key given is unusable (missing file, too short)."""


def _checked_key(key: bytes, where: str) -> bytes:
    if len(key) < MIN_KEY_LENGTH:
        raise AuditKeyError([Problem(location=where, message=f"the audit key must be at least {MIN_KEY_LENGTH} bytes, got {len(key)}")])
    return key


def read_key_file(path: str | os.PathLike[str]) -> bytes:
    """The masking key held in a file (its bytes, without trailing line ends or
    spaces); raises AuditKeyError naming the file when it cannot be used."""
    try:
        key = Path(path).read_bytes().rstrip()
    except OSError as exc:
        raise AuditKeyError([Problem(file=str(path), location="audit key file", message=exc.strerror or str(exc))]) from None
    return _checked_key(key, f"audit key file {path}")


def key_from_environment() -> bytes | None:
    """The masking key in MTUS_RULES_AUDIT_KEY, if set (and not empty)."""
    value = os.environ.get(KEY_VARIABLE)
    return _checked_key(value.encode(), KEY_VARIABLE) if value else None


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
        # The key makes masked ids unguessable from a list of claim numbers; the
        # same key across runs keeps a claimant's masked id the same.
        key = mask_key if mask_key is not None else key_from_environment()
        if key is None:
            logger.warning(
                "no audit key given (%s or a key file): this decision log masks with a random key of its own, "
                "so its records cannot be joined with any other run's",
                KEY_VARIABLE,
            )
            key = uuid.uuid4().bytes + uuid.uuid4().bytes
        self._key = key
        self._lock = threading.Lock()

    def record(self, case: Case, decision: Decision) -> dict[str, Any]:
        """Write the record for one decision and return it."""
        pack = decision.rule_pack
        entry: dict[str, Any] = {
            "decision_id": decision.decision_id,
            "record_id": str(uuid.uuid4()),
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
        # After the file: a record the JSON Lines log could not keep is not announced as kept.
        if logger.isEnabledFor(logging.INFO):
            logger.info("decision %s recorded: %s", entry["decision_id"], json.dumps(entry, ensure_ascii=False),
                        extra={"audit_record": entry})
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
