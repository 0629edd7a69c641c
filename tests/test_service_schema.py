"""Schema testing with schemathesis against the service's own OpenAPI: no server error, and every answer conforms.

Bounded so that it stays fast: a few examples per operation (deterministic), from the examples the document gives
(so that answers of 200 are checked too) and generated ones, positive and negative; the coverage phase, which
derives every boundary case the schema defines (some 1,800 requests), for /v1/evaluate only.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from nea_policy.service.app import create_app
from nea_policy.service.settings import Settings

APP = create_app(Settings(time_limit=0.5, max_points=50, max_batch=5))

# A request that fits the schema may still be refused as the service should refuse it: JSON Schema cannot say that a
# flow's origin must be a declared country, that a two-letter code must be an ISO one, or which paths `set` and
# `vary` may name (422), nor which rule ids exist (404).
_CHECKS = {"positive_data_acceptance": {"expected-statuses": ["2xx", "404", "422"]}}
FAST = schemathesis.Config.from_dict({"checks": _CHECKS, "phases": {"coverage": {"enabled": False}}, "generation": {"mode": "all", "deterministic": True}})
COVERAGE = schemathesis.Config.from_dict({"checks": _CHECKS, "phases": {"examples": {"enabled": False}, "fuzzing": {"enabled": False}}, "generation": {"deterministic": True}})

every_operation = schemathesis.openapi.from_asgi("/openapi.json", APP, config=FAST)
evaluate_only = schemathesis.openapi.from_asgi("/openapi.json", APP, config=COVERAGE).include(path="/v1/evaluate")


@every_operation.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate()


@evaluate_only.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_boundary_case_of_evaluate_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate()
