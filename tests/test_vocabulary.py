"""Words for situations beyond the article: refugees, temporary protection, pending asylum, parties, fictional countries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nea_policy.api import Engine
from nea_policy.cli import main
from nea_policy.errors import ScenarioError
from nea_policy.model.facts import FlowKind, LegalStatus, load_scenario, parse_scenario_text
from nea_policy.model.iso_countries import ISO_ALPHA2, USER_ASSIGNED
from nea_policy.render.text import render_text

SYRIANS = """\
title: Syrian refugees in Turkey
countries:
  - {code: SY, name: Syria}
  - {code: TR, name: Turkey}
parties:
  - {code: EU, name: the European Union, kind: supranational}
relations:
  - {between: [SY, TR], proximity: true}
  - {between: [EU, TR], diplomatic_tension: moderate}
agreements:
  - {id: eu-turkey-statement, between: [EU, TR], kind: migration-partnership}
flows:
  - id: sy-to-tr
    name: Syrian refugees in Turkey
    origin: SY
    destination: TR
    kinds: [refugees]
    legal_status: temporary-protection
"""

# A rule that addresses both sides of a relation whatever they are: with the EU as one side, the EU is addressed.
TALKS_PACK = """\
rules:
  - id: talks
    kind: recommendation
    title: Talk to each other
    subject: relation
    facts: {relation: relation}
    when: [relation.diplomatic_tension >= moderate]
    actors: [relation.a, relation.b]
    justification: Tension runs {relation.diplomatic_tension} between {relation.name}.
    source: {section: Test, quote: talk}
