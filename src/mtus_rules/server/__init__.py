"""The HTTP decision service behind `mtus-rules serve` (the optional `server` extra).

Endpoints (the OpenAPI document at /openapi.json is generated from the same
pydantic models the library uses):

- `POST /decisions`: one case as JSON, plain (`requested_items`) or in the RFA
  form (`rfa_lines`), as `mtus-rules evaluate` reads it; the answer is
  `{"decision": <Decision>}`, plus `"decision_id"` when the server keeps a
  decision log: the decision's own id (`decision.decision_id`), by which its
  records in the log are found (each record also has its own `record_id`).
- `POST /decisions/batch`: cases as JSON Lines; the answer is JSON Lines,
  streamed, one row per input row in order, in the envelope `mtus-rules batch`
  writes (`{"row", "line", "decision" | "problems"}`, plus `"decision_id"`
  with a decision log). A bad row gets its problems; the others are decided.
- `GET /packs`: the rule packs in force: name, version, period, content hash.
- `GET /health` (the process answers) and `GET /ready` (503 until the engine
  and the code sets are loaded: the ICD-10-CM set takes seconds, so it is
  loaded at start-up rather than by the first RFA request).

Every error is an RFC 9457 problem detail (`application/problem+json`); a case
that does not validate lists the library's problems, each naming its field
(`errors[].location`). A body over the size limit is refused with 413 before
it is read in full.

Cases are decided in worker threads, not on the event loop: a decision takes
well under a millisecond, but a case near the size limit takes much longer
and would stall every other connection (see benchmarks/server_load.py). The
core library never imports this module; it needs FastAPI and uvicorn.
"""

from .app import create_app, decision_log, warm_up
from .models import DEFAULT_MAX_BATCH_BODY, DEFAULT_MAX_BODY
from .running import bind, run, serve, url_of

__all__ = ["DEFAULT_MAX_BATCH_BODY", "DEFAULT_MAX_BODY", "bind", "create_app", "decision_log", "run", "serve", "url_of", "warm_up"]
