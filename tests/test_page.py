"""The student page's server side, through the app (Starlette's TestClient): form round trips, results, why not,
errors at their fields, escaping, the state in the link, downloads. The browser tests (test_page_browser.py) drive
the same page in Chromium."""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from starlette.testclient import TestClient

from nea_policy.api import Engine, load_scenario, make_engine
from nea_policy.render.html import render_html
from nea_policy.render.markdown import render_markdown
from nea_policy.service.app import create_app, default_pages
from nea_policy.service.settings import Settings
from nea_policy.web.form import form_pairs, read_form
from nea_policy.web.routes import _fields
from nea_policy.web.sources import example_document, examples

ROOT = Path(__file__).resolve().parent.parent
FORM = {"content-type": "application/x-www-form-urlencoded"}
NAMES = sorted(p.stem for p in (ROOT / "src" / "nea_policy" / "web" / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), pages=default_pages()), raise_server_exceptions=False) as test_client:
        yield test_client


def page_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found, "the page carries its state for the script"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def rules_in(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'data-rule="([^"]+)"', html)))


def pairs_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    fields = _fields(make_engine())
    return form_pairs(data, fields)


def post(client: TestClient, path: str, pairs: list[tuple[str, str]]) -> Any:
    return client.post(path, content=urlencode(pairs), headers=FORM)