"""


def problems_of(text: str) -> list[tuple[str, str, str]]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario_text(text, "facts.yaml")
    return [(p.code, p.location, p.message + (f" ({p.hint})" if p.hint else "")) for p in caught.value.problems]


def test_the_new_values_are_in_the_model() -> None:
    assert "refugees" in {k.value for k in FlowKind}
    assert {"temporary-protection", "pending-asylum"} <= {s.value for s in LegalStatus}
    scenario = parse_scenario_text(SYRIANS, "syrians.yaml")
    assert scenario.flows[0].legal_status is LegalStatus.temporary_protection
    assert [p.code for p in scenario.parties] == ["EU"]


def test_user_assigned_codes_name_fictional_countries() -> None:
    assert not USER_ASSIGNED & ISO_ALPHA2
    assert {"AA", "QM", "QZ", "XA", "XK", "XZ", "ZZ"} <= USER_ASSIGNED and not {"QL", "ZY", "AB"} & USER_ASSIGNED
    text = "countries:\n  - {code: XA, name: Country A}\n  - {code: XB, name: Country B}\nflows:\n  - {id: a-to-b, name: workers from Country A in Country B, origin: XA, destination: XB}\n"
    assert [c.code for c in parse_scenario_text(text, "ab.yaml").countries] == ["XA", "XB"]


def test_a_user_assigned_code_needs_a_real_name() -> None:
    [(code, location, message)] = problems_of("countries:\n  - {code: XA, name: ' '}\n")
    assert code == "bad_value" and location == "facts.yaml:2:5"
    assert "XA is a user-assigned code" in message and "give the country a name" in message


def test_codes_that_are_no_country_say_what_to_use_instead() -> None:
    [(code, _, message)] = problems_of("countries:\n  - {code: EU, name: the European Union}\n")
    assert code == "bad_value"
    assert "'EU' is not an ISO 3166-1 alpha-2 country code" in message
    assert "user-assigned code (AA, QM-QZ, XA-XZ or ZZ)" in message and "declared under parties" in message


def test_a_party_is_a_side_of_relations_and_agreements_but_no_flow_goes_to_it() -> None:
    text = SYRIANS.replace("destination: TR", "destination: EU")
    [(code, location, message)] = problems_of(text)
    assert code == "party_not_a_country" and location == "facts.yaml:16:5"
    assert "flows[0].destination: flow 'sy-to-tr': destination 'EU' is a party, not a country" in message


def test_party_codes_are_their_own() -> None:
    problems = problems_of(SYRIANS.replace("{code: EU, name: the European Union", "{code: TR, name: Turkey again"))
    # the field error only (no second error for the same code), then what no longer has its party
    assert [p[0] for p in problems] == ["bad_value", "undeclared_country", "undeclared_country"]
    assert "'TR' is a country code; a party takes a code of its own" in problems[0][2]
    problems = problems_of(SYRIANS.replace("parties:\n", "parties:\n  - {code: EU, name: the EU}\n"))
    assert [p[0] for p in problems] == ["duplicate_party"]


def test_an_undeclared_side_is_named_with_what_is_declared() -> None:
    [(code, _, message)] = problems_of(SYRIANS.replace("between: [EU, TR], diplomatic", "between: [EV, TR], diplomatic"))
    assert code == "undeclared_country"
    assert "relation: side 'EV' is not a declared country or party; declared: EU, SY, TR (declare it under countries or parties)" in message


def test_no_bundled_rule_addresses_a_party(engine: Engine) -> None:
    # Every bundled rule that reads a relation joins it to a flow's two countries, and a flow never goes to a party.
    data = load_scenario(parse_scenario_text(SYRIANS, "s.yaml").model_dump(mode="json"))
    report = engine.evaluate(data)
    assert report.scenario.parties == {"EU": "the European Union"}
    assert not [r for r in report.recommendations if "EU" in r.actors]


def test_a_rule_addressing_both_sides_of_a_relation_with_a_party_addresses_the_party(tmp_path: Path) -> None:
    (tmp_path / "talks.yaml").write_text(TALKS_PACK, encoding="utf-8")
    engine = Engine(extra_rules=[tmp_path])
    report = engine.evaluate(parse_scenario_text(SYRIANS, "s.yaml"))
    [talks] = [r for r in report.recommendations if r.rule == "talks"]
    assert talks.actors == ["EU", "TR"] and talks.subject.key == "EU-TR"
    assert talks.subject.name == "the European Union and Turkey"
    text = render_text(report, actor="EU")
    assert "Recommendations to the European Union (EU)" in text
    assert "Tension runs moderate between the European Union and Turkey." in text


def test_the_cli_takes_party_codes(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SYRIANS, encoding="utf-8")
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "talks.yaml").write_text(TALKS_PACK, encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "s.yaml"), "--extra-rules", str(tmp_path / "pack"), "--actor", "eu", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert "- **Parties:** the European Union (EU)" in result.stdout and "### To the European Union (EU)" in result.stdout
    result = CliRunner().invoke(main, ["what-if", str(tmp_path / "s.yaml"), "--set", "relations.TR-EU.diplomatic_tension=high", "--set", "parties.EU.name=the EU"])
    assert result.exit_code == 0, result.output
    assert "relations.EU-TR.diplomatic_tension: moderate -> high" in result.stdout and "parties.EU.name: the European Union -> the EU" in result.stdout


# --- what no rule reads -------------------------------------------------------------------------------------


def test_check_notes_the_facts_no_rule_reads_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SYRIANS, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0, result.output
    ok, note = result.stdout.splitlines()
    assert ok == f"ok: {path} (2 countries, 1 party, 0 regions, 2 relations, 1 agreement, 1 flow)"
    assert note == f"note: {path}: no rule reads these facts, so they change no result: parties[0].kind (line 6), flows[0].kinds (line 17)"
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    [entry] = json.loads(result.stdout)
    assert [(u["path"], u["location"]) for u in entry["unread"]] == [("parties[0].kind", f"{path}:6:42"), ("flows[0].kinds", f"{path}:17:5")]


def test_a_pack_that_reads_a_field_takes_it_off_the_note(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "kinds.yaml").write_text(
        TALKS_PACK.replace("id: talks", "id: refugee-kinds").replace("subject: relation\n    facts: {relation: relation}", "subject: flow\n    facts: {flow: flow}")
        .replace("when: [relation.diplomatic_tension >= moderate]", "when: [flow.kinds contains refugees]")
        .replace("actors: [relation.a, relation.b]", "actors: [flow.destination]")
        .replace("Tension runs {relation.diplomatic_tension} between {relation.name}.", "'{flow.name} are refugees.'"),
        encoding="utf-8",
    )
    (tmp_path / "s.yaml").write_text(SYRIANS, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "s.yaml"), "--extra-rules", str(tmp_path / "pack")])
    assert result.exit_code == 0, result.output
    assert "parties[0].kind" in result.stdout and "flows[0].kinds" not in result.stdout


def test_the_template_marks_every_field_no_rule_reads_and_only_those(engine: Engine) -> None:
    from nea_policy.authoring.template import UNREAD_MARK, scenario_template, template_fields
    from nea_policy.language.reads import STRUCTURE, ruleset_reads
    from nea_policy.model.paths import COLLECTIONS, MODELS

    text = scenario_template()
    lines = text.splitlines()
    fields = template_fields(text)
    # every field of every part of a fact file is in the template
    assert {(c, f) for c, m in MODELS.items() for f in m.model_fields} == {(c, f) for _, c, f in fields}
    reads = ruleset_reads(engine.ruleset)
    for index, collection, field in fields:
        unread = field not in STRUCTURE and (COLLECTIONS[collection], field) not in reads
        assert (UNREAD_MARK in lines[index]) is unread, lines[index]
    assert any("kinds:" in line and UNREAD_MARK in line for line in lines)


def test_rules_show_lists_the_facts_a_rule_reads() -> None:
    result = CliRunner().invoke(main, ["rules", "show", "cooperative-migration-and-trade-regime"])
    assert result.exit_code == 0
    reads = result.stdout.split("Reads (fact file fields):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert reads == [
        "  flow (flow): origin, destination, id, name",
        "  relation (relation): between, proximity, name",
        "  agreement (absent agreement): between, kind",
    ]
