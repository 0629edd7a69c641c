"""Loading rules reports every error at once, each with file:line, rule id and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nea_policy.errors import RuleError
from nea_policy.language.rules import load_ruleset

GOOD = {
    "id": "good",
    "kind": "recommendation",
    "title": "Good",
    "subject": "flow",
    "facts": {"flow": "flow"},
    "when": ["flow.abuse >= high"],
    "actors": ["flow.destination"],
    "justification": "{flow.name} is abused ({flow.abuse}).",
    "source": {"section": "S", "quote": "q"},
}


def load_errors(tmp_path: Path, *rules: dict[str, Any]) -> list[tuple[str, str, str]]:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "bad.yaml").write_text(yaml.safe_dump({"rules": list(rules)}, sort_keys=False), encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_ruleset([folder])
    return [(p.code, p.location, p.message) for p in caught.value.problems]


def variant(**changes: Any) -> dict[str, Any]:
    rule = {**GOOD, **changes}
    return {k: v for k, v in rule.items() if v is not None}


def test_unknown_fact_field_with_suggestion(tmp_path: Path) -> None:
    [(code, location, message)] = load_errors(tmp_path, variant(when=["flow.abuses >= high"]))
    assert code == "unknown_field"
    assert location.endswith("bad.yaml:2")
    assert "rule good" in message and "'abuses'" in message


def test_unknown_finding_referenced(tmp_path: Path) -> None:
    rule = variant(facts={"flow": "flow", "f": "finding:no-such-finding"}, when=["f.subject == flow.key"])
    [(code, _, message)] = load_errors(tmp_path, rule)
    assert code == "unknown_finding" and "no-such-finding" in message


def test_duplicate_id_names_both_places(tmp_path: Path) -> None:
    problems = load_errors(tmp_path, variant(), variant())
    assert [p[0] for p in problems] == ["duplicate_rule_id"]
    second_line = 2 + len(yaml.safe_dump([GOOD], sort_keys=False).splitlines())
    assert "bad.yaml:2" in problems[0][2] and problems[0][1].endswith(f"bad.yaml:{second_line}")


def test_missing_quote(tmp_path: Path) -> None:
    [(code, _, message)] = load_errors(tmp_path, variant(source={"section": "S"}))
    assert code == "missing_quote" and "rule good" in message


def test_empty_quote(tmp_path: Path) -> None:
    [(code, _, _)] = load_errors(tmp_path, variant(source={"section": "S", "quote": "  "}))
    assert code == "missing_quote"


def test_level_out_of_range_and_wrong_enum(tmp_path: Path) -> None:
    problems = load_errors(tmp_path, variant(when=["flow.abuse >= hgh", "flow.legal_status == unclaer"]))
    assert [p[0] for p in problems] == ["bad_value", "bad_value"]
    assert "levels: none, low, moderate, high, severe" in problems[0][2]
    assert "did you mean 'unclear'" in problems[1][2]


def test_a_rule_may_not_name_a_country(tmp_path: Path) -> None:
    [(code, _, _)] = load_errors(tmp_path, variant(when=["flow.origin == CN"]))
    assert code == "names_a_country"


def test_condition_syntax(tmp_path: Path) -> None:
    [(code, _, message)] = load_errors(tmp_path, variant(when=["flow.abuse high"]))
    assert code == "condition_syntax" and "no operator" in message


def test_template_naming_an_unmatched_alias(tmp_path: Path) -> None:
    [(code, _, _)] = load_errors(tmp_path, variant(justification="{host.name} is to blame"))
    assert code == "template_field"


def test_unknown_rule_key_suggests(tmp_path: Path) -> None:
    rule = variant()
    rule["whne"] = rule.pop("when")
    [(code, _, _), *_] = load_errors(tmp_path, rule)
    assert code == "unknown_rule_key"


def test_all_errors_at_once_across_rules(tmp_path: Path) -> None:
    problems = load_errors(
        tmp_path,
        variant(id="one", when=["flow.nope == 1"]),
        variant(id="two", source={"section": "S"}),
        variant(id="three", facts={"flow": "flw"}),
    )
    assert [p[0] for p in problems] == ["missing_quote", "unknown_field", "unknown_fact_type"]
    assert all("bad.yaml:" in p[1] for p in problems)


def test_a_missing_rules_folder(tmp_path: Path) -> None:
    with pytest.raises(RuleError) as caught:
        load_ruleset([tmp_path / "nowhere"])
    assert caught.value.code == "rules_not_found"


def test_a_python_tag_in_a_rule_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "evil.yaml").write_text("rules:\n  - !!python/object/apply:os.system ['echo hacked']\n", encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_ruleset([folder])
    assert caught.value.code == "unsafe_tag"
    assert "evil.yaml:2" in caught.value.problems[0].location
