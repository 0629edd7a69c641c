"""POST /v1/interview/next: one turn of the interview over HTTP, the same as the library's, to the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nea_policy.analysis.interview import answers_from, apply_answer, field_index, next_step, structure_of
from nea_policy.api import Engine
from nea_policy.model.facts import load_scenario
from nea_policy.service.app import create_app
from nea_policy.service.settings import Settings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def client() -> TestClient:
    with TestClient(create_app(Settings()), raise_server_exceptions=False) as test_client:
        yield test_client  # type: ignore[misc]


def test_a_turn_is_the_librarys_turn(client: TestClient, engine: Engine) -> None:
    start = structure_of(load_scenario(EXAMPLES / "north-koreans-in-china.yaml"))
    response = client.post("/v1/interview/next", json={"scenario": start, "unknown": ["flows.kp-to-cn.abuse"]})
    assert response.status_code == 200, response.text
    expected = next_step(engine, {"scenario": start, "unknown": ["flows.kp-to-cn.abuse"]})
    assert response.json() == json.loads(expected.model_dump_json())
    body = response.json()
    assert not body["decided"] and body["questions"][0]["reason"].startswith("asked because *")
    assert "flows.kp-to-cn.abuse" not in [q["field"] for q in body["questions"]]


@pytest.mark.parametrize("name", ["north-koreans-in-china", "russians-in-japan"])
def test_an_interview_replayed_over_http_ends_with_the_recommendations_of_evaluate(client: TestClient, engine: Engine, name: str) -> None:
    source = load_scenario(EXAMPLES / f"{name}.yaml")
    answer = answers_from(source)
    data: dict[str, Any] = structure_of(source)
    unknown: list[str] = []
    for _ in range(200):
        body = client.post("/v1/interview/next", json={"scenario": data, "unknown": unknown}).json()
        if body["decided"]:
            break
        step = next_step(engine, {"scenario": data, "unknown": unknown})
        question = step.questions[0]
        assert body["questions"][0]["field"] == question.field
        apply_answer(data, unknown, field_index(load_scenario(data), unknown).fields[question.field], answer(question, step))
    else:
        pytest.fail("the interview did not end in 200 turns")
    full = engine.evaluate(source)
    assert [(r["rule"], r["subject"]["key"], r["actors"]) for r in body["report"]["recommendations"]] == [(r.rule, r.subject.key, r.actors) for r in full.recommendations]


def test_a_bad_unknown_path_is_422_at_its_pointer_with_the_closest_field(client: TestClient) -> None:
    start = structure_of(load_scenario(EXAMPLES / "north-koreans-in-china.yaml"))
    response = client.post("/v1/interview/next", json={"scenario": start, "unknown": ["flows.kp-to-cn.legal_status", "flows.kp-to-cn.legal_statu"]})
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert (error["code"], error["pointer"], error["hint"]) == ("unknown_field_path", "#/unknown/1", "did you mean 'flows.kp-to-cn.legal_status'?")


def test_a_bad_fact_in_the_partial_scenario_is_422_at_its_pointer(client: TestClient) -> None:
    start = structure_of(load_scenario(EXAMPLES / "north-koreans-in-china.yaml"))
    start["flows"][0]["abuse"] = "awful"
    [error] = client.post("/v1/interview/next", json={"scenario": start}).json()["errors"]
    assert (error["code"], error["pointer"]) == ("bad_value", "#/scenario/flows/0/abuse")
