"""The student page in a real browser: Playwright driving Debian's Chromium against a real `nea-policy serve` on loopback.

Every test routes every request and fails on any that leaves 127.0.0.1, collects page errors and console errors and
fails on any, and saves a screenshot into test-artifacts/ (not committed). Waits are for states of the page
(`body[data-updated]` counts the updates the script has put in place), never for time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from live_server import Server, running

from nea_policy.analysis.interview import answers_from
from nea_policy.api import Engine, load_scenario

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# As root on these machines Chromium needs --no-sandbox; the rest keep it from calling the network at start.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """The plugin's launch arguments (its command-line options included) with Debian's Chromium and its flags."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": [*browser_type_launch_args.get("args", []), *FLAGS]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A desktop-sized window, downloads accepted."""
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}, "accept_downloads": True}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running() as live:
        yield live


@pytest.fixture()
def page(page: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The plugin's page, with every request kept on loopback and every JavaScript error collected; both asserted after the test."""
    outside: list[str] = []
    errors: list[str] = []

    def route(handle: Any) -> None:
        if urlparse(handle.request.url).hostname == "127.0.0.1":
            handle.continue_()
        else:
            outside.append(handle.request.url)
            handle.abort()

    page.context.route("**/*", route)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: errors.append(f"console {message.type}: {message.text}") if message.type == "error" else None)
    page.base = server.url
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=False)
    assert outside == [], f"requests left loopback: {outside}"
    assert errors == [], errors


def updates(page: Any) -> int:
    return int(page.evaluate("document.body.dataset.updated || '0'"))


def after_update(page: Any, seen: int) -> None:
    """Wait until the script has put in place an answer the page did not have yet."""
    page.wait_for_function(f"Number(document.body.dataset.updated) > {seen}")


def rules_shown(page: Any) -> list[str]:
    return list(dict.fromkeys(page.locator("#results [data-rule]").evaluate_all("els => els.map(e => e.dataset.rule)")))


def example(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_an_example_opens_with_its_recommendations(page: Any, engine: Engine) -> None:
    page.goto(f"{page.base}/?example=north-koreans-in-china")
    expected = engine.evaluate(load_scenario(example("north-koreans-in-china"))).recommendation_ids()
    expect(page.locator('#results [data-rule="semi-resident-status"]')).to_be_visible()
    assert rules_shown(page) == expected
    first = page.locator('#results [data-rule="semi-resident-status"]').first
    expect(first.locator("blockquote")).to_contain_text("North Korean Migration to China")
    first.locator("details.proof summary").click()
    expect(first.locator("details.proof [data-finding='legal-status-limbo']")).to_be_visible()
    assert "/?s=" in page.url  # the state is in the address at once


def test_a_change_of_legal_status_removes_semi_resident_status_and_the_link_keeps_it(page: Any) -> None:
    page.goto(f"{page.base}/?example=north-koreans-in-china")
    seen = updates(page)
    page.select_option('[name="flows.kp-to-cn.legal_status"]', "regular")
    after_update(page, seen)
    expect(page.locator('#results [data-rule="semi-resident-status"]')).to_have_count(0)
    expect(page.locator('#results [data-disappeared="semi-resident-status"]')).to_be_visible()
    expect(page.locator('#results [data-why-not="semi-resident-status"]')).to_be_visible()
    shared = page.url
    page.goto(shared)
    expect(page.locator('[name="flows.kp-to-cn.legal_status"]')).to_have_value("regular")
    assert rules_shown(page) == ["adopt-international-conventions"]


def test_why_not_then_apply_the_first_change_makes_it_hold(page: Any) -> None:
    page.goto(f"{page.base}/?example=russians-in-japan")
    expect(page.locator('#results [data-rule="semi-resident-status"]')).to_have_count(0)
    button = page.locator('[data-why-not="semi-resident-status"]')
    button.click()
    panel = page.locator("#why-not-semi-resident-status")
    expect(panel.locator(".cond.failed")).to_have_count(2)  # the finding it needs, and within it the legal status
    expect(panel.locator(".cond.missing")).to_contain_text("proof of work and shelter")
    expect(button).to_have_attribute("aria-expanded", "true")
    seen = updates(page)
    panel.locator("[data-apply-change]").first.click()
    after_update(page, seen)
    expect(page.locator('#results [data-rule="semi-resident-status"]')).to_be_visible()
    expect(page.locator('#results [data-rule="semi-resident-status"] .new-badge')).to_be_visible()
    expect(page.locator('[name="flows.ru-to-jp.legal_status"]')).to_have_value("unclear")
    expect(page.locator('[name="flows.ru-to-jp.has_work_and_shelter"][value="true"]')).to_be_checked()
    expect(page.locator("#changes-h")).to_be_focused()  # what the change did is read first
    expect(page.locator('#results [data-appeared="semi-resident-status"]')).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1200, "height": 760})
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("[data-path='flows.ru-to-jp']").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "readme.png"))


