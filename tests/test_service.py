"""The HTTP service through FastAPI's TestClient: every endpoint against the library and the CLI, every error class."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from nea_policy.api import Engine, json_schema
from nea_policy.cli import main
from nea_policy.language.rule_docs import RuleDoc, describe_rule
from nea_policy.model.facts import load_scenario
from nea_policy.service.app import create_app
from nea_policy.service.decisions import input_sha256
from nea_policy.service.problems import path_of, pointer_of, status_of
from nea_policy.service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NK = EXAMPLES / "north-koreans-in-china.yaml"
RU = EXAMPLES / "russians-in-japan.yaml"
FAR_EAST = EXAMPLES / "chinese-in-the-russian-far-east.yaml"
REGION = EXAMPLES / "northeast-asia.yaml"
YAML = {"Content-Type": "application/yaml"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def data(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": None, "NO_COLOR": None})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service") / "decisions.jsonl"


@pytest.fixture(scope="module")
def client(log_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(decision_log=str(log_path))), raise_server_exceptions=False) as test_client:
        yield test_client


def log_lines(log_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"] == f"urn:nea-policy:problem:{body['code']}"
    assert "Traceback" not in response.text
    return body


# --- the GET endpoints --------------------------------------------------------------------------------


def test_health(client: TestClient) -> None:
    response = client.get("/v1/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_version_names_the_rules_of_every_report(client: TestClient, engine: Engine) -> None:
    body = client.get("/v1/version").json()
    assert body["nea_policy"] == cli("--version").split()[-1]
    assert body["ruleset"] == {"version": engine.ruleset.version, "digest": engine.ruleset.digest}
    assert body["packs"] == [{"name": "nea-policy-rules", "version": "1.0.0"}]


def test_rules_are_listed_as_the_cli_lists_them(client: TestClient) -> None:
    assert client.get("/v1/rules").json() == json.loads(cli("rules", "list", "--format", "json"))


def test_a_rule_is_explained_as_rules_show_does_without_the_servers_paths(client: TestClient, engine: Engine) -> None:
    body = client.get("/v1/rules/legal-status-limbo").json()
    doc = describe_rule(engine.ruleset, "legal-status-limbo")
    assert body["location"] == "findings.yaml:" + doc.location.rsplit(":", 1)[1]
    expected = TypeAdapter(RuleDoc).dump_python(doc, mode="json")
    assert {k: v for k, v in body.items() if k != "location"} == {k: v for k, v in expected.items() if k != "location"}
    assert body["conditions"] == [{"words": "the flow's legal status is unclear", "written": "flow.legal_status == unclear", "branches": []}]
    assert body["needed_by"] == ["identify-refugees", "semi-resident-status"]


def test_an_unknown_rule_is_404_with_the_closest_ids(client: TestClient) -> None:
    body = problem(client.get("/v1/rules/legal-status-limb"), 404)
    assert body["code"] == "unknown_rule"
    assert body["errors"][0]["hint"] == "did you mean legal-status-limbo?"


@pytest.mark.parametrize("kind", ["facts", "report"])
def test_the_schemas_are_the_clis(client: TestClient, kind: str) -> None:
    assert client.get(f"/v1/schema/{kind}").json() == json_schema(kind)


def test_an_unknown_schema_is_a_bad_parameter(client: TestClient) -> None:
    body = problem(client.get("/v1/schema/rules"), 422)
    assert body["errors"][0]["code"] == "bad_parameter" and body["errors"][0]["location"] == "path parameter kind"


# --- evaluate and check ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_a_json_and_a_yaml_body_give_the_report_of_the_cli(client: TestClient, path: Path) -> None:
    expected = cli("evaluate", str(path), "--format", "json")
    as_yaml = client.post("/v1/evaluate", content=path.read_bytes(), headers=YAML)
    as_json = client.post("/v1/evaluate", json=data(path))
    assert as_yaml.status_code == as_json.status_code == 200
    assert as_yaml.text == expected
    assert as_json.text == expected


def test_actor_and_findings_narrow_as_the_cli_options_do(client: TestClient) -> None:
    expected = cli("evaluate", str(RU), "--actor", "RU", "--no-findings", "--format", "json")
    response = client.post("/v1/evaluate?actor=ru&findings=false", content=RU.read_bytes(), headers=YAML)
    assert response.text == expected
    assert response.json()["findings"] == [] and [r["actors"] for r in response.json()["recommendations"]] == [["JP", "RU"]]


def test_a_decision_carries_its_id_and_the_ruleset_digest(client: TestClient, engine: Engine, log_path: Path) -> None:
    response = client.post("/v1/evaluate", json=data(NK))
    decision_id = response.headers["NEA-Decision-Id"]
    assert UUID.match(decision_id)
    assert response.headers["NEA-Ruleset-Digest"] == engine.ruleset.digest == response.json()["ruleset"]["digest"]
    assert response.headers["NEA-Ruleset-Version"] == engine.ruleset.version
    [line] = [entry for entry in log_lines(log_path) if entry["decision_id"] == decision_id]
    assert set(line) == {"time", "endpoint", "decision_id", "status", "ruleset", "input_sha256", "recommendations", "duration_ms"}
    assert line["endpoint"] == "/v1/evaluate" and line["status"] == 200
    assert line["ruleset"] == {"version": engine.ruleset.version, "digest": engine.ruleset.digest}
    assert line["recommendations"] == engine.evaluate(load_scenario(NK)).recommendation_ids() != []
    assert line["input_sha256"] == input_sha256(data(NK)) and len(line["input_sha256"]) == 64
    assert line["duration_ms"] > 0 and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", line["time"])


def test_the_same_scenario_in_json_and_in_yaml_hashes_the_same(client: TestClient, log_path: Path) -> None:
    ids = [client.post("/v1/evaluate", content=RU.read_bytes(), headers=YAML).headers["NEA-Decision-Id"], client.post("/v1/evaluate", json=data(RU)).headers["NEA-Decision-Id"]]
    hashes = {entry["input_sha256"] for entry in log_lines(log_path) if entry["decision_id"] in ids}
    assert len(hashes) == 1


def test_each_decision_has_its_own_id(client: TestClient) -> None:
    ids = {client.post("/v1/evaluate", json=data(NK)).headers["NEA-Decision-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_check_counts_what_a_valid_scenario_declares(client: TestClient) -> None:
    response = client.post("/v1/check", content=REGION.read_bytes(), headers=YAML)
    assert response.status_code == 200
    body = response.json()
    unread = body.pop("unread")
    assert body == {"ok": True, "title": "Cross-border human flows in Northeast Asia", "counts": {"countries": 6, "regions": 1, "relations": 5, "agreements": 0, "flows": 5}}
    # the facts no rule reads, as `nea-policy check --format json` lists them (at the body's lines instead of the file's)
    [checked] = json.loads(cli("check", str(REGION), "--format", "json"))
    assert [{**u, "location": u["location"].replace("body:", "")} for u in unread] == [{**u, "location": u["location"].split(":", 1)[1]} for u in checked["unread"]]
    assert unread, "the region example sets facts no rule reads"
    assert "NEA-Decision-Id" not in response.headers  # a check decides nothing


TYPO = "countries:\n  - code: CN\n    name: China\n    labour_shortage: high\n    food_insecurity: awful\n"


def test_check_gives_every_problem_with_the_clis_codes_and_messages(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "typo.yaml").write_text(TYPO, encoding="utf-8")
    expected = json.loads(CliRunner().invoke(main, ["check", str(tmp_path / "typo.yaml"), "--format", "json"]).stdout)[0]["problems"]
    body = problem(client.post("/v1/check", content=TYPO.encode(), headers=YAML), 422)
    assert [(e["code"], e["message"], e["hint"]) for e in body["errors"]] == [(p["code"], p["message"], p["hint"]) for p in expected]
    assert [e["location"] for e in body["errors"]] == [p["location"].replace(str(tmp_path / "typo.yaml"), "body") for p in expected] == ["body:4:5", "body:5:5"]


def test_an_unknown_field_in_yaml_is_named_with_its_line_column_and_pointer(client: TestClient) -> None:
    body = problem(client.post("/v1/evaluate", content=TYPO.encode(), headers=YAML), 422)
    assert body["title"] == "The scenario is not valid"
    first = body["errors"][0]
    assert first == {
        "code": "unknown_field",
        "message": "countries[0].labour_shortage: unknown field 'labour_shortage'",
        "location": "body:4:5",
        "pointer": "#/countries/0/labour_shortage",
        "line": 4,
        "column": 5,
        "hint": "did you mean 'labor_shortage'?",
    }
    assert body["detail"] == "body:4:5: unknown_field: countries[0].labour_shortage: unknown field 'labour_shortage' (did you mean 'labor_shortage'?) (and 1 more problem)"
    assert body["errors"][1]["pointer"] == "#/countries/0/food_insecurity"


def test_an_unknown_field_in_json_is_named_with_its_pointer(client: TestClient) -> None:
    scenario = data(NK)
    scenario["flows"][0]["legal_statuss"] = "regular"
    body = problem(client.post("/v1/evaluate", json=scenario), 422)
    [error] = body["errors"]
    assert (error["code"], error["pointer"], error["hint"]) == ("unknown_field", "#/flows/0/legal_statuss", "did you mean 'legal_status'?")
    assert error["message"] == "flows[0].legal_statuss: unknown field 'legal_statuss'"


def test_a_reference_to_an_undeclared_country_is_pointed_at(client: TestClient) -> None:
    scenario = data(NK)
    scenario["flows"][0]["destination"] = "JP"
    errors = problem(client.post("/v1/evaluate", json=scenario), 422)["errors"]
    assert [(e["code"], e["pointer"]) for e in errors] == [("undeclared_country", "#/flows/0/destination")]


def test_pointers_escape_what_json_pointer_reserves() -> None:
    assert pointer_of(("countries", 0, "a/b~c")) == "#/countries/0/a~1b~0c"
    assert path_of("#/countries/0/a~1b~0c") == ("countries", 0, "a/b~c")


# --- bodies that cannot be read ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "headers", "code", "location"),
    [
        (b'{"countries": [', {"Content-Type": "application/json"}, "json_syntax", "body:1:16"),
        (b"countries:\n  - code: CN\n   name: x\n", YAML, "yaml_syntax", "body:3:4"),
        (b"title: caf\xe9\n", YAML, "not_utf8", "body:1"),
        (b"   \n", YAML, "empty_file", "body"),
        (b'{"title": "a", "title": "b"}', {"Content-Type": "application/json"}, "duplicate_key", "body:1:16"),
        (b'{"countries": NaN}', {"Content-Type": "application/json"}, "not_finite", "body:1:15"),
        (b"a: &x [1]\nb: !!python/object:os.system x\n", YAML, "unsafe_tag", "body:2:4"),
    ],
    ids=["json", "yaml", "utf8", "empty", "duplicate", "nan", "tag"],
)
def test_a_body_that_is_not_a_document_is_400(client: TestClient, content: bytes, headers: dict[str, str], code: str, location: str) -> None:
    body = problem(client.post("/v1/evaluate", content=content, headers=headers), 400)
    assert (body["code"], body["errors"][0]["location"]) == (code, location)
    assert body["detail"].startswith(f"{location}: {code}: ")


def test_a_body_in_another_media_type_is_415_with_what_to_send(client: TestClient) -> None:
    body = problem(client.post("/v1/evaluate", content=b"countries: []", headers={"Content-Type": "text/plain"}), 415)
    assert body["code"] == "unsupported_media_type" and "application/yaml" in body["errors"][0]["message"]
    form = problem(client.post("/v1/evaluate", data={"countries": "CN"}), 415)
    assert "--json" in form["errors"][0]["hint"]


def test_a_body_without_a_media_type_is_read_as_stdin_is(client: TestClient) -> None:
    expected = cli("evaluate", str(NK), "--format", "json")
    for content in (NK.read_bytes(), json.dumps(data(NK)).encode()):
        response = client.post("/v1/evaluate", content=content, headers={"Content-Type": ""})
        assert response.text == expected


def test_a_20_mb_body_is_413(client: TestClient) -> None:
    body = problem(client.post("/v1/evaluate", content=b" " * (20 * 1024 * 1024), headers={"Content-Type": "application/json"}), 413)
    assert body["code"] == "body_too_large" and "10,485,760 bytes" in body["errors"][0]["message"]


def test_a_body_over_the_limit_is_413_without_a_declared_length(log_path: Path) -> None:
    with TestClient(create_app(Settings(max_bytes=1000))) as small:

        def chunks() -> Iterator[bytes]:
            for _ in range(5):
                yield b" " * 300

        assert problem(small.post("/v1/evaluate", content=chunks(), headers={"Content-Type": "application/json"}), 413)["code"] == "body_too_large"
        assert small.post("/v1/check", content=b" " * 990 + b'{"countries": [{"code": "CN", "name": "China"}]}'[:10], headers={"Content-Type": "application/json"}).status_code == 400


def test_a_bad_query_parameter_is_422(client: TestClient) -> None:
    body = problem(client.post("/v1/evaluate?findings=maybe", json=data(NK)), 422)
    assert (body["code"], body["errors"][0]["location"]) == ("bad_parameter", "?findings")
    assert problem(client.post("/v1/evaluate?actor=CHN", json=data(NK)), 422)["errors"][0]["location"] == "?actor"


def test_an_actor_the_scenario_does_not_declare_is_named(client: TestClient) -> None:
    body = problem(client.post("/v1/evaluate?actor=JP", json=data(NK)), 422)
    assert body["errors"] == [{"code": "unknown_actor", "message": "JP is not a country or party of the scenario; declared: CN, KP", "location": "?actor", "hint": ""}]


def test_unknown_endpoints_and_methods_are_problems(client: TestClient) -> None:
    assert problem(client.get("/v1/evaluat"), 404)["code"] == "not_found"
    wrong = client.get("/v1/evaluate")
    assert problem(wrong, 405)["errors"][0]["hint"] == "use POST" and wrong.headers["allow"] == "POST"


# --- explain, why-not, counterfactuals ------------------------------------------------------------------


def test_explain_is_the_librarys_explanation(client: TestClient, engine: Engine) -> None:
    response = client.post("/v1/explain", json={"scenario": data(RU), "rule": "semi-resident-status"})
    assert response.status_code == 200 and UUID.match(response.headers["NEA-Decision-Id"])
    assert response.text == engine.explain(load_scenario(RU), "semi-resident-status").to_json()
    assert response.json()["holds"] is False and response.json()["changes"]["change_sets"]


def test_explain_of_what_holds_gives_its_proof(client: TestClient, engine: Engine) -> None:
    body = client.post("/v1/explain", content=yaml.safe_dump({"scenario": data(NK), "rule": "identify-refugees", "subject": "kp-to-cn"}).encode(), headers=YAML).json()
    assert body == json.loads(engine.explain(load_scenario(NK), "identify-refugees", "kp-to-cn").to_json())
    assert body["holds"] is True and body["proofs"][0]["rule"] == "identify-refugees"


def test_why_not_and_counterfactuals_are_the_librarys(client: TestClient, engine: Engine) -> None:
    scenario = load_scenario(RU)
    why = client.post("/v1/why-not", json={"scenario": data(RU), "rule": "semi-resident-status"})
    assert why.json() == engine.why_not(scenario, "semi-resident-status").model_dump(mode="json")
    changes = client.post("/v1/counterfactuals", json={"scenario": data(NK), "rule": "identify-refugees", "goal": "stop"})
    assert changes.json() == engine.counterfactuals(load_scenario(NK), "identify-refugees", goal="stop").model_dump(mode="json")
    assert changes.json()["goal"] == "stop" and changes.json()["change_sets"]


def test_an_unknown_rule_in_a_request_is_404_pointing_at_it(client: TestClient) -> None:
    body = problem(client.post("/v1/explain", json={"scenario": data(NK), "rule": "identify-refugee"}), 404)
    assert body["errors"][0]["pointer"] == "#/rule" and body["errors"][0]["hint"] == "did you mean identify-refugees?"


def test_a_request_with_problems_in_it_and_in_its_scenario_gives_them_all(client: TestClient) -> None:
    text = "scenario:\n  countries:\n    - code: CN\n      name: China\n      labour_shortage: high\nrulez: x\n"
    body = problem(client.post("/v1/explain", content=text.encode(), headers=YAML), 422)
    assert [(e["code"], e["location"], e["pointer"], e["hint"]) for e in body["errors"]] == [
        ("missing_field", "body:1:1", "#/rule", "add it"),
        ("unknown_field", "body:5:7", "#/scenario/countries/0/labour_shortage", "did you mean 'labor_shortage'?"),
        ("unknown_field", "body:6:1", "#/rulez", "did you mean 'rule'?"),
    ]


def test_a_request_that_is_not_a_mapping_says_what_it_should_hold(client: TestClient) -> None:
    body = problem(client.post("/v1/why-not", json=[1, 2]), 422)
    assert body["code"] == "not_a_mapping" and "scenario, rule, subject" in body["errors"][0]["message"]


def test_the_search_is_bounded_by_the_servers_time_limit() -> None:
    with TestClient(create_app(Settings(time_limit=1e-6))) as hurried:
        body = hurried.post("/v1/explain", json={"scenario": data(RU), "rule": "semi-resident-status", "limits": {"seconds": 60}}).json()
        assert body["changes"]["stopped_by"] == "seconds"
        cut = hurried.post("/v1/counterfactuals", json={"scenario": data(RU), "rule": "semi-resident-status"}).json()
        assert cut["stopped_by"] == "seconds" and cut["change_sets"] == []


# --- what-if, compare, sweep, batch -----------------------------------------------------------------


def test_what_if_answers_the_changed_report_and_the_cli_comparison(client: TestClient, engine: Engine) -> None:
    response = client.post("/v1/what-if", json={"scenario": data(NK), "set": {"flows.kp-to-cn.legal_status": "regular"}})
    body = response.json()
    assert UUID.match(response.headers["NEA-Decision-Id"])
    cli_comparison = json.loads(cli("what-if", str(NK), "--set", "flows.kp-to-cn.legal_status=regular", "--format", "json"))
    assert body["comparison"] == cli_comparison
    changed = data(NK)
    changed["flows"][0]["legal_status"] = "regular"
    assert body["report"] == json.loads(engine.evaluate(changed).to_json())


def test_what_if_values_are_json_values(client: TestClient) -> None:
    body = client.post("/v1/what-if", json={"scenario": data(FAR_EAST), "set": {"relations.CN-RU.proximity": False, "flows.cn-to-russian-far-east.sectors": ["trade"]}}).json()
    changes = {c["path"]: c["after"] for c in body["comparison"]["fact_changes"]}
    assert changes == {"relations.CN-RU.proximity": False, "flows.cn-to-russian-far-east.sectors": ["trade"]}


def test_what_if_problems_point_at_the_change_that_made_them(client: TestClient) -> None:
    bad_path = problem(client.post("/v1/what-if", json={"scenario": data(NK), "set": {"flows.kp-to-cnn.legal_status": "regular"}}), 422)
    assert [(e["code"], e["pointer"], e["hint"]) for e in bad_path["errors"]] == [("bad_set_path", "#/set/flows.kp-to-cnn.legal_status", "did you mean 'kp-to-cn'?")]
    assert bad_path["errors"][0]["message"].startswith("'flows.kp-to-cnn.legal_status=regular': no entry in flows")
    text = yaml.safe_dump({"scenario": data(NK), "set": {"flows.kp-to-cn.abuse": "awful"}}, sort_keys=False)
    bad_value = problem(client.post("/v1/what-if", content=text.encode(), headers=YAML), 422)
    line = text.splitlines().index("  flows.kp-to-cn.abuse: awful") + 1
    assert [(e["code"], e["pointer"], e["location"]) for e in bad_value["errors"]] == [("bad_value", "#/set/flows.kp-to-cn.abuse", f"body:{line}:3")]


def test_compare_is_the_clis_comparison(client: TestClient) -> None:
    response = client.post("/v1/compare", json={"before": data(FAR_EAST), "after": data(REGION)})
    assert response.status_code == 200 and UUID.match(response.headers["NEA-Decision-Id"])
    assert response.text == cli("compare", str(FAR_EAST), str(REGION), "--format", "json")


def test_compare_locates_the_problems_of_each_side(client: TestClient) -> None:
    before, after = data(NK), data(RU)
    before["countries"][0]["code"] = "ZQ"  # neither an ISO code nor a user-assigned one
    after["flows"][0]["abuse"] = "awful"
    pointers = [e["pointer"] for e in problem(client.post("/v1/compare", json={"before": before, "after": after}), 422)["errors"]]
    assert "#/before/countries/0/code" in pointers and "#/after/flows/0/abuse" in pointers


SWEEP = {"flows.kp-to-cn.legal_status": ["regular", "irregular", "unclear"], "flows.kp-to-cn.fear_of_exposure": ["moderate", "high"]}


def test_sweep_is_the_clis_sweep(client: TestClient) -> None:
    response = client.post("/v1/sweep", json={"scenario": data(NK), "vary": SWEEP})
    varied = [f"--vary={path}={','.join(values)}" for path, values in SWEEP.items()]
    assert response.text == CliRunner().invoke(main, ["sweep", str(NK), *varied, "--format", "json"]).stdout
    assert "stopped_by" not in response.json()


def test_a_sweep_is_bounded_in_size_and_in_time(client: TestClient) -> None:
    with TestClient(create_app(Settings(max_points=5))) as small:
        body = problem(small.post("/v1/sweep", json={"scenario": data(NK), "vary": SWEEP}), 422)
        assert (body["code"], body["errors"][0]["pointer"]) == ("grid_too_large", "#/vary")
    with TestClient(create_app(Settings(time_limit=1e-6))) as hurried:
        body = hurried.post("/v1/sweep", json={"scenario": data(NK), "vary": SWEEP}).json()
        assert body["stopped_by"] == "seconds" and len(body["points"]) < 6


def test_a_sweep_path_that_does_not_exist_is_pointed_at(client: TestClient) -> None:
    body = problem(client.post("/v1/sweep", json={"scenario": data(NK), "vary": {"flows.kp-to-cn.legal_statu": ["regular"]}}), 422)
    assert [(e["code"], e["pointer"]) for e in body["errors"]] == [("bad_set_path", "#/vary/flows.kp-to-cn.legal_statu")]


def test_a_batch_answers_one_report_per_scenario_in_order(client: TestClient, log_path: Path) -> None:
    paths = [NK, RU, REGION]
    response = client.post("/v1/batch?findings=false", json={"scenarios": [data(p) for p in paths]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2]
    for result, path in zip(results, paths):
        assert result["report"] == json.loads(cli("evaluate", str(path), "--no-findings", "--format", "json"))
    ids = [r["decision_id"] for r in results]
    assert len(set(ids)) == 3 and all(UUID.match(i) for i in ids)
    logged = {entry["decision_id"]: entry for entry in log_lines(log_path)}
    assert [logged[i]["input_sha256"] for i in ids] == [input_sha256(data(p)) for p in paths]


def test_a_batch_with_an_actor_needs_only_one_scenario_to_declare_it(client: TestClient) -> None:
    results = client.post("/v1/batch?actor=RU", json={"scenarios": [data(NK), data(RU)]}).json()["results"]
    assert results[0]["report"]["recommendations"] == [] and results[1]["report"]["recommendations"]
    assert problem(client.post("/v1/batch?actor=MN", json={"scenarios": [data(NK), data(RU)]}), 422)["code"] == "unknown_actor"


def test_a_batch_with_invalid_scenarios_gives_every_problem_of_every_one(client: TestClient) -> None:
    second, third = data(RU), data(NK)
    second["flows"][0]["abuse"] = "awful"
    third["countries"][1]["food"] = "low"
    body = problem(client.post("/v1/batch", json={"scenarios": [data(NK), second, third]}), 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/scenarios/1/flows/0/abuse", "#/scenarios/2/countries/1/food"]


def test_a_batch_is_bounded(client: TestClient) -> None:
    with TestClient(create_app(Settings(max_batch=2))) as small:
        body = problem(small.post("/v1/batch", json={"scenarios": [data(NK)] * 3}), 422)
        assert (body["code"], body["errors"][0]["pointer"]) == ("batch_too_large", "#/scenarios")


# --- failures, keys, CORS, docs ---------------------------------------------------------------------


def test_an_unexpected_failure_is_a_500_problem_with_the_id_the_logs_carry(client: TestClient, log_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    engine = client.app.state.service.engine  # type: ignore[attr-defined]

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated bug in /secret/path")

    monkeypatch.setattr(engine, "evaluate", broken)
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        response = client.post("/v1/evaluate", json=data(NK))
    body = problem(response, 500)
    error_id = body["error_id"]
    assert UUID.match(error_id) and error_id in body["detail"]
    assert "simulated" not in response.text and "/secret/path" not in response.text
    [line] = [entry for entry in log_lines(log_path) if entry["decision_id"] == error_id]
    assert (line["status"], line["error"], line["recommendations"]) == (500, "RuntimeError", None)
    [record] = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info is not None and "simulated bug" in str(record.exc_info[1])


def test_a_failure_outside_a_decision_is_a_500_problem_too(client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from nea_policy.service import info

    def broken(*_args: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(info, "list_rules", broken)
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        body = problem(client.get("/v1/rules"), 500)
    assert any(body["error_id"] in r.getMessage() and r.exc_info for r in caplog.records)


def test_every_error_class_has_its_status() -> None:
    from nea_policy.errors import EvaluationError, InputError, RuleError, ScenarioError
    from nea_policy.service.problems import InternalError, RequestError

    assert status_of(ScenarioError("x", code="unknown_field")) == 422
    assert status_of(InputError("x", code="json_syntax")) == 400
    assert status_of(InputError("x", code="bad_set_path")) == 422
    assert status_of(RuleError("x", code="unknown_rule")) == 404
    assert status_of(EvaluationError("x", code="engine_failed")) == 500
    assert status_of(InternalError("id")) == 500
    assert status_of(RequestError("x", code="body_too_large")) == 413
    assert status_of(RequestError("x", code="unauthorized")) == 401


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    keys = tmp_path_factory.mktemp("keys") / "keys.txt"
    keys.write_text("# one key a line\nfirst-key-0123456789\n\nsecond-key-9876543210\n", encoding="utf-8")
    with TestClient(create_app(Settings(api_key_file=str(keys)))) as test_client:
        yield test_client


def test_with_api_keys_a_request_needs_one(keyed: TestClient) -> None:
    missing = problem(keyed.post("/v1/evaluate", json=data(NK)), 401)
    assert missing["code"] == "unauthorized" and "no X-API-Key header" in missing["errors"][0]["message"]
    assert problem(keyed.post("/v1/evaluate", json=data(NK), headers={"X-API-Key": "first-key-012345678"}), 401)["code"] == "unauthorized"
    assert problem(keyed.get("/v1/rules"), 401)["code"] == "unauthorized"
    for key in ("first-key-0123456789", "second-key-9876543210"):
        assert keyed.post("/v1/evaluate", json=data(NK), headers={"X-API-Key": key}).status_code == 200


def test_health_and_docs_need_no_key(keyed: TestClient) -> None:
    assert keyed.get("/v1/health").status_code == 200
    assert keyed.get("/docs").status_code == 200
    spec = keyed.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "one of the keys in the server's --api-key-file"}
    assert "401" in spec["paths"]["/v1/evaluate"]["post"]["responses"] and "security" not in spec["paths"]["/v1/health"]["get"]


def test_keys_are_compared_whole() -> None:
    from nea_policy.service.security import key_matches

    assert key_matches("abc", ("xyz", "abc")) and not key_matches("ab", ("abc",)) and not key_matches("abcd", ("abc",)) and not key_matches("é", ("abc",))


def test_without_keys_nothing_is_asked(client: TestClient) -> None:
    assert "securitySchemes" not in client.get("/openapi.json").json()["components"]


def test_cors_is_off_unless_origins_are_given(client: TestClient) -> None:
    response = client.post("/v1/evaluate", json=data(NK), headers={"Origin": "http://localhost:5173"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_lets_the_allowed_origins_read_the_decision_headers() -> None:
    with TestClient(create_app(Settings(cors_origins=("http://localhost:5173",)))) as cors:
        allowed = cors.post("/v1/evaluate", json=data(NK), headers={"Origin": "http://localhost:5173"})
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert "NEA-Decision-Id" in allowed.headers["access-control-expose-headers"]
        other = cors.post("/v1/evaluate", json=data(NK), headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = cors.options("/v1/evaluate", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-api-key"})
        assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]


def test_the_docs_page_loads_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
    assert urls and all(url.startswith("/") for url in urls), urls
    assert "validatorUrl" in page.text and '"validatorUrl": null' in page.text
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
    assert len(client.get("/docs/assets/swagger-ui-bundle.js").content) > 1_000_000
    assert client.get("/", follow_redirects=False).headers["location"] == "/docs"


def test_the_openapi_document_declares_every_body_answer_and_problem(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    for path, item in spec["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            assert "500" in responses and responses["200"]["content"]["application/json"]["schema"], (method, path)
            if method == "post":
                content = op["requestBody"]["content"]
                assert set(content) == {"application/json", "application/yaml"} and content["application/json"]["example"]
                for status in ("400", "413", "415", "422"):
                    assert responses[status]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/ProblemDetail"}
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["Scenario"]["additionalProperties"] is False and "countries" in schemas["Scenario"]["required"]
    assert spec["paths"]["/v1/evaluate"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Scenario"}
    assert spec["paths"]["/v1/evaluate"]["post"]["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Report"}


def test_the_request_examples_of_the_docs_page_work(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        if "post" in item:
            example = item["post"]["requestBody"]["content"]["application/json"]["example"]
            assert client.post(path, json=example).status_code == 200, path


def test_the_service_keeps_nothing_between_requests(client: TestClient) -> None:
    first = client.post("/v1/evaluate", json=data(REGION)).text
    client.post("/v1/what-if", json={"scenario": data(NK), "set": {"flows.kp-to-cn.legal_status": "regular"}})
    client.post("/v1/sweep", json={"scenario": data(NK), "vary": SWEEP})
    assert client.post("/v1/evaluate", json=data(REGION)).text == first



def test_the_endpoints_never_hold_the_engine_across_an_await() -> None:
    """FastAPI runs plain functions in its thread pool; the one coroutine (evaluate, which runs small bodies on the
    event loop) awaits nothing but the thread pool, so the engine's lock is taken and released within one call."""
    import ast
    import inspect
    import textwrap

    from nea_policy.service import endpoints

    assert endpoints.router.routes
    coroutines = [route for route in endpoints.router.routes if inspect.iscoroutinefunction(route.endpoint)]  # type: ignore[attr-defined]
    assert [route.path for route in coroutines] == ["/evaluate"]  # type: ignore[attr-defined]
    tree = ast.parse(textwrap.dedent(inspect.getsource(endpoints.evaluate)))
    awaited = [node.value for node in ast.walk(tree) if isinstance(node, ast.Await)]
    assert awaited and all(isinstance(call, ast.Call) and getattr(call.func, "id", "") == "run_in_threadpool" for call in awaited)
    assert not inspect.iscoroutinefunction(endpoints._evaluate)