"""The student page: how long a re-evaluation takes after one edit, over HTTP and in a real browser.

The server is the installed `nea-policy serve` on loopback (1 worker, access log off). Over HTTP: POST /page/update
with the form of an example and one fact changed (the page's own request: read the form, validate, evaluate,
compare with the last edit, render the results), on one keep-alive connection. In the browser (Playwright with
Debian's Chromium, when there): from the change event of `flows.*.legal_status` to the results in place (the
script's request, the server, the swap of the HTML and the marks on the form), measured in the page with
performance.now(). Each figure is a median over the rounds, with the 90th percentile.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from service_bench import serving

ROOT = Path(__file__).resolve().parent.parent
#: Example, and the flow whose legal status is switched back and forth.
CASES = (("north-koreans-in-china", "kp-to-cn"), ("northeast-asia", "kp-to-cn"))
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered), 2), "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2), "samples": len(ordered)}


def _http(port: int, rounds: int) -> dict[str, Any]:
    from nea_policy.api import fields_read, json_schema, make_engine
    from nea_policy.web.fields import form_fields
    from nea_policy.web.form import form_pairs
    from nea_policy.web.sources import example_document

    engine = make_engine()
    fields = form_fields(json_schema("facts"), fields_read(engine))
    out: dict[str, Any] = {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for name, flow in CASES:
        pairs = form_pairs(example_document(name).data, fields)
        field = f"flows.{flow}.legal_status"
        bodies = [urlencode([(k, value if k == field else v) for k, v in pairs]).encode() for value in ("regular", "unclear")]
        samples = []
        for i in range(rounds):
            start = time.perf_counter()
            connection.request("POST", "/page/update", body=bodies[i % 2], headers={"Content-Type": "application/x-www-form-urlencoded"})
            answer = connection.getresponse().read()
            samples.append((time.perf_counter() - start) * 1e3)
        out[name] = {**_summary(samples[3:]), "answer_kb": round(len(answer) / 1024, 1), "form_fields": len(pairs)}
    connection.close()
    return out


_IN_PAGE = """async ([field, value]) => {
  const seen = Number(document.body.dataset.updated);
  const select = document.querySelector(`[name="${field}"]`);
  const start = performance.now();
  select.value = value;
  select.dispatchEvent(new Event("change", {bubbles: true}));
  while (Number(document.body.dataset.updated) === seen) { await new Promise(r => requestAnimationFrame(r)); }
  return performance.now() - start;
}"""


def _browser(port: int, rounds: int) -> dict[str, Any]:
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} is not installed"}
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        for name, flow in CASES:
            page.goto(f"http://127.0.0.1:{port}/?example={name}")
            samples = [page.evaluate(_IN_PAGE, [f"flows.{flow}.legal_status", ("regular", "unclear")[i % 2]]) for i in range(rounds)]
            out[name] = _summary(samples[3:])
        browser.close()
    return out


def measure_page(quick: bool) -> dict[str, Any]:
    """Re-evaluation after one edit: over HTTP (the page's request) and in Chromium (change to results in place)."""
    rounds = 30 if quick else 200
    with serving(1) as (port, _pid):
        return {"http": _http(port, rounds), "browser": _browser(port, max(10, rounds // 4))}


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Table rows of the page's figures."""
    found = []
    for name, entry in result["http"].items():
        found.append((f"page update over HTTP, {name}", f"p50 {entry['p50_ms']:.1f} ms, p90 {entry['p90_ms']:.1f} ms ({entry['form_fields']} fields set, {entry['answer_kb']} KB answer)", ""))
    for name, entry in result["browser"].items():
        if isinstance(entry, dict):
            found.append((f"page update in Chromium, {name}", f"p50 {entry['p50_ms']:.1f} ms, p90 {entry['p90_ms']:.1f} ms (change to results in place)", ""))
        else:
            found.append(("page update in Chromium", str(entry), ""))
    return found


if __name__ == "__main__":
    print(json.dumps(measure_page(quick=True), indent=2))
