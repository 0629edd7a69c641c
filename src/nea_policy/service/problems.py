"""Errors as RFC 9457 problem details (`application/problem+json`): the library's problems, with an HTTP status.

Every error the service answers comes from a NeaPolicyError: the same stable codes and messages as the command
line. One table (`status_of`) maps its kind to the HTTP status; each problem becomes one entry of `errors`, with its
location (`body:LINE:COL` for YAML bodies), a JSON pointer into the request body when the place is known, and the
hint. Nothing else ever reaches a client: an unexpected failure is a 500 problem with an id that the logs carry.
"""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nea_policy.errors import EvaluationError, InputError, NeaPolicyError, Problem, RuleError, ScenarioError

PROBLEM_MEDIA_TYPE = "application/problem+json"
LOG = logging.getLogger("uvicorn.error")


class RequestError(NeaPolicyError):
    """A request the service cannot take as sent: too large, of a media type it does not read, without its API key."""

    default_code = "bad_request"


class InternalError(NeaPolicyError):
    """An unexpected failure, reported by its id only (the logs carry the traceback under that id)."""

    default_code = "internal_error"

    def __init__(self, error_id: str) -> None:
        super().__init__(f"an unexpected error happened on the server; its id is {error_id}", hint="report it with the id")
        self.error_id = error_id


# --- the one table: error kind -> HTTP status ------------------------------------------------------------

#: Codes whose status is not their error class's: the body cannot be read as a document (400), it is too large
#: (413), of another media type (415), unauthorised (401), names nothing there is (404), a method not served (405).
STATUS_BY_CODE: dict[str, int] = {
    **dict.fromkeys(("not_utf8", "empty_file", "json_syntax", "yaml_syntax", "duplicate_key", "not_finite", "too_deep", "too_many_nodes", "unsafe_tag", "bad_key"), 400),
    "bad_parameter": 422,
    "unauthorized": 401,
    "unknown_rule": 404,
    "not_found": 404,
    "method_not_allowed": 405,
    "body_too_large": 413,
    "unsupported_media_type": 415,
    "internal_error": 500,
}
#: By error class, most specific first: an invalid scenario or request is 422; a failure of the engine itself is 500.
STATUS_BY_KIND: tuple[tuple[type[NeaPolicyError], int], ...] = (
    (ScenarioError, 422),
    (RuleError, 422),
    (InputError, 422),
    (RequestError, 400),
    (EvaluationError, 500),
    (InternalError, 500),
    (NeaPolicyError, 422),
)
TITLES: dict[int, str] = {
    400: "The request body cannot be read",
    401: "An API key is needed",
    404: "Not found",
    405: "Method not allowed",
    413: "The request body is too large",
    415: "Unsupported media type",
    422: "The request is not valid",
    500: "Internal server error",
}


#: Where a kind says more than its status's title.
TITLE_BY_KIND: tuple[tuple[type[NeaPolicyError], str], ...] = ((ScenarioError, "The scenario is not valid"),)


def status_of(error: NeaPolicyError) -> int:
    """The HTTP status of an error: its first problem's code if the table names it, else its class's."""
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    return next(status for kind, status in STATUS_BY_KIND if isinstance(error, kind))


# --- the problem document -------------------------------------------------------------------------------


class ProblemItem(BaseModel):
    """One problem: its stable code, the message the command line prints, where it is, and what to do."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(description="stable code, the same as the command line's (e.g. unknown_field)")
    message: str
    location: str = Field("", description="where: `body:LINE:COL` in a YAML body, `body` in a JSON one, `?actor` for a query parameter")
    pointer: str | None = Field(None, description="JSON pointer (as a URI fragment, `#/flows/0/legal_status`) to the value in the request body")
    line: int | None = Field(None, description="line of the request body, when known")
    column: int | None = Field(None, description="column of the request body, when known")
    hint: str = Field("", description="what to do about it")


class ProblemDetail(BaseModel):
    """An RFC 9457 problem: what went wrong, with every problem found (`errors`), the first one's code as the type."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str = Field(description="`urn:nea-policy:problem:CODE`, CODE being the first problem's code")
    title: str
    status: int
    detail: str = Field(description="the first problem as the command line prints it, location first")
    code: str = Field(description="the first problem's code")
    errors: list[ProblemItem] = Field(description="every problem found, in order")
    error_id: str | None = Field(None, description="for a 500: the id under which the server's logs carry the failure")


