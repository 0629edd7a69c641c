"""`nea-policy interview`: every example replayed ends where evaluate does, the terminal asks the structure then the facts, typed answers read right."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from interview_sampling import findings, recommendations

from nea_policy.analysis.answerable import field_index
from nea_policy.analysis.interview import answers_from, facts_stated, run_interview, structure_of
from nea_policy.cli import main
from nea_policy.engine.engine import Engine
from nea_policy.errors import InputError
from nea_policy.model.facts import load_scenario

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
NK = ROOT / "examples" / "north-koreans-in-china.yaml"
RU_JP = ROOT / "examples" / "russians-in-japan.yaml"


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input, env={"COLUMNS": None, "NO_COLOR": None})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_replaying_an_example_ends_with_the_recommendations_of_evaluate(example: Path) -> None:
    code, out, err = run("interview", "--answers", str(example), "--format", "json")
    assert code == 0, err
    interview = json.loads(out)
    assert set(interview) == {"questions", "report"}
    assert all(set(q) == {"field", "reason", "answer"} for q in interview["questions"])
    code, out, err = run("evaluate", str(example), "--format", "json")
    assert code == 0, err
    evaluated = json.loads(out)

    def recs(report: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
        return sorted((r["rule"], r["subject"]["key"], r["actors"]) for r in report["recommendations"])

    assert recs(interview["report"]) == recs(evaluated)
    assert sorted((f["finding"], f["subject"]["key"]) for f in interview["report"]["findings"]) == sorted(
        (f["finding"], f["subject"]["key"]) for f in evaluated["findings"]
    )
    # Every question was relevant when asked, and none is asked twice.
    fields = [q["field"] for q in interview["questions"]]
    assert len(fields) == len(set(fields))
    assert all(q["reason"].startswith("asked because ") for q in interview["questions"])


def interview_counts(engine: Engine) -> dict[str, tuple[int, int, int, int]]:
    """Per example: questions (all), of them "don't know", questions (recommendations goal), facts the file states."""
    counts = {}
    for example in EXAMPLES:
        truth = load_scenario(example)
        everything = run_interview(engine, structure_of(truth), answers_from(truth))
        recs_only = run_interview(engine, structure_of(truth), answers_from(truth), goal="recommendations")
        counts[example.name] = (len(everything.questions), sum(q.answer is None for q in everything.questions), len(recs_only.questions), facts_stated(truth))
    return counts


def test_the_readme_gives_the_measured_question_counts(engine: Engine) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### `nea-policy interview`", 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].endswith(".yaml"):
            rows[cells[0]] = tuple(int(c.split()[0]) for c in cells[1:])
    assert rows == interview_counts(engine)


def test_the_command_line_refuses_standard_input_for_the_facts_when_the_answers_are_typed(tmp_path: Path) -> None:
    code, _, err = run("interview", "-")
    assert code == 1 and "stdin_in_use" in err
    code, _, err = run("interview", "--answers", str(tmp_path / "missing.yaml"))
    assert code == 1 and "file_not_found" in err and "Traceback" not in err


def _typed_answers(engine: Engine, truth_path: Path, start: dict[str, Any]) -> list[str]:
    """The lines to type to answer the interview as the file would (values as a person types them)."""
    truth = load_scenario(truth_path)
    replay = run_interview(engine, start, answers_from(truth))
    lines = []
    for asked in replay.questions:
        value = asked.answer
        if value is None:
            lines.append(random.Random(asked.field).choice(["?", ""]))
        elif isinstance(value, bool):
            lines.append("yes" if value else "n")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append("; ".join(f"{e['low']}-{e['high']} {e['kind']}" for e in value))
        elif isinstance(value, list):
            lines.append(", ".join(value) or "-")
        else:
            lines.append(str(value))
    return lines


def test_in_the_terminal_the_structure_is_asked_first_then_the_facts(engine: Engine, tmp_path: Path) -> None:
    structure = [
        "Russians in Japan",  # title
        "JP", "Japan", "ZQ", "nowhere", "RU", "Russia", "",  # countries (ZQ is refused: neither ISO nor user-assigned)
        "",  # no region
        "ru-to-jp", "Russian residents and visitors in Japan", "RU", "JP", "",  # one flow
        "",  # no other relation
    ]  # fmt: skip
    start = {
        "title": "Russians in Japan",
        "countries": [{"code": "JP", "name": "Japan"}, {"code": "RU", "name": "Russia"}],
        "relations": [{"between": ["JP", "RU"]}],
        "flows": [{"id": "ru-to-jp", "name": "Russian residents and visitors in Japan", "origin": "RU", "destination": "JP"}],
    }
    answers = _typed_answers(engine, RU_JP, start)
    # a `why`, and a value that is not allowed, before the first answer
    typed = structure + ["why", "awful"] + answers
    out_file = tmp_path / "answered.yaml"
    code, out, err = run("interview", "-o", str(out_file), input="\n".join(typed) + "\n")
    assert code == 0, out + err
    assert "  error: countries[1].code: 'ZQ' is not an ISO 3166-1 alpha-2 country code; a fictional country takes a user-assigned code" in out
    assert "relation JP-RU added (the countries of flow ru-to-jp)" in out
    assert "   - *Enforce criminal law and migration policy against exploitative recruitment* to\n     Russia\n" in out
    assert "       asks: the flow's recruiter exploitation is at least moderate" in out
    assert "   error: flows.ru-to-jp.recruiter_exploitation: bad_answer: 'awful' is not one of none, low, moderate, high, severe" in out
    assert "-> recommended: *Expand public and private citizens' exchanges* [citizen-exchanges] — Japan and Russia: to Japan (JP), Russia (RU)" in out
    assert "-> ruled out: *Grant semi-resident status to those who can prove work and shelter* [semi-resident-status] — Russian residents and visitors in Japan" in out
    assert "No other fact can change a recommendation or finding." in out
    assert f"wrote {out_file}" in err
    code, checked, _ = run("check", str(out_file))
    assert code == 0, checked
    # what the terminal wrote evaluates as the example does
    truth, written = load_scenario(RU_JP), load_scenario(out_file)
    assert recommendations(engine.evaluate(written)) == recommendations(engine.evaluate(truth))
    assert findings(engine.evaluate(written)) == findings(engine.evaluate(truth))
    text = out_file.read_text(encoding="utf-8")
    assert text.startswith(f"# Written by nea-policy interview: {len(answers)} question(s) answered.\n# Answered \"don't know\"")
    assert "#   flows.ru-to-jp.recruiter_exploitation\n" in text


def test_in_the_terminal_a_file_with_its_structure_goes_straight_to_the_facts_and_json_keeps_stdout_clean(engine: Engine, tmp_path: Path) -> None:
    start = structure_of(load_scenario(NK))
    partial_file = tmp_path / "nk.yaml"
    partial_file.write_text(yaml.safe_dump(start, sort_keys=False), encoding="utf-8")
    typed = _typed_answers(engine, NK, start)
    code, out, err = run("interview", str(partial_file), "--format", "json", input="\n".join(typed) + "\n")
    assert code == 0, err
    result = json.loads(out)  # the conversation went to standard error
    assert "First, who and what" not in err and "1. flows.kp-to-cn.recruiter_exploitation" in err
    assert len(result["questions"]) == len(typed)
    assert sorted(r["rule"] for r in result["report"]["recommendations"]) == sorted(engine.evaluate(load_scenario(NK)).recommendation_ids())


@pytest.mark.parametrize(
    ("path", "typed", "value"),
    [
        ("flows.kp-to-cn.abuse", "Mod", "moderate"),
        ("flows.kp-to-cn.abuse", "4", "high"),
        ("flows.kp-to-cn.legal_status", "uncl", "unclear"),
        ("flows.kp-to-cn.has_work_and_shelter", "Y", True),
        ("flows.kp-to-cn.has_work_and_shelter", "?", None),
        ("countries.CN.accepted_conventions", "refugee-c, 3", ["refugee-convention-1951", "migrant-workers-convention-1990"]),
        ("countries.CN.accepted_conventions", "-", []),
        ("flows.kp-to-cn.estimates", "1,000,000 alarmist; 200000-250000 careful by more probable numbers", [
            {"low": 1000000, "high": 1000000, "kind": "alarmist"},
            {"low": 200000, "high": 250000, "kind": "careful", "by": "more probable numbers"},
        ]),
        ("flows.kp-to-cn.labels", "media: defectors; Chinese government: economic migrants", [
            {"by": "media", "label": "defectors"}, {"by": "Chinese government", "label": "economic migrants"},
        ]),
        ("relations.CN-KP.rising_power", "cn", "CN"),
    ],
)  # fmt: skip
def test_typed_answers_read_as_the_fact_file_writes_them(engine: Engine, path: str, typed: str, value: Any) -> None:
    from nea_policy.render.interview import parse_answer

    question = _question(engine, path)
    assert parse_answer(question, typed) == value


@pytest.mark.parametrize(
    ("path", "typed", "message"),
    [
        ("flows.kp-to-cn.abuse", "awful", "'awful' is not one of none, low, moderate, high, severe"),
        ("countries.CN.accepted_conventions", "refugee", "could be refugee-convention-1951, refugee-protocol-1967"),
        ("flows.kp-to-cn.has_work_and_shelter", "maybe", "'maybe' is not yes or no"),
        ("flows.kp-to-cn.estimates", "lots", "'lots' is not an estimate"),
        ("flows.kp-to-cn.labels", "defectors", "write WHO: LABEL"),
    ],
)
def test_a_typed_answer_that_reads_as_no_value_says_what_is_allowed(engine: Engine, path: str, typed: str, message: str | None) -> None:
    from nea_policy.render.interview import parse_answer

    with pytest.raises(InputError) as caught:
        parse_answer(_question(engine, path), typed)
    problem = caught.value.problems[0]
    assert problem.code == "bad_answer" and problem.location == path and "? if you don't know" in problem.hint
    assert message is None or message in problem.message


def _question(engine: Engine, path: str) -> Any:
    from nea_policy.analysis.interview import Question

    field = field_index(load_scenario(structure_of(load_scenario(NK)))).fields[path]
    return Question(field=path, label="", kind=field.kind, choices=list(field.choices), reason="", waiting=[], recommendations_waiting=0, findings_waiting=0)


def test_a_rule_pack_joins_the_interview(tmp_path: Path) -> None:
    pack = ROOT / "examples" / "packs" / "trafficking-protocol"
    code, out, err = run("interview", "--answers", str(NK), "--extra-rules", str(pack), "--format", "json")
    assert code == 0, err
    interview = json.loads(out)
    _, evaluated, _ = run("evaluate", str(NK), "--extra-rules", str(pack), "--format", "json")
    assert sorted(r["rule"] for r in interview["report"]["recommendations"]) == sorted(r["rule"] for r in json.loads(evaluated)["recommendations"])
    assert any("*Accept and implement the UN protocol against trafficking in persons*" in q["reason"] for q in interview["questions"])


def test_what_the_file_lacks_of_the_structure_comes_from_the_answers_file(tmp_path: Path) -> None:
    partial_file = tmp_path / "countries-only.yaml"
    partial_file.write_text("title: Only countries\ncountries:\n  - {code: KP, name: North Korea}\n", encoding="utf-8")
    code, out, err = run("interview", str(partial_file), "--answers", str(NK), "--format", "json")
    assert code == 0, err
    report = json.loads(out)["report"]
    assert report["scenario"]["title"] == "Only countries"
    assert report["scenario"]["countries"] == {"KP": "North Korea", "CN": "China"} and report["scenario"]["flows"] == ["kp-to-cn"]
    assert sorted(r["rule"] for r in report["recommendations"]) == sorted(["adopt-international-conventions", "identify-refugees", "humanitarian-assistance", "semi-resident-status"])