def changed(pairs: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    assert any(k == name for k, _ in pairs), name
    return [(k, value if k == name else v) for k, v in pairs]


def _sorted_lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_lists(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        items = [_sorted_lists(v) for v in value]
        return sorted(items) if all(isinstance(v, str) for v in items) else items
    return value


def test_the_bundled_examples_are_the_repository_examples() -> None:
    assert NAMES == sorted(e.name for e in examples())
    for name in NAMES:
        shipped = (ROOT / "src" / "nea_policy" / "web" / "examples" / f"{name}.yaml").read_bytes()
        assert shipped == (ROOT / "examples" / f"{name}.yaml").read_bytes(), f"web/examples/{name}.yaml differs from examples/; copy it again"


@pytest.mark.parametrize("name", NAMES)
def test_the_form_holds_every_example_as_it_is(name: str, engine: Engine) -> None:
    """Posting the form the page draws gives back the scenario: the same facts (lists of choices in the schema's order) and the same report."""
    fields = _fields(make_engine())
    data = example_document(name).data
    back, handles = read_form(form_pairs(data, fields), fields)
    assert _sorted_lists(back) == _sorted_lists(data)
    assert engine.evaluate(load_scenario(back)).to_json() == engine.evaluate(load_scenario(data)).to_json()
    assert handles["flows"] == [f["id"] for f in data["flows"]]


def test_an_example_opens_with_its_recommendations(client: TestClient, engine: Engine) -> None:
    page = client.get("/?example=north-koreans-in-china")
    assert page.status_code == 200
    report = engine.evaluate(load_scenario(example_document("north-koreans-in-china").data))
    assert rules_in(page.text) == report.recommendation_ids()
    assert 'name="flows.kp-to-cn.legal_status"' in page.text
    assert "read by no rule" in page.text  # flows[0].kinds, among others
    state = page_data(page.text)
    assert state["url"].startswith("/?s=") and state["previous"] and state["annotations"]["errors"] == []


def test_a_change_updates_the_results_and_says_what_changed(client: TestClient) -> None:
    page = client.get("/?example=north-koreans-in-china")
    pairs = changed(pairs_of(example_document("north-koreans-in-china").data), "flows.kp-to-cn.legal_status", "regular")
    answer = post(client, "/page/update", [*pairs, ("_previous", page_data(page.text)["previous"])]).json()
    results = answer["regions"]["results"]
    assert "semi-resident-status" not in rules_in(results)
    assert re.findall(r'data-disappeared="([^"]+)"', results) == ["identify-refugees", "humanitarian-assistance", "semi-resident-status"]
    assert 'data-why-not="semi-resident-status"' in results
    assert "form" not in answer["regions"]  # a fact changed, not the structure: the form stays as it is
    assert answer["status"] == "1 recommendation. 0 new, 3 no longer recommended."


def test_why_not_gives_the_conditions_and_verified_changes_that_apply(client: TestClient) -> None:
    pairs = pairs_of(example_document("russians-in-japan").data)
    why = post(client, "/page/why-not", [*pairs, ("_rule", "semi-resident-status")])
    assert why.status_code == 200
    assert 'class="cond held"' in why.text and 'class="cond failed"' in why.text and 'class="cond missing"' in why.text
    first = re.search(r"data-apply-change='([^']+)'", why.text)
    assert first
    changes = json.loads(first.group(1).replace("&#34;", '"'))
    assert {c["path"] for c in changes} == {"flows.ru-to-jp.has_work_and_shelter", "flows.ru-to-jp.legal_status"}
    previous = page_data(client.get("/?example=russians-in-japan").text)["previous"]
    answer = post(client, "/page/update", [*pairs, ("_previous", previous), ("_action", "apply"), ("_changes", json.dumps(changes))]).json()
    assert "semi-resident-status" in rules_in(answer["regions"]["results"])
    assert 'data-appeared="semi-resident-status"' in answer["regions"]["results"]
    assert 'name="flows.ru-to-jp.has_work_and_shelter" value="true" checked' in answer["regions"]["form"]


def test_problems_are_placed_at_their_fields_all_at_once(client: TestClient) -> None:
    data = example_document("north-koreans-in-china").data
    pairs = changed(pairs_of(data), "countries.CN.code", "C1")
    pairs = [*pairs, ("flows.kp-to-cn.estimates.0.low", "200000"), ("flows.kp-to-cn.estimates.0.high", "100"), ("flows.kp-to-cn.estimates.0.kind", "careful")]
    answer = post(client, "/page/update", [*pairs, ("_redraw", "1")]).json()
    errors = {e["path"]: e["message"] for e in answer["annotations"]["errors"]}
    # a code names its entry: the form is drawn again with the new name, and the problem is placed there
    assert 'name="countries.C1.code"' in answer["regions"]["form"]
    assert errors["countries.C1.code"].startswith("String should match pattern")
    assert any(path == "flows.kp-to-cn.estimates.0" and "below low" in message for path, message in errors.items()), errors
    assert any(path == "flows.kp-to-cn.destination" for path in errors), errors  # CN is no longer declared
    assert "problems to fix" in answer["regions"]["results"] and "last valid version" not in answer["regions"]["results"]


def test_a_pasted_file_with_errors_shows_each_where_it_is(client: TestClient) -> None:
    text = (ROOT / "examples" / "errors" / "typo.yaml").read_text(encoding="utf-8")
    page = post(client, "/page/open", [("text", text), ("filename", "typo.yaml")])
    assert page.status_code == 200
    listed = re.findall(r'<li data-open-problem="([^"]+)">([^<]+)</li>', page.text)
    assert [code for code, _ in listed] == ["unknown_field", "bad_value", "undeclared_country"]
    assert listed[0][1].startswith("typo.yaml:5:5: countries[0].labour_shortage")
    errors = {e["path"]: e["message"] for e in page_data(page.text)["annotations"]["errors"]}
    assert errors["countries.CN.food_insecurity"].startswith("'awful' is not allowed")
    assert '<option value="awful" selected>awful (not allowed)</option>' in page.text


def test_every_string_of_the_input_is_escaped_and_made_visible(client: TestClient) -> None:
    data = example_document("north-koreans-in-china").data
    data = {**data, "title": "<script>alert(1)</script>", "flows": [{**data["flows"][0], "name": "North Koreans \u202ein China"}]}
    page = post(client, "/page/open", [("text", json.dumps(data))])
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "\u202e" not in page.text.replace('value="North Koreans \u202ein China"', "")  # only the form's value keeps it, so that it posts back unchanged
    assert "North Koreans \\u202ein China" in page.text


def test_the_link_holds_the_state_and_a_bad_one_says_so(client: TestClient) -> None:
    page = client.get("/?example=syrians-in-turkey")
    link = page_data(page.text)["url"]
    again = client.get(link)
    assert rules_in(again.text) == rules_in(page.text)
    for bad in ("not-a-token", "AAAA", base64.urlsafe_b64encode(zlib.compress(b"[1, 2]")).decode()):
        shown = client.get(f"/?s={bad}")
        assert shown.status_code == 200 and 'data-open-problem="bad_state"' in shown.text
    bomb = base64.urlsafe_b64encode(zlib.compress(b"{" + b" " * 20_000_000 + b"}")).decode()
    assert 'data-open-problem="bad_state"' in client.get(f"/?s={bomb}").text


def test_downloads_are_the_scenario_and_the_reports(client: TestClient, engine: Engine) -> None:
    token = page_data(client.get("/?example=north-koreans-in-china").text)["token"]
    data = example_document("north-koreans-in-china").data
    report = engine.evaluate(load_scenario(data))
    scenario = post(client, "/page/download/scenario.yaml", [("s", token)])
    assert scenario.headers["content-disposition"].startswith('attachment; filename="north-koreans-in-china.yaml"')
    assert _sorted_lists(yaml.safe_load(scenario.text)) == _sorted_lists(data)
    assert post(client, "/page/download/report.md", [("s", token)]).text == render_markdown([report])
    assert post(client, "/page/download/report.html", [("s", token)]).text == render_html([report])
    assert post(client, "/page/download/report.json", [("s", token)]).text == report.to_json()
    assert post(client, "/page/download/report.pdf", [("s", token)]).status_code == 422


def test_the_page_loads_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/?example=northeast-asia")
    urls = re.findall(r"""(?<![\w-])(?:src|href|action)=["']([^"']+)["']""", page.text)
    assert urls and all(url.startswith(("/", "#", "data:")) for url in urls), urls
    for url in ("/page/static/page.js", "/page/static/page.css"):
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.text) > 1000
        assert "http://" not in asset.text and "https://" not in asset.text
    assert client.get("/page/static/../routes.py").status_code == 404


def test_entries_are_added_and_removed(client: TestClient) -> None:
    pairs = pairs_of(example_document("north-koreans-in-china").data)
    added = post(client, "/page/update", [*pairs, ("_action", "add:flows")]).json()
    assert 'name="flows.flow-1.legal_status"' in added["regions"]["form"] and added["annotations"]["errors"] == []
    removed = post(client, "/page/update", [*pairs, ("_action", "remove:relations.CN-KP")]).json()
    assert "relations.CN-KP" not in removed["regions"]["form"]
    rows = post(client, "/page/update", [*pairs, ("_action", "add-row:flows.kp-to-cn.estimates")]).json()
    assert 'name="flows.kp-to-cn.estimates.2.low"' in rows["regions"]["form"]
    assert {e["path"] for e in rows["annotations"]["errors"]} == {"flows.kp-to-cn.estimates.2.low", "flows.kp-to-cn.estimates.2.high", "flows.kp-to-cn.estimates.2.kind"}


def test_guided_mode_asks_greys_out_and_records_answers(client: TestClient) -> None:
    pairs = pairs_of(example_document("north-koreans-in-china").data)
    start = post(client, "/page/update", [*pairs, ("_action", "clear-facts"), ("_mode", "guided")]).json()
    guide = start["regions"]["guide"]
    question = re.search(r'data-question="([^"]+)" data-kind="([^"]+)"', guide)
    assert question and "Why am I asked this?" in guide
    field = question.group(1)
    assert start["annotations"]["asking"] == field
    structure = [(k, v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', start["regions"]["form"]) if k.endswith((".code", ".name", ".id"))]
    assert structure
    unknown = post(client, "/page/update", [*pairs_of(load_scenario_data(start)), ("_mode", "guided"), ("_action", "dont-know"), ("_question", field)]).json()
    assert field in unknown["annotations"]["unknown"]
    assert unknown["annotations"]["asking"] != field
    assert "flows.kp-to-cn.kinds" in unknown["annotations"]["irrelevant"]  # no rule reads it: it never matters


def load_scenario_data(answer: dict[str, Any]) -> dict[str, Any]:
    packed = answer["token"]
    return json.loads(zlib.decompress(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))))["scenario"]  # type: ignore[no-any-return]


def test_with_an_api_key_the_page_asks_for_it_too(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("secret\n")
    with TestClient(create_app(Settings(api_key_file=str(keys)), pages=default_pages())) as keyed:
        assert keyed.get("/").status_code == 401
        assert keyed.get("/", headers={"X-API-Key": "secret"}).status_code == 200
