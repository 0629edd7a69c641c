"""The page's routes: `/` (the page), and under `/page/` what its script calls, its downloads and its static files.

Each route reads the form (URL-encoded: the script sends the form's fields as they are, named by field path), calls
the library through the page's modules, and answers HTML, or JSON holding HTML regions. The engine and the limits
are those of the service that mounts the router (`request.app.state.service`); without one, the bundled rules and
the default limits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, Response

from nea_policy import __version__
from nea_policy.analysis.counterfactuals import Limits
from nea_policy.analysis.sweep import parse_vary
from nea_policy.api import Engine, fields_read, json_schema, make_engine, scenario_from_document
from nea_policy.errors import InputError, NeaPolicyError
from nea_policy.model.documents import DEFAULT_MAX_BYTES, Document
from nea_policy.web import edits, guide
from nea_policy.web.downloads import download
from nea_policy.web.fields import FormFields, form_fields
from nea_policy.web.form import form_pairs, read_form
from nea_policy.web.grid import MAX_PAGE_POINTS, grid_of, sweep_choices
from nea_policy.web.page import FieldProblem, PageView, field_problems, located_problems, page_view, validate
from nea_policy.web.results import recommendation_rules
from nea_policy.web.sources import example_document, examples, template_document, text_document
from nea_policy.web.state import PageState, decode_state
from nea_policy.web.templates import render

router = APIRouter(include_in_schema=False)

#: The static files the page loads, with their media types (nothing else is served from the folder).
STATIC = {"page.js": "text/javascript; charset=utf-8", "page.css": "text/css; charset=utf-8"}
#: Most fields a posted form may hold (a large region has a few thousand).
MAX_FIELDS = 100_000


@dataclass(frozen=True)
class Host:
    """What the page needs of the service that mounts it: the engine and the limits."""

    engine: Engine
    max_bytes: int = DEFAULT_MAX_BYTES
    time_limit: float = 10.0
    max_points: int = 10_000


def _host(request: Request) -> Host:
    service = getattr(request.app.state, "service", None)
    if service is None:
        return Host(make_engine())
    settings = service.settings
    return Host(service.engine, settings.max_bytes, settings.time_limit, settings.max_points)


@cache
def _fields(engine: Engine) -> FormFields:
    return form_fields(json_schema("facts"), fields_read(engine))


async def _pairs(request: Request, limit: int) -> list[tuple[str, str]]:
    """The posted form's (name, value) pairs, in document order; refused beyond the size limit."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InputError(f"the form is over the limit of {limit:,} bytes", code="body_too_large", location="form")
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as error:
        raise InputError(f"the form cannot be read: {error}", code="bad_form", location="form") from None


def _page_html(host: Host, view: PageView | None, **context: Any) -> str:
    data = {
        "url": view.link if view else None,
        "previous": view.previous_token if view else "",
        "token": view.token if view else "",
        "mode": view.state.mode if view else "form",
        "annotations": view.annotations() if view else {},
    }
    return render(
        "page.html",
        view=view,
        examples=examples(),
        example=context.get("example"),
        pasted=context.get("pasted", ""),
        open_problems=context.get("open_problems") or (view.open_problems if view else []),
        page_data=data,
        version=__version__,
        ruleset=host.engine.ruleset.version,
        choices=sweep_choices(view.form) if view else [],
    )


def _open(host: Host, document: Document) -> PageView:
    """The page for an opened document: every problem listed where it is in the text, and shown beside its field."""
    located: list[FieldProblem] = []
    try:
        scenario_from_document(document)
    except NeaPolicyError as error:
        located = located_problems(list(error.problems))
    fields = _fields(host.engine)
    # The form keeps what it can show: a field it has no control for (a typo) is left out, and listed above.
    data, _ = read_form(form_pairs(document.data if isinstance(document.data, dict) else {}, fields), fields)
    return page_view(host.engine, fields, data, open_problems=located)


