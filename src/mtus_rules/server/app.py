"""The ASGI application: routes, reading bodies, deciding in worker threads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from http import HTTPStatus
from typing import IO, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response, StreamingResponse
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import __version__
from ..case.codes import bundled_code_tables, icd10cm_exists
from ..case.model import Case
from ..case.reading import parse_case
from ..case.rfa import RfaCase
from ..engine import Engine
from ..errors import MtusRulesError, Problem
from ..explanation.decision import Decision
from ..integration.audit import DecisionLog
from ..integration.jsonl import UNWRITABLE, read_jsonl
from ..yamlio import InputLimits, ParseError, parse
from .models import (
    DEFAULT_MAX_BATCH_BODY,
    DEFAULT_MAX_BODY,
    JSON_LINES,
    PROBLEM_JSON,
    BatchRow,
    DecisionResponse,
    PackInfo,
    PacksResponse,
    ProblemDetails,
    ProblemError,
    Status,
    _compact,
    _refused,
    problem_response,
)

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
                out = _compact({**head, "problems": [{"message": UNWRITABLE}]})
            yield out.encode() + b"\n"
    finally:
        body.close()


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
                    overrides=p.overrides,
                    layers=list(p.layers) or None,
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


