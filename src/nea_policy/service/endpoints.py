"""The POST endpoints: check, the interview's next questions, and the decisions (evaluate, explain, why-not,
counterfactuals, what-if, compare, sweep, batch). Each parses its body, calls the library function the command line calls, and answers that function's JSON.

They are plain functions, so FastAPI runs them in its thread pool: the engine's lock is taken and released within
one call, never held across an await, and a long search does not stop the event loop from taking requests.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from nea_policy.analysis.compare import Comparison, compare_scenarios
from nea_policy.analysis.counterfactuals import Counterfactuals
from nea_policy.analysis.explain import Explanation, WhyNot
from nea_policy.analysis.interview import InterviewRequest
from nea_policy.analysis.sweep import SweepResult
from nea_policy.analysis.whatif import WhatIf
from nea_policy.api import check_actor, check_document, evaluate_narrowed, evaluate_scenarios, what_if_document
from nea_policy.api import interview_next as api_interview_next
from nea_policy.errors import NeaPolicyError, Problem, ScenarioError
from nea_policy.model.documents import Document
from nea_policy.model.facts import Scenario, scenario_from_document
from nea_policy.model.paths import assignment_of
from nea_policy.model.report import Report
from nea_policy.service.body import Body, located, parse_body, part, place, read_body, read_request
from nea_policy.service.context import Service, get_service
from nea_policy.service.decisions import decide, decision_headers
from nea_policy.service.info import json_response
from nea_policy.service.limits import check_batch_size, search_limits
from nea_policy.service.models import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    CheckReport,
    CompareRequest,
    CounterfactualsRequest,
    ExplainRequest,
    InterviewNextRequest,
    ScenarioRequest,
    SweepRequest,
    UnreadFact,
    WhatIfRequest,
    WhyNotRequest,
)
from nea_policy.service.openapi import BODY_STATUSES, operation
from nea_policy.service.problems import pointer_of

router = APIRouter()
T = TypeVar("T")

ACTOR = Query(None, pattern="^[A-Za-z]{2}$", description="only what is addressed to one government (a country code, e.g. CN)")
FINDINGS = Query(True, description="false: leave out the findings and the proof tree of each recommendation")
ACTOR_LABELS = {"--actor": "?actor"}
RULE_LABELS = {"": "#/rule"}


def _decision(service: Service, endpoint: str, data: Any, call: Callable[[], T], conclusions: Callable[[T], list[str]], text: Callable[[T], str]) -> Response:
    """Run one decision and answer its JSON with the decision headers."""
    result, decision_id = decide(service.log, service.ruleset, endpoint, data, call, conclusions)
    return json_response(text(result), headers=decision_headers(decision_id, service.ruleset))


def _scenario(document: Document) -> Scenario:
    with located(document):
        return scenario_from_document(document)


def _report(service: Service, scenario: Scenario, actor: str | None, findings: bool) -> Report:
    return evaluate_scenarios(service.engine, [scenario], actor=actor.upper() if actor else None, findings=findings)[0]


@router.post("/check", summary="Validate a scenario", **operation("CheckReport", body="Scenario", statuses=BODY_STATUSES))
def check(body: Body = Depends(read_body), service: Service = Depends(get_service)) -> Response:
    """Validate without evaluating (as `nea-policy check`): what the scenario declares, or every problem at once (422)."""
    document = parse_body(body)
    result = check_document(document, ruleset=service.engine.ruleset)
    if result.scenario is None:
        raise place(ScenarioError(list(result.problems)), document)
    unread = [UnreadFact(location=u.location, path=u.path, collection=u.collection, key=u.key, field=u.field) for u in result.unread]
    return json_response(CheckReport(title=result.scenario.title, counts=result.counts, unread=unread).model_dump_json(indent=2))


@router.post("/evaluate", summary="Recommendations with their reasons", **operation("Report", body="Scenario", statuses=BODY_STATUSES, decision=True))
async def evaluate(body: Body = Depends(read_body), actor: str | None = ACTOR, findings: bool = FINDINGS, service: Service = Depends(get_service)) -> Response:
    """The report of a scenario: the same JSON as `nea-policy evaluate --format json` (with `?actor=` and `?findings=false` as
    its --actor and --no-findings)."""
    if len(body.raw) <= INLINE_BYTES:
        # A small scenario evaluates in about a millisecond: handing it to the thread pool and back would cost a
        # good part of that again (the engine's lock is taken and released within the call, never across an await).
        return _evaluate(body, actor, findings, service)
    return await run_in_threadpool(_evaluate, body, actor, findings, service)


#: Bodies up to this size are evaluated on the event loop; larger ones (slower) in the thread pool.
INLINE_BYTES = 64 * 1024


def _evaluate(body: Body, actor: str | None, findings: bool, service: Service) -> Response:
    document = parse_body(body)
    scenario = _scenario(document)
    with located(document, labels=ACTOR_LABELS):
        return _decision(service, "/v1/evaluate", document.data, lambda: _report(service, scenario, actor, findings), Report.recommendation_ids, Report.to_json)


def _request_decision(
    service: Service,
    body: Body,
    model: type[ScenarioRequest],
    endpoint: str,
    call: Callable[[Any, dict[str, Scenario], Document], T],
    conclusions: Callable[[T], list[str]],
    labels: dict[str, str] | None = None,
) -> Response:
    """A decision on a request that holds scenarios: read it (every problem at once), decide, answer the JSON."""
    document = parse_body(body)
    request, scenarios = read_request(model, document)
    with located(document, ("scenario",) if "scenario" in model.SCENARIOS else (), labels):
        return _decision(service, endpoint, document.data, lambda: call(request, scenarios, document), conclusions, _text)


def _text(result: Any) -> str:
    return result.to_json() if hasattr(result, "to_json") else result.model_dump_json(indent=2) + "\n"


def _if_recommended(answer: Any) -> list[str]:
    return [answer.target] if answer.holds and answer.kind == "recommendation" else []


@router.post("/explain", summary="Why a conclusion holds, or why not, and what would change it", **operation("Explanation", body="ExplainRequest", statuses=(*BODY_STATUSES, 404), decision=True))
def explain(body: Body = Depends(read_body), service: Service = Depends(get_service)) -> Response:
    """Proof tree of a conclusion that holds and the smallest changes that stop it; otherwise why not and the smallest
    changes that make it fire, each verified (as `nea-policy explain`). The search stops at the server's time limit
    and says so (`changes.stopped_by` is `seconds`)."""

    def call(request: ExplainRequest, scenarios: dict[str, Scenario], _: Document) -> Explanation:
        return service.engine.explain(scenarios["scenario"], request.rule, request.subject, limits=search_limits(request.limits, service.settings))

    return _request_decision(service, body, ExplainRequest, "/v1/explain", call, _if_recommended, RULE_LABELS)


@router.post("/interview/next", summary="The next questions that can still change a recommendation, with why each is asked", **operation("InterviewStep", body="InterviewNextRequest", statuses=BODY_STATUSES))
def interview_next(body: Body = Depends(read_body), service: Service = Depends(get_service)) -> Response:
    """One turn of an interview (as `nea-policy interview`): of the fields not yet answered, those that can still change a
    recommendation or finding, the most decisive first, each with the rules waiting on it in words; `decided` once no
    unanswered field can change any outcome (then the report is that of the full scenario)."""
    document = parse_body(body)
    request, _ = read_request(InterviewNextRequest, document)
    try:
        step = api_interview_next(InterviewRequest(scenario=part(document, ("scenario",)).data, unknown=request.unknown, goal=request.goal), engine=service.engine)
    except ScenarioError as exc:
        raise place(exc, document, ("scenario",)) from None
    except NeaPolicyError as exc:
        # a bad entry of `unknown` is located as `unknown[2]`: the pointer #/unknown/2 in the body
        raise place(type(exc)([_unknown_entry(p) for p in exc.problems]), document) from None
    return json_response(step.model_dump_json(indent=2) + "\n")


def _unknown_entry(problem: Problem) -> Problem:
    match = re.fullmatch(r"unknown\[(\d+)\]", problem.location)
    return problem if match is None else dataclasses.replace(problem, location=f"#/unknown/{match.group(1)}")


@router.post("/why-not", summary="Why a conclusion does not hold", **operation("WhyNot", body="WhyNotRequest", statuses=(*BODY_STATUSES, 404), decision=True))
def why_not(body: Body = Depends(read_body), service: Service = Depends(get_service)) -> Response:
    """Per candidate binding of the rules concluding it, closest first: each condition held, failed or missing (a fact
    the scenario does not give), with the actual value against what the rule asks."""

    def call(request: WhyNotRequest, scenarios: dict[str, Scenario], _: Document) -> WhyNot:
        return service.engine.why_not(scenarios["scenario"], request.rule, request.subject)

    return _request_decision(service, body, WhyNotRequest, "/v1/why-not", call, _if_recommended, RULE_LABELS)


@router.post(
    "/counterfactuals", summary="The smallest fact changes that flip a conclusion", **operation("Counterfactuals", body="CounterfactualsRequest", statuses=(*BODY_STATUSES, 404), decision=True)
)
def counterfactuals(body: Body = Depends(read_body), service: Service = Depends(get_service)) -> Response:
    """Verified change sets (fewest facts, then fewest steps on the none..severe scale) that make the conclusion fire, or
    stop when it holds; bounded, and `stopped_by` says what ended the search."""

    def call(request: CounterfactualsRequest, scenarios: dict[str, Scenario], _: Document) -> Counterfactuals:
        limits = search_limits(request.limits, service.settings)
        return service.engine.counterfactuals(scenarios["scenario"], request.rule, request.subject, goal=request.goal, limits=limits)

    return _request_decision(service, body, CounterfactualsRequest, "/v1/counterfactuals", call, lambda c: [c.target], RULE_LABELS)


@router.post("/what-if", summary="Change facts and compare", **operation("WhatIf", body="WhatIfRequest", statuses=BODY_STATUSES, decision=True))
def what_if(body: Body = Depends(read_body), service: Service = Depends(get_service)) -> Response:
    """The report of the scenario with the changes made, and its comparison with the original (as `nea-policy what-if`)."""

    def call(request: WhatIfRequest, _: dict[str, Scenario], document: Document) -> WhatIf:
        changes = [assignment_of(path, value, origin=pointer_of(("set", path))) for path, value in request.changes.items()]
        return what_if_document(service.engine, part(document, ("scenario",)), changes)

    return _request_decision(service, body, WhatIfRequest, "/v1/what-if", call, lambda w: w.report.recommendation_ids())


@router.post("/compare", summary="What changes between two scenarios, and why", **operation("Comparison", body="CompareRequest", statuses=BODY_STATUSES, decision=True))
def compare(body: Body = Depends(read_body), service: Service = Depends(get_service)) -> Response:
    """Which recommendations and findings appear, disappear or change between `before` and `after`, with the fact
    differences behind each (as `nea-policy compare`)."""

    def call(_: CompareRequest, scenarios: dict[str, Scenario], __: Document) -> Comparison:
        return compare_scenarios(scenarios["before"], scenarios["after"], service.engine)

    return _request_decision(service, body, CompareRequest, "/v1/compare", call, lambda c: list(dict.fromkeys(r.id for r in c.recommendations)))


@router.post("/sweep", summary="Which recommendations hold across a grid", **operation("SweepResult", body="SweepRequest", statuses=BODY_STATUSES, decision=True))
def sweep(body: Body = Depends(read_body), service: Service = Depends(get_service)) -> Response:
    """Evaluate every combination of the varied values (as `nea-policy sweep`); grids over the server's --max-points are
    refused, and a sweep still running at the time limit answers the points done so far with `stopped_by: seconds`."""
    settings = service.settings

    def call(request: SweepRequest, scenarios: dict[str, Scenario], _: Document) -> SweepResult:
        origins = {path: pointer_of(("vary", path)) for path in request.vary}
        return service.engine.sweep(scenarios["scenario"], request.vary, max_points=settings.max_points, seconds=settings.time_limit, origins=origins)

    return _request_decision(service, body, SweepRequest, "/v1/sweep", call, lambda r: r.recommendations, {"--vary": "#/vary", "--set": "#/vary"})


@router.post("/batch", summary="Many scenarios, one report each", **operation("BatchResponse", body="BatchRequest", statuses=BODY_STATUSES))
def batch(body: Body = Depends(read_body), actor: str | None = ACTOR, findings: bool = FINDINGS, service: Service = Depends(get_service)) -> Response:
    """Each scenario evaluated as /v1/evaluate would, in order, each its own decision (`decision_id`, one line of the
    decision log). As `nea-policy evaluate A B ...` does, it evaluates nothing unless every scenario is valid: a 422
    gives every problem of every scenario, with pointers from the body's root (`#/scenarios/2/flows/0/...`); and an
    `actor` need only be declared by one of them."""
    document = parse_body(body)
    request, _ = read_request(BatchRequest, document)
    with located(document):
        check_batch_size(len(request.scenarios), service.settings)
    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    for index in range(len(request.scenarios)):
        try:
            scenarios.append(scenario_from_document(part(document, ("scenarios", index))))
        except NeaPolicyError as exc:
            problems += place(exc, document, ("scenarios", index)).problems
    if problems:
        raise ScenarioError(problems)
    actor = actor.upper() if actor else None
    with located(document, labels=ACTOR_LABELS):
        if actor is not None:
            check_actor(scenarios, actor)
    results = []
    for index, (data, scenario) in enumerate(zip(request.scenarios, scenarios)):
        report, decision_id = decide(
            service.log, service.ruleset, "/v1/batch", data, lambda s=scenario: evaluate_narrowed(service.engine, s, actor=actor, findings=findings), Report.recommendation_ids
        )
        results.append(BatchItem(index=index, decision_id=decision_id, report=report))
    return json_response(BatchResponse(ruleset=service.ruleset, results=results).model_dump_json(indent=2) + "\n")
