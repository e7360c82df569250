"""What the service answers: the response models (documented in the OpenAPI
document) and RFC 9457 problem details."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel, Field

from ..errors import MtusRulesError, Problem
from ..packs.model import PackLayer
# The envelopes of the decision contract are shared with the command line:
# one shape for a decided row wherever it is written.
from ..integration.envelopes import BatchRow, DecisionResponse  # noqa: F401 - part of this module's names
from ..yamlio import InputLimits

#: The default largest body of `POST /decisions`: a case file's limit (InputLimits.max_bytes).
DEFAULT_MAX_BODY = InputLimits().max_bytes
#: The default largest body of `POST /decisions/batch`; each row is still held to max_bytes.
DEFAULT_MAX_BATCH_BODY = 64 << 20

PROBLEM_JSON = "application/problem+json"
JSON_LINES = "application/x-ndjson"


# -- the response models (documented in the OpenAPI document) ------------------------------


class PackInfo(BaseModel):
    name: str
    version: str
    title: str
    effective_start: str = Field(description="First day the pack is in force (ISO date).")
    effective_end: str | None = Field(description="Last day the pack is in force (ISO date); none if open-ended.")
    content_hash: str = Field(description="sha256 of the pack's files, as every decision it makes cites it.")
    overrides: dict[str, Any] | None = Field(
        default=None, description="What-if changes made to the pack as loaded (limits, disabled rules); none if none."
    )
    layers: list[PackLayer] | None = Field(
        default=None, description="For an overlay: every pack it is made of, base first, each with its own hash; none for a plain pack."
    )


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




def _compact(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))