@router.get("/", response_class=HTMLResponse)
async def page(request: Request, example: str | None = None, template: str | None = None, s: str | None = None) -> HTMLResponse:
    """The page: `?example=NAME` opens a bundled example, `?template=1` the template, `?s=TOKEN` a shared state."""
    host = _host(request)

    def build() -> str:
        try:
            if s:
                state = decode_state(s, max_bytes=host.max_bytes)
                view = page_view(host.engine, _fields(host.engine), state.scenario, unknown=state.unknown, mode=state.mode)
                return _page_html(host, view)
            if example:
                return _page_html(host, _open(host, example_document(example)), example=example)
            if template:
                return _page_html(host, _open(host, template_document()))
        except NeaPolicyError as error:
            return _page_html(host, None, open_problems=located_problems(list(error.problems)), example=example)
        return _page_html(host, None)

    return HTMLResponse(await run_in_threadpool(build))


@router.post("/page/open", response_class=HTMLResponse)
async def open_text(request: Request) -> HTMLResponse:
    """Open a pasted or uploaded fact file (`text`, and the file's name as `filename`)."""
    host = _host(request)
    pairs = dict(await _pairs(request, host.max_bytes))
    text = pairs.get("text", "")

    def build() -> str:
        try:
            return _page_html(host, _open(host, text_document(text, pairs.get("filename") or None)), pasted=text)
        except NeaPolicyError as error:
            return _page_html(host, None, open_problems=located_problems(list(error.problems)), pasted=text)

    return HTMLResponse(await run_in_threadpool(build))


def _status(view: PageView) -> str:
    if view.problems:
        return f"{len(view.problems)} problem{'s' if len(view.problems) != 1 else ''} to fix in the form."
    results = view.results
    if results is None:
        return ""
    text = f"{results.recommendation_count} recommendation{'s' if results.recommendation_count != 1 else ''}."
    new, gone = len(results.appeared), len(results.disappeared)
    if results.compared and (new or gone):
        text += f" {new} new, {gone} no longer recommended."
    return text


