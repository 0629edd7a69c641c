"""Prose that reads right: golden reports of every example, and every justification with flow names of several shapes.

The golden files are the reviewed wording. After an intended change of templates or layout, refresh them with
`NEA_UPDATE_GOLDEN=1 pytest tests/test_prose.py` and read the diff.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from nea_policy.api import make_engine
from nea_policy.engine.engine import Engine
from nea_policy.model.display import NOT_SET
from nea_policy.model.report import Report
from nea_policy.render.text import render_text

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
# Flow names of the shapes students write: nationality + kind + place, kind + "from" + place + "in" + place.
NAMES = ("Syrian refugees in Turkey", "Chinese labor migrants in Japan", "Workers from Country A in Country B", "workers from Country A in Country B")


def _golden(path: Path, actual: str) -> None:
    if os.environ.get("NEA_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing; write it with NEA_UPDATE_GOLDEN=1 pytest tests/test_prose.py and review it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.name} differs from the report; if the change is intended, refresh with NEA_UPDATE_GOLDEN=1 and review the diff"


def _normal(text: str) -> str:
    # The digest changes with every edit of a rule file.
    return re.sub(r"sha256:[0-9a-f]{16}", "sha256:<digest>", text)


def _sentences_problems(text: str, names: list[str]) -> list[str]:
    """What does not read right in one justification."""
    problems = []
    if not text[:1].isupper():
        problems.append("does not start with a capital letter")
    if not text.endswith("."):
        problems.append("does not end with a full stop")
    for bad in ("{", "}", "  ", " ,", " .", "People in ", "Many in ", NOT_SET, "unknown", "None"):
        if bad in text:
            problems.append(f"holds {bad!r}")
    if re.search(r"[.!?] [a-z]", text):
        problems.append("a sentence starts in lower case")
    for name in names:
        if name.lower() not in text.lower():
            problems.append(f"lost the name {name!r}")
    return problems


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_report_is_golden(engine: Engine, path: Path) -> None:
    report = engine.evaluate(path)
    _golden(GOLDEN / "reports" / f"{path.stem}.txt", _normal(render_text(report)))


def _renamed(data: dict[str, Any], name: str) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for flow in data.get("flows", []):
        flow["name"] = name
    return data


def _justifications(report: Report) -> list[tuple[str, str]]:
    return [(node.rule, node.justification) for node in report.findings] + [(rec.rule, rec.justification) for rec in report.recommendations]


def test_every_justification_reads_right_with_names_of_several_shapes() -> None:
    # The example pack's rule too: its template is prose like the bundled ones.
    engine = make_engine(extra_rules=[ROOT / "examples" / "packs" / "trafficking-protocol"])
    examples = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in EXAMPLES]
    lines: list[str] = []
    problems: list[str] = []
    for name in NAMES:
        shown: dict[str, str] = {}
        for data in examples:
            for rule, text in _justifications(engine.evaluate(_renamed(data, name))):
                shown.setdefault(rule, text)
                problems += [f"{rule} with {name!r}: {p}: {text}" for p in _sentences_problems(text, [name] if "{flow.name}" in engine.ruleset.by_id(rule).justification else [])]
        missing = sorted({r.id for r in engine.rules} - set(shown))
        assert not missing, f"no example fires {missing}; the golden names file would not cover their templates"
        lines.append(f"## {name}")
        lines += [f"{rule}: {shown[rule]}" for rule in sorted(shown)]
        lines.append("")
    assert not problems, "\n".join(problems)
    _golden(GOLDEN / "justifications-by-flow-name.txt", "\n".join(lines))


def test_a_name_opening_a_sentence_is_capitalised_and_elsewhere_left_as_written(engine: Engine) -> None:
    data = _renamed(yaml.safe_load((ROOT / "examples" / "country-a-and-country-b.yaml").read_text(encoding="utf-8")), "workers from Country A in Country B")
    report = engine.evaluate(data)
    texts = dict(_justifications(report))
    assert texts["exploitative-recruitment"].startswith("Workers from Country A in Country B are deceived")
    assert "Many among workers from Country A in Country B end up" in texts["irregular-labor"]
    # the subject keeps the name as written
    assert {f.subject.name for f in report.findings if f.subject.type == "flow"} == {"workers from Country A in Country B"}


def test_code_fields_in_prose_read_as_names(engine: Engine) -> None:
    report = engine.evaluate(ROOT / "examples" / "chinese-in-the-russian-far-east.yaml")
    texts = dict(_justifications(report))
    assert "next to China, a rising power" in texts["host-region-vulnerability"]
    labor = engine.evaluate(ROOT / "examples" / "chinese-labor-migrants-in-japan-and-korea.yaml")
    assert any("between China and Japan." in text for rule, text in _justifications(labor) if rule == "bilateral-labor-migration-regime")


def test_evidence_shows_what_the_rule_read(engine: Engine) -> None:
    report = engine.evaluate(ROOT / "examples" / "syrians-in-turkey.yaml")
    # human-security-challenge's any: spans the flow and its origin: compiled into one rule per branch, and the
    # evidence is that of the branch that fired (persecution on return), not every branch's fields.
    [human] = [f for f in report.findings if f.finding == "human-security-challenge"]
    flow_values = next(e.values for e in human.evidence if e.fact == "flow")
    assert flow_values == {"origin": "SY", "persecution_risk_on_return": "high"}
    assert next(e.values for e in human.evidence if e.fact == "country") == {"code": "SY"}
    # exploitative-recruitment's any: reads the flow alone; of its branches, the fields not set did not apply
    [recruitment] = [f for f in report.findings if f.finding == "exploitative-recruitment"]
    assert recruitment.evidence[0].values == {"employer_exploitation": "moderate"}


def test_unset_values_read_not_set_everywhere(engine: Engine) -> None:
    from nea_policy.language.rule_docs import describe_rule
    from nea_policy.model.display import display_value

    assert display_value(None) == NOT_SET == "not set"
    doc = describe_rule(engine.ruleset, "legal-status-limbo")
    assert "unknown" not in str(doc)
