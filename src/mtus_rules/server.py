"""The HTTP decision service behind `mtus-rules serve` (the optional `server` extra).

Endpoints (the OpenAPI document at /openapi.json is generated from the same
pydantic models the library uses):

- `POST /decisions`: one case as JSON, plain (`requested_items`) or in the RFA
  form (`rfa_lines`), as `mtus-rules evaluate` reads it; the answer is
  `{"decision": <Decision>}`, plus `"decision_id"` (the id of its record in
  the decision log) when the server keeps one.
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

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import tempfile
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from http import HTTPStatus
from typing import IO, Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from mtus_rules import Case, Decision, DecisionLog, Engine, InputLimits, MtusRulesError, Problem, __version__

# Not (yet) exported from the package root; see the module docstrings.
from mtus_rules.batch import read_jsonl
from mtus_rules.case import parse_case
from mtus_rules.codes import bundled_code_tables, icd10cm_exists
from mtus_rules.rfa import RfaCase
from mtus_rules.yamlio import ParseError, parse

#: The default largest body of `POST /decisions`: a case file's limit (InputLimits.max_bytes).
DEFAULT_MAX_BODY = InputLimits().max_bytes
#: The default largest body of `POST /decisions/batch`; each row is still held to max_bytes.
DEFAULT_MAX_BATCH_BODY = 64 << 20

PROBLEM_JSON = "application/problem+json"
JSON_LINES = "application/x-ndjson"


# -- the response models (documented in the OpenAPI document) ------------------------------


class DecisionResponse(BaseModel):
    """The answer to one case."""

    decision: Decision
    decision_id: str | None = Field(
        default=None, description="The id of this decision's record in the decision log; present only when the server keeps one."
    )


class BatchRow(BaseModel):
    """One line of a batch answer: a decision, or the problems that stopped the row."""

    row: int = Field(description="The row's index among the input's rows (blank lines are not rows), from 0.")
    line: int = Field(description="The row's line in the request body, from 1.")
    decision: Decision | None = None
    decision_id: str | None = Field(default=None, description="As in DecisionResponse; only for a decided row.")
    problems: list[Problem] | None = None


class PackInfo(BaseModel):
    name: str
    version: str
    title: str
    effective_start: str = Field(description="First day the pack is in force (ISO date).")
    effective_end: str | None = Field(description="Last day the pack is in force (ISO date); none if open-ended.")
    content_hash: str = Field(description="sha256 of the pack's files, as every decision it makes cites it.")


class PacksResponse(BaseModel):
    backend: str = Field(description="The matcher that decides the rules' conditions.")
    packs: list[PackInfo]


class Status(BaseModel):
    status: str


class ProblemDetails(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[Problem] | None = Field(
        default=None, description="What is wrong with the input, each naming its field (location) and, where known, its line."
    )


# -- errors -----------------------------------------------------------------------------------


class ProblemError(Exception):
    """Stops a request with a problem-details answer."""

    def __init__(self, status: int, detail: str, errors: list[Problem] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers


def problem_response(status: int, detail: str, errors: list[Problem] | None = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = [p.model_dump(mode="json", exclude_none=True) for p in errors]
    return Response(_compact(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _refused(exc: MtusRulesError) -> ProblemError:
    n = len(exc.problems)
    return ProblemError(422, f"the case is not valid: {n} problem{'s' if n != 1 else ''}", exc.problems)


# -- the decision log's ids -------------------------------------------------------------------

_last = threading.local()


class _IdLog(DecisionLog):
    """A decision log that remembers, per thread, the id of the record it just
    wrote: Engine.evaluate records a decision but returns only the decision, and
    the answer must name its record. A decision is recorded in the thread that
    decides it (Engine.evaluate, and evaluate_many with one worker)."""

    def record(self, case: Any, decision: Decision) -> dict[str, Any]:
        entry = super().record(case, decision)
        _last.decision_id = entry["decision_id"]
        return entry


def _take_decision_id() -> str | None:
    decision_id = getattr(_last, "decision_id", None)
    _last.decision_id = None
    return decision_id


# -- the service ------------------------------------------------------------------------------


class _State:
    def __init__(self, engine: Engine, limits: InputLimits, max_body: int, max_batch_body: int):
        self.engine = engine
        self.limits = limits
        self.max_body = max_body
        self.max_batch_body = max_batch_body
        self.logged = engine.decision_log is not None
        self.ready = asyncio.Event()
        self.failed: str | None = None


def warm_up() -> None:
    """Load what the library otherwise loads on first use: the code tables and the
    ICD-10-CM code set (seconds, the first RFA request would pay for it)."""
    bundled_code_tables()
    icd10cm_exists("M54.5")


def create_app(
    engine: Engine | None = None,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    max_batch_body: int = DEFAULT_MAX_BATCH_BODY,
    limits: InputLimits | None = None,
) -> FastAPI:
    """The ASGI application. `engine` decides (default: the bundled packs); give
    it a decision log made with `decision_log()` for the answers to carry ids."""
    limits = limits or InputLimits()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = _State(engine or Engine(), limits, max_body, max_batch_body)
        app.state.service = state

        async def load() -> None:
            try:
                await asyncio.to_thread(warm_up)
            except Exception as exc:  # the service answers 503 and says why
                state.failed = f"the code sets could not be loaded ({type(exc).__name__}: {exc})"
            state.ready.set()

        # Listening starts at once (health answers); readiness waits for the load.
        task = asyncio.create_task(load())
        yield
        task.cancel()

    app = FastAPI(
        title="mtus-rules decision service",
        version=__version__,
        description="Decide California workers' compensation treatment requests against MTUS/ODG guideline rules.",
        lifespan=lifespan,
        redoc_url=None,
    )
    _install_error_handlers(app)
    _add_routes(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def decision_log(path: str, *, include_identifying: bool = False) -> DecisionLog:
    """A decision log whose record ids the service's answers carry."""
    return _IdLog(path, include_identifying=include_identifying)