def test_validation_errors_appear_beside_their_fields_all_at_once(page: Any) -> None:
    page.goto(f"{page.base}/?example=north-koreans-in-china")
    seen = updates(page)
    page.fill('[name="countries.CN.code"]', "C1")
    page.keyboard.press("Tab")
    after_update(page, seen)
    code = page.locator('[data-path="countries.C1.code"]')
    expect(code.locator(".field-error")).to_contain_text("should match pattern")
    expect(page.locator('[name="countries.C1.code"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator('[data-path="flows.kp-to-cn.destination"] .field-error')).to_contain_text("not a declared country")
    expect(page.locator("#results .notice")).to_contain_text("last valid version")
    expect(page.locator('[name="countries.C1.name"]')).to_be_focused()  # focus follows the entry when the form is drawn again


def test_a_pasted_file_shows_its_problems_where_they_are_and_an_uploaded_one_opens(page: Any, engine: Engine) -> None:
    page.goto(f"{page.base}/")
    page.fill("#paste", (ROOT / "examples" / "errors" / "typo.yaml").read_text(encoding="utf-8"))
    page.click("text=Open the text")
    expect(page.locator("[data-open-problem]")).to_have_count(3)
    expect(page.locator('[data-path="countries.CN.food_insecurity"] .field-error')).to_contain_text("'awful' is not allowed")
    expect(page.locator("#upload")).to_be_visible()  # the open panel stays open while what was opened has problems
    with page.expect_navigation():
        page.set_input_files("#upload", str(ROOT / "examples" / "chinese-in-the-russian-far-east.yaml"))
    expected = engine.evaluate(load_scenario(example("chinese-in-the-russian-far-east"))).recommendation_ids()
    expect(page.locator("#results [data-rule]").first).to_be_visible()
    assert rules_shown(page) == expected
    page.goto(f"{page.base}/")
    with page.expect_navigation():
        page.click("text=Start from the template")
    expect(page.locator('[name="flows.cn-to-jp.legal_status"]')).to_have_value("mixed")


def test_downloads_are_the_scenario_and_its_reports(page: Any, engine: Engine, tmp_path: Path) -> None:
    page.goto(f"{page.base}/?example=syrians-in-turkey")
    report = engine.evaluate(load_scenario(example("syrians-in-turkey")))
    got = {}
    for kind in ("scenario.yaml", "report.md", "report.html", "report.json"):
        with page.expect_download() as info:
            page.click(f'[data-download="{kind}"]')
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        got[kind] = path.read_text(encoding="utf-8")
        assert info.value.suggested_filename.startswith("syrian-refugees-in-turkey")
    assert engine.evaluate(load_scenario(yaml.safe_load(got["scenario.yaml"]))).to_json() == report.to_json()
    assert got["report.json"] == report.to_json()
    assert got["report.md"].startswith("# Syrian refugees in Turkey") and "<!DOCTYPE html>" in got["report.html"]


def test_a_sweep_draws_the_grid(page: Any, engine: Engine) -> None:
    page.goto(f"{page.base}/?example=north-koreans-in-china")
    page.click("#sweep-panel summary")
    page.select_option("#sweep-path-1", "flows.kp-to-cn.legal_status")
    expect(page.locator("#sweep-values-1")).to_have_value("regular,irregular,unclear,mixed,temporary-protection,pending-asylum")
    page.fill("#sweep-values-1", "regular,unclear")
    page.select_option("#sweep-path-2", "flows.kp-to-cn.fear_of_exposure")
    page.fill("#sweep-values-2", "moderate,high")
    page.click("text=Draw the grid")
    grid = page.locator("[data-sweep-grid]")
    expect(grid.locator("td.cell")).to_have_count(4)
    result = engine.sweep(load_scenario(example("north-koreans-in-china")), {"flows.kp-to-cn.legal_status": ["regular", "unclear"], "flows.kp-to-cn.fear_of_exposure": ["moderate", "high"]})
    cells = grid.locator("td.cell").evaluate_all("cells => cells.map(c => Array.from(c.querySelectorAll('[data-holds]')).map(li => li.dataset.holds))")
    assert cells == [sorted(p.holds, key=list(p.holds).index) for p in result.points]


def _answer(page: Any, kind: str, value: Any) -> None:
    form = page.locator("#guide-form")
    if kind in ("level", "enum", "code", "bool"):
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        form.locator(f'input[name="answer"][value="{text}"]').check()
    elif kind == "list[enum]":
        for item in value:
            form.locator(f'input[name="answer"][value="{item}"]').check()
    elif kind == "list[text]":
        form.locator('textarea[name="answer"]').fill("\n".join(value))
    else:  # rows of estimates or labels: a kind is chosen, the rest typed
        for i, item in enumerate(value):
            for column, cell in item.items():
                control = form.locator(f'[name="answer.{i}.{column}"]')
                control.select_option(cell) if column == "kind" else control.fill(str(cell))
    form.locator('[data-guide="answer"]').click()


def test_guided_mode_asks_one_question_at_a_time_and_ends_with_the_recommendations_of_evaluate(page: Any, engine: Engine) -> None:
    facts = example("north-koreans-in-china")
    page.goto(f"{page.base}/?example=north-koreans-in-china")
    seen = updates(page)
    page.click('.modes [data-action="mode:guided"]')
    after_update(page, seen)
    seen = updates(page)
    page.click('[data-action="clear-facts"]')
    after_update(page, seen)
    expect(page.locator('[name="flows.kp-to-cn.legal_status"]')).to_have_value("")  # facts cleared, structure kept
    expect(page.locator('[data-path="flows.kp-to-cn.kinds"]')).to_have_class(re.compile(r"\birrelevant\b"))  # no rule reads it
    answers = answers_from(load_scenario(facts))
    asked: list[str] = []
    dont_know = 0
    while not page.locator("[data-decided]").is_visible():
        assert len(asked) < 60, asked
        form = page.locator("#guide-form")
        field, kind = form.get_attribute("data-question"), form.get_attribute("data-kind")
        assert field not in asked, f"{field} asked twice"
        if not asked:
            form.locator("details.why-asked summary").click()
            expect(form.locator("details.why-asked")).to_contain_text("asked because")
            expect(form.locator("[data-waiting]").first).to_be_visible()
            expect(page.locator(f'[data-path="{field}"]')).to_have_class(re.compile(r"\basking\b"))
        asked.append(field)
        value = answers(SimpleNamespace(field=field), None)
        seen = updates(page)
        if value is None:
            page.click('[data-guide="dont-know"]')
            dont_know += 1
        else:
            _answer(page, kind, value)
        after_update(page, seen)
        expect(page.locator("#guide-h")).to_be_visible()
        if value is None:
            expect(page.locator(f'[data-path="{field}"]')).to_have_class(re.compile(r"\bunknown\b"))
    assert dont_know > 0
    assert page.locator(".field.irrelevant").count() > 0
    report = engine.evaluate(load_scenario(facts))
    shown = page.locator("#results [data-rule]").evaluate_all("els => els.map(e => [e.dataset.rule, e.dataset.subject])")
    assert sorted(set(map(tuple, shown))) == sorted({(r.rule, r.subject.key) for r in report.recommendations})
    actors = {(r.rule, code) for r in report.recommendations for code in r.actors}
    groups = page.locator("#results section.actor").evaluate_all(
        "secs => secs.flatMap(s => Array.from(s.querySelectorAll('[data-rule]')).map(r => [r.dataset.rule, s.querySelector('h4').textContent.match(/\\(([A-Z0-9]+)\\)$/)[1]]))"
    )
    assert set(map(tuple, groups)) == actors
    assert len(asked) == 16  # as `nea-policy interview --answers examples/north-koreans-in-china.yaml` asks (README)


def _tab_to(page: Any, selector: str, limit: int = 600) -> None:
    """Press Tab until the focused element matches the selector (keyboard only: no click, no focus() call)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("sel => document.activeElement && document.activeElement.matches(sel)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _focus_is_visible(page: Any) -> bool:
    return bool(page.evaluate("() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"))


def test_the_main_flow_works_with_the_keyboard_alone(page: Any) -> None:
    page.goto(f"{page.base}/")
    _tab_to(page, "#example")
    assert _focus_is_visible(page)
    page.keyboard.type("Russians")
    _tab_to(page, ".open-example button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator('#results [data-rule="citizen-exchanges"]').first).to_be_visible()
    _tab_to(page, '[name="flows.ru-to-jp.legal_status"]')
    assert _focus_is_visible(page)
    seen = updates(page)
    page.keyboard.type("unclear")
    after_update(page, seen)
    _tab_to(page, '[name="flows.ru-to-jp.has_work_and_shelter"]')
    seen = updates(page)
    page.keyboard.press("ArrowLeft")  # from "not set" to "no"
    after_update(page, seen)
    seen = updates(page)
    page.keyboard.press("ArrowLeft")  # and to "yes"
    after_update(page, seen)
    expect(page.locator('[name="flows.ru-to-jp.has_work_and_shelter"][value="true"]')).to_be_checked()
    expect(page.locator('#results [data-rule="semi-resident-status"]')).to_be_visible()
    _tab_to(page, '[data-why-not="identify-refugees"]')
    assert _focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("#why-not-identify-refugees .cond").first).to_be_visible()


def _contrast(page: Any, selector: str) -> float:
    return float(
        page.evaluate(
            """sel => {
      const el = document.querySelector(sel);
      const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
      const lum = c => { const v = rgb(c).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); }); return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
      let bg = 'rgb(255, 255, 255)';
      for (let n = el; n; n = n.parentElement) { const b = getComputedStyle(n).backgroundColor; if (b && !b.startsWith('rgba(0, 0, 0, 0)')) { bg = b; break; } }
      const a = lum(getComputedStyle(el).color), b = lum(bg);
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }""",
            selector,
        )
    )


def test_it_reads_on_a_phone_with_labels_and_contrast(page: Any) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{page.base}/?example=north-koreans-in-china")
    expect(page.locator('#results [data-rule="semi-resident-status"]')).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    unlabeled = page.evaluate(
        """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')).filter(c =>
             !(c.labels && c.labels.length) && !c.getAttribute('aria-label')).map(c => c.name || c.id)"""
    )
    assert unlabeled == []
    for selector in ("body", ".hint", ".unread-badge", "button", ".rec .meta", ".entry-kind", "blockquote.quote footer", ".tagline"):
        assert _contrast(page, selector) >= 4.5, selector