def _update(host: Host, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    fields = _fields(host.engine)
    control = {name: value for name, value in pairs if name.startswith("_")}
    data, handles = read_form(pairs, fields)
    previous = decode_state(control["_previous"], max_bytes=host.max_bytes).scenario if control.get("_previous") else None
    try:
        unknown = [str(u) for u in json.loads(control.get("_unknown") or "[]")]
    except (json.JSONDecodeError, TypeError):
        unknown = []
    mode = "guided" if control.get("_mode") == "guided" else "form"
    action = control.get("_action", "")
    redraw = control.get("_redraw") == "1"
    notice = ""
    try:
        if action.startswith(("add:", "remove:", "add-row:", "remove-row:")):
            data, redraw = edits.edit(data, handles, action), True
        elif action == "apply":
            data, redraw = edits.apply_changes(data, json.loads(control.get("_changes") or "[]")), True
        elif action == "clear-facts":
            data, unknown, redraw = edits.structure_only(data), [], True
        elif action in ("mode:guided", "mode:form"):
            mode = action.split(":")[1]
        elif action == "answer":
            data, unknown = guide.answer(data, unknown, control.get("_question", ""), control.get("_kind", ""), pairs, fields)
            redraw = True
        elif action == "dont-know":
            data, unknown = guide.dont_know(data, unknown, control.get("_question", ""))
        elif action:
            raise InputError(f"{action!r} is not an action of the page", code="bad_action", location="_action", hint="reload the page")
    except (NeaPolicyError, json.JSONDecodeError) as error:
        notice = "; ".join(p.message + (f" ({p.hint})" if p.hint else "") for p in error.problems) if isinstance(error, NeaPolicyError) else "the change could not be read"
    view = page_view(host.engine, fields, data, unknown=unknown, mode=mode, previous=previous, notice=notice)  # type: ignore[arg-type]
    regions = {"results": render("_results.html", view=view), "guide": render("_guide.html", view=view)}
    if redraw:
        regions["form"] = render("_form.html", view=view)
        regions["sweep"] = render("_sweep_form.html", choices=sweep_choices(view.form))
    return {
        "token": view.token,
        "previous": view.previous_token,
        "url": view.link,
        "title": view.title,
        "mode": view.state.mode,
        "regions": regions,
        "annotations": view.annotations(),
        "status": notice or _status(view),
    }


def _failure(error: NeaPolicyError, status: int = 422) -> JSONResponse:
    return JSONResponse({"error": "; ".join(p.message + (f" ({p.hint})" if p.hint else "") for p in error.problems)}, status_code=status)


@router.post("/page/update")
async def update(request: Request) -> Response:
    """The page after an edit or action: results, guided turn, and (after a change of structure) the form, as HTML regions."""
    host = _host(request)
    try:
        pairs = await _pairs(request, host.max_bytes)
        return JSONResponse(await run_in_threadpool(_update, host, pairs))
    except NeaPolicyError as error:
        return _failure(error)


def _scenario_of(host: Host, pairs: list[tuple[str, str]]) -> Any:
    data, _ = read_form(pairs, _fields(host.engine))
    scenario, _ = validate(data)
    if scenario is None:
        raise InputError("fix the problems marked in the form first", code="invalid_scenario", location="form")
    return scenario


@router.post("/page/why-not", response_class=HTMLResponse)
async def why_not(request: Request) -> Response:
    """Why a recommendation does not hold (`_rule`): the closest case's conditions and the verified change sets."""
    host = _host(request)
    try:
        pairs = await _pairs(request, host.max_bytes)
        rule = dict(pairs).get("_rule", "")

        def build() -> str:
            scenario = _scenario_of(host, pairs)
            explanation = host.engine.explain(scenario, rule, limits=Limits(seconds=host.time_limit))
            return render("_why_not.html", explanation=explanation)

        return HTMLResponse(await run_in_threadpool(build))
    except NeaPolicyError as error:
        return HTMLResponse(render("_notice.html", message="; ".join(p.message for p in error.problems)), status_code=422)


@router.post("/page/sweep", response_class=HTMLResponse)
async def sweep(request: Request) -> Response:
    """The grid of a sweep over one or two facts of the form (`_vary1`, `_values1`, `_vary2`, `_values2`)."""
    host = _host(request)
    try:
        pairs = await _pairs(request, host.max_bytes)
        control = dict(pairs)
        items = [f"{control[f'_vary{n}']}={control.get(f'_values{n}', '')}" for n in (1, 2) if control.get(f"_vary{n}")]
        if not items:
            raise InputError("choose a fact to vary", code="no_vary", location="sweep")

        def build() -> str:
            scenario = _scenario_of(host, pairs)
            vary = parse_vary(items)
            result = host.engine.sweep(scenario, vary, max_points=min(host.max_points, MAX_PAGE_POINTS), seconds=host.time_limit)
            titles = {r.id: r.title for r in recommendation_rules(host.engine)}
            return render("_sweep.html", grid=grid_of(result, titles), problem="")

        return HTMLResponse(await run_in_threadpool(build))
    except NeaPolicyError as error:
        return HTMLResponse(render("_sweep.html", grid=None, problem="; ".join(p.message + (f" ({p.hint})" if p.hint else "") for p in error.problems)), status_code=422)


@router.post("/page/download/{kind}")
async def download_file(request: Request, kind: str) -> Response:
    """The scenario (YAML) or its report (Markdown, HTML, JSON), as an attachment; the state comes as `s`."""
    host = _host(request)
    try:
        pairs = dict(await _pairs(request, host.max_bytes))
        state = decode_state(pairs.get("s", ""), max_bytes=host.max_bytes) if pairs.get("s") else PageState()
        found = await run_in_threadpool(download, host.engine, state.scenario, kind)
    except NeaPolicyError as error:
        problems = field_problems(list(error.problems), {})
        text = "\n".join(f"{p.where}: {p.message}" for p in problems)
        return Response(f"cannot download {kind}:\n{text}\n", status_code=422, media_type="text/plain; charset=utf-8")
    disposition = f"attachment; filename=\"{found.filename}\"; filename*=UTF-8''{quote(found.filename)}"
    return Response(found.text, media_type=found.media_type, headers={"Content-Disposition": disposition})


@router.get("/page/static/{name}")
async def static(name: str) -> Response:
    """The page's script and style, from the package (no CDN: the page works offline)."""
    if name not in STATIC:
        return Response("not found\n", status_code=404, media_type="text/plain")
    text = (resources.files("nea_policy.web") / "static" / name).read_text(encoding="utf-8")
    return Response(text, media_type=STATIC[name], headers={"Cache-Control": "public, max-age=3600"})


__all__ = ["router"]