def _state(request: Request) -> _State:
    return request.app.state.service


async def _ready(state: _State) -> None:
    await state.ready.wait()
    if state.failed:
        raise ProblemError(503, state.failed)


async def _read_body(request: Request, limit: int, sink: IO[bytes] | None = None) -> bytes:
    """The request body, refused with 413 once it is larger than `limit` bytes
    (at once when Content-Length says so). With `sink`, the body is written there."""
    too_large = ProblemError(413, f"the request body is larger than {limit:,} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        if sink is not None:
            sink.write(chunk)
        else:
            chunks.append(chunk)
    return b"".join(chunks)


def _decide_one(state: _State, body: bytes) -> bytes:
    """Decide one case from the bytes of a request; the JSON answer, or ProblemError."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProblemError(400, f"the request body is not UTF-8 text ({exc.reason} at byte {exc.start + 1})") from None
    data = _json(text, state.limits)
    try:
        case = parse_case(data, limits=state.limits)
    except MtusRulesError as exc:
        raise _refused(_with_lines(text, state.limits, exc)) from None
    try:
        decision = state.engine.evaluate(case)
    except MtusRulesError as exc:
        raise _refused(exc) from None
    except OSError as exc:  # deciding does no I/O; recording the decision in the log does
        _take_decision_id()
        raise ProblemError(
            500, f"decided, but the decision log could not record it ({exc.strerror or type(exc).__name__}); not answered"
        ) from None
    decision_id = _take_decision_id()
    answer = DecisionResponse(decision=decision, decision_id=decision_id)
    # Only the absent id is left out: the decision's own nulls are part of its shape.
    return answer.model_dump_json(exclude={"decision_id"} if decision_id is None else None).encode()


def _json(text: str, limits: InputLimits) -> Any:
    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > limits.max_int_digits:
            raise ValueError(f"an integer longer than {limits.max_int_digits} digits (input limit max_int_digits)")
        return int(digits)

    try:
        return json.loads(text, parse_int=parse_int)
    except json.JSONDecodeError as exc:
        raise ProblemError(400, f"the request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ProblemError(400, f"the request body is nested more than {limits.max_depth} levels deep (input limit max_depth)") from None
    except ValueError as exc:
        raise ProblemError(400, f"the request body cannot be read: {exc}") from None


def _with_lines(text: str, limits: InputLimits, exc: MtusRulesError) -> MtusRulesError:
    """The same problems with the body's line of each field, when it spans several
    lines: the slower reader that keeps lines runs only for a case already refused."""
    if "\n" not in text.strip():
        return exc
    try:
        data, lines = parse(text, "request.json", limits)
        parse_case(data, lines=lines, limits=limits)
    except ParseError:
        return exc
    except MtusRulesError as again:
        if [p.location for p in again.problems] == [p.location for p in exc.problems]:
            return again
    return exc


def _decide_rows(state: _State, body: IO[bytes]) -> Iterator[bytes]:
    """One JSON line per row of `body`, in order (see mtus_rules.batch)."""
    lines: deque[int] = deque()

    def rows() -> Iterator[Any]:
        for number, data in read_jsonl(body, state.limits):
            lines.append(number)
            yield data

    try:
        for result in state.engine.evaluate_many(rows()):
            line = lines.popleft()
            decision_id = _take_decision_id()
            head = {"row": result.row, "line": line}
            try:
                if result.decision is not None:
                    row = BatchRow(row=result.row, line=line, decision=result.decision, decision_id=decision_id)
                    out = row.model_dump_json(exclude={"problems"} if decision_id else {"problems", "decision_id"})
                else:
                    problems = [p.model_dump(mode="json", exclude_none=True) for p in result.problems or []]
                    out = _compact({**head, "problems": problems})
            except (ValueError, TypeError, RecursionError):
                out = _compact({**head, "problems": [{"message": "the result could not be written as JSON"}]})
            yield out.encode() + b"\n"
    finally:
        body.close()


def _compact(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _add_routes(app: FastAPI) -> None:
    def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
        return {
            status: {
                "description": HTTPStatus(status).phrase,
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
            }
            for status in statuses
        }

    one_case = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"anyOf": [{"$ref": "#/components/schemas/Case"}, {"$ref": "#/components/schemas/RfaCase"}]}
            }
        },
    }
    many_cases = {
        "required": True,
        "content": {
            JSON_LINES: {
                "schema": {"type": "string", "description": "JSON Lines: one case (Case or RfaCase) per line."}
            }
        },
    }

    @app.post(
        "/decisions",
        summary="Decide one case",
        description="A case as JSON, with `requested_items` or with RFA `rfa_lines`. The answer's decision is "
        "what `Engine().evaluate` returns, as JSON.",
        responses={
            200: {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/DecisionResponse"}}}},
            **problems(400, 413, 422, 500, 503),
        },
        openapi_extra={"requestBody": one_case},
    )
    async def decide(request: Request) -> Response:
        state = _state(request)
        body = await _read_body(request, state.max_body)
        await _ready(state)
        return Response(await run_in_threadpool(_decide_one, state, body), media_type="application/json")

    @app.post(
        "/decisions/batch",
        summary="Decide many cases (JSON Lines)",
        description="One case per line. The answer is JSON Lines, streamed: one BatchRow per input row, in order; "
        "a bad row gets its problems and the others are still decided.",
        responses={
            200: {"content": {JSON_LINES: {"schema": {"$ref": "#/components/schemas/BatchRow"}}}},
            **problems(413, 503),
        },
        openapi_extra={"requestBody": many_cases},
        response_class=StreamingResponse,
    )
    async def decide_many(request: Request) -> Response:
        state = _state(request)
        # Read whole before answering: a client that sends its body before it reads
        # (most do) would otherwise block on a full socket while we block on ours.
        spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)
        try:
            await _read_body(request, state.max_batch_body, spool)
            await _ready(state)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return StreamingResponse(_decide_rows(state, spool), media_type=JSON_LINES)

    @app.get("/packs", summary="The rule packs in force", response_model=PacksResponse, responses=problems(503))
    async def packs(request: Request) -> PacksResponse:
        engine = _state(request).engine
        return PacksResponse(
            backend=engine.backend,
            packs=[
                PackInfo(
                    name=p.name,
                    version=p.version,
                    title=p.title,
                    effective_start=p.effective.start.isoformat(),
                    effective_end=p.effective.end.isoformat() if p.effective.end else None,
                    content_hash=p.content_hash,
                )
                for p in engine.packs
            ],
        )

    @app.get("/health", summary="The process answers", response_model=Status)
    async def health() -> Status:
        return Status(status="ok")

    @app.get(
        "/ready",
        summary="Ready to decide: the engine and the code sets are loaded",
        response_model=Status,
        responses=problems(503),
    )
    async def ready(request: Request) -> Any:
        state = _state(request)
        if not state.ready.is_set():
            return problem_response(503, "loading the code sets", headers={"Retry-After": "1"})
        if state.failed:
            return problem_response(503, state.failed)
        return Status(status="ready")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        return problem_response(exc.status, exc.detail, exc.errors, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            Problem(location=".".join(str(p) for p in err.get("loc", ())), message=str(err.get("msg", "")))
            for err in exc.errors()
        ]
        return problem_response(422, "the request is not valid", errors)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        # The exception's text may quote the case; its type is enough to report a defect.
        return problem_response(500, f"internal error ({type(exc).__name__})")


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the library's models as components: the request
    bodies are read by the library (so that both case forms and its problems
    apply), and FastAPI sees only their schemas."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    _, defs = models_json_schema(
        [(model, "validation") for model in (Case, RfaCase)]
        + [(model, "serialization") for model in (DecisionResponse, BatchRow, ProblemDetails)],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in defs["$defs"].items():
        if name in components and components[name] != definition:
            raise RuntimeError(f"two different schemas are named {name} in the OpenAPI document")
        components[name] = definition
    app.openapi_schema = schema
    return schema


# -- running it -------------------------------------------------------------------------------


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port); OSError if it cannot be had."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run(app: FastAPI, sock: socket.socket, *, log_level: str = "warning", access_log: bool = False) -> None:
    """Serve `app` on `sock` until SIGINT or SIGTERM (uvicorn then re-raises the
    signal after a graceful shutdown, so the caller sees how it was stopped)."""
    print(f"mtus-rules: serving on {url_of(sock)} (ready at /ready once the code sets are loaded)", file=sys.stderr, flush=True)
    # A stop waits for the requests in flight, but not for ever (a long batch being streamed).
    config = uvicorn.Config(app, log_level=log_level, access_log=access_log, lifespan="on", timeout_graceful_shutdown=30)
    uvicorn.Server(config).run(sockets=[sock])


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    rules: list[Path] | None = None,
    decision_log: Path | None = None,
    log_identifying: bool = False,
    max_body: int | None = None,
    max_batch_body: int | None = None,
) -> int:
    """`mtus-rules serve`: check the options, load the engine, listen, serve.
    The exit status of the command: 2 when an option cannot be used (said in
    one line on stderr); otherwise 0 once stopped."""

    def refuse(message: str) -> int:
        print(f"mtus-rules: {message}", file=sys.stderr)
        return 2

    if not 0 <= port <= 65535:
        return refuse(f"--port must be 0-65535 (0 picks a free port), got {port}")
    for option, value in (("--max-body", max_body), ("--max-batch-body", max_batch_body)):
        if value is not None and value < 1:
            return refuse(f"{option} must be at least 1 byte, got {value}")
    try:
        log = None
        if decision_log is not None:
            try:
                log = _IdLog(decision_log, include_identifying=log_identifying)
            except OSError as exc:
                raise MtusRulesError(
                    [Problem(file=str(decision_log), location="--decision-log", message=exc.strerror or str(exc))]
                ) from None
        # Loaded before listening, so a bad pack stops here with its problems.
        engine = Engine(rules, decision_log=log) if rules else Engine(decision_log=log)
    except MtusRulesError as exc:
        return refuse(str(exc))
    try:
        sock = bind(host, port)
    except OSError as exc:
        return refuse(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    app = create_app(engine, max_body=max_body or DEFAULT_MAX_BODY, max_batch_body=max_batch_body or DEFAULT_MAX_BATCH_BODY)
    with sock:
        run(app, sock)
    return 0