def pointer_of(path: tuple[str | int, ...]) -> str:
    """A path into the body as a JSON pointer URI fragment (RFC 6901: `~` and `/` in keys escaped)."""
    return "#" + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def path_of(pointer: str) -> tuple[str | int, ...]:
    """The path a pointer made by `pointer_of` names (all-digit parts as list indexes)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.removeprefix("#").split("/")[1:]]
    return tuple(int(p) if p.isdigit() else p for p in parts)


_LINE_COLUMN = re.compile(r":(\d+)(?::(\d+))?$")


def item_of(problem: Problem) -> ProblemItem:
    """One library problem as an entry of `errors`."""
    found = _LINE_COLUMN.search(problem.location)
    line = int(found.group(1)) if found else None
    column = int(found.group(2)) if found and found.group(2) else None
    pointer = pointer_of(problem.path) if problem.path is not None else None
    return ProblemItem(code=problem.code, message=problem.message, location=problem.location, pointer=pointer, line=line, column=column, hint=problem.hint)


def problem_of(error: NeaPolicyError, status: int | None = None) -> ProblemDetail:
    """The problem document of an error (with the status of the table, unless another is given)."""
    status = status or status_of(error)
    first = error.problems[0]
    more = len(error.problems) - 1
    detail = str(first) + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
    return ProblemDetail(
        type=f"urn:nea-policy:problem:{first.code}",
        title=next((title for kind, title in TITLE_BY_KIND if isinstance(error, kind) and status == 422), TITLES.get(status, "Error")),
        status=status,
        detail=detail,
        code=first.code,
        errors=[item_of(p) for p in error.problems],
        error_id=getattr(error, "error_id", None),
    )


def problem_response(error: NeaPolicyError, headers: dict[str, str] | None = None, status: int | None = None) -> Response:
    """The HTTP response of an error."""
    detail = problem_of(error, status)
    return Response(detail.model_dump_json(exclude_none=True, indent=2) + "\n", status_code=detail.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


# --- turning every failure into a problem -------------------------------------------------------------


def _parameter_problems(error: RequestValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        where, *rest = item.get("loc", ("request",))
        name = ".".join(str(p) for p in rest) or str(where)
        location = f"?{name}" if where == "query" else f"{where} parameter {name}"
        given = item.get("input")
        message = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        problems.append(Problem("bad_parameter", f"{name}: {message}" + (f" (given: {given!r})" if given is not None else ""), location))
    return problems


async def _on_library_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, NeaPolicyError)
    return problem_response(error)


async def _on_bad_parameter(_request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    return problem_response(RequestError(_parameter_problems(error)))


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    headers = dict(error.headers or {})
    status = None
    if error.status_code == 404:
        problem = Problem("not_found", f"{request.method} {request.url.path}: no such endpoint", hint="see /docs for the endpoints")
    elif error.status_code == 405:
        allowed = headers.get("Allow") or headers.get("allow") or ""
        problem = Problem("method_not_allowed", f"{request.url.path} does not take {request.method}", hint=f"use {allowed}" if allowed else "")
    else:
        # Starlette's own refusals (e.g. a malformed request): its status, its words.
        problem, status = Problem(f"http_{error.status_code}", str(error.detail)), error.status_code
    return problem_response(RequestError([problem]), headers=headers, status=status)


def report_failure(error_id: str, where: str) -> None:
    """Log an unexpected failure with its traceback under its id (call from an `except` block)."""
    LOG.exception("unexpected failure %s in %s", error_id, where)


class FailureGuard:
    """Outermost ASGI layer of the app: any exception that escapes becomes a 500 problem with an id, logged with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:  # noqa: BLE001 - the one place an unexpected failure becomes a problem
            error_id = str(uuid.uuid4())
            report_failure(error_id, f"{scope.get('method', '')} {scope.get('path', '')}")
            if started:
                raise  # too late to answer; the server closes the connection
            response = problem_response(InternalError(error_id))
            await response(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error the app can raise answers problem+json."""
    app.add_exception_handler(NeaPolicyError, _on_library_error)
    app.add_exception_handler(RequestValidationError, _on_bad_parameter)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_middleware(FailureGuard)


__all__ = ["PROBLEM_MEDIA_TYPE", "InternalError", "ProblemDetail", "ProblemItem", "RequestError", "install_problem_handlers", "path_of", "pointer_of", "problem_of", "status_of"]
