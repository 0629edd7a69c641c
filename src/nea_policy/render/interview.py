"""The interview in a terminal: the structure asked entry by entry, each question with its reason, typed answers read, and the result shown.

Everything here talks through two callbacks, `ask(prompt) -> text` (the prompt ends with its own ": " or "> ") and
`say(text)`, so the command line passes click's prompt and echo and the tests type lines on standard input. Typed answers: a value (or a unique beginning of
one, or its number in the list shown), `?` or nothing for "don't know", `why` for every rule waiting on the field.
"""

from __future__ import annotations

import copy
import re
import textwrap
from collections.abc import Callable
from typing import Any

import yaml

from nea_policy.analysis.interview import (
    Answerer,
    Conclusion,
    Interview,
    InterviewStep,
    Question,
)
from nea_policy.errors import InputError, NeaPolicyError, Problem
from nea_policy.model.display import display_value, visible
from nea_policy.model.facts import load_scenario, pair_key
from nea_policy.model.paths import MODELS

Ask = Callable[[str], str]
Say = Callable[[str], None]
DONT_KNOW_WORDS = ("", "?", "dont know", "don't know", "unknown", "dk")
_YES = ("yes", "y", "true")
_NO = ("no", "n", "false")


# --- typed answers ---------------------------------------------------------------------------------------


def _bad(field: Question, message: str) -> InputError:
    return InputError([Problem("bad_answer", message, field.field, _hint(field))])


def _hint(field: Question) -> str:
    return f"answer {choices_text(field)}, ? if you don't know, or why"


def choices_text(field: Question) -> str:
    """The answers a question takes, as the prompt shows them."""
    if field.kind == "bool":
        return "yes or no"
    if field.kind == "list[estimate]":
        return "ranges with how each was made, e.g. '1000000 alarmist; 200000-250000 careful' (- for none)"
    if field.kind == "list[label]":
        return "who calls them what, e.g. 'media: defectors; government: economic migrants' (- for none)"
    if field.kind == "list[text]":
        return "a list separated by commas (- for none)"
    numbered = ", ".join(f"{i}={c}" for i, c in enumerate(field.choices, 1))
    if field.kind.startswith("list"):
        return f"any of {numbered}, separated by commas (- for none)"
    return f"one of {numbered}"


def _choice(field: Question, text: str) -> str:
    word = text.strip()
    if word.isdigit() and 1 <= int(word) <= len(field.choices):
        return field.choices[int(word) - 1]
    exact = [c for c in field.choices if c.lower() == word.lower()]
    if exact:
        return exact[0]
    starting = [c for c in field.choices if c.lower().startswith(word.lower())]
    if len(starting) == 1 and word:
        return starting[0]
    if len(starting) > 1:
        raise _bad(field, f"{word!r} could be {', '.join(starting)}; type more of it")
    raise _bad(field, f"{word!r} is not one of {', '.join(field.choices)}")


def parse_answer(field: Question, text: str) -> Any:
    """A typed answer as the fact file writes it; None for "don't know"; an InputError (`bad_answer`) saying what is allowed."""
    raw = text.strip()
    if raw.lower() in DONT_KNOW_WORDS:
        return None
    kind = field.kind
    if kind == "bool":
        if raw.lower() in _YES:
            return True
        if raw.lower() in _NO:
            return False
        raise _bad(field, f"{raw!r} is not yes or no")
    if kind in ("level", "enum", "code"):
        return _choice(field, raw)
    if raw in ("-", "none", "[]") and kind.startswith("list"):
        return []
    items = [item.strip() for item in re.split(r";" if kind in ("list[estimate]", "list[label]") else r"[,;]", raw) if item.strip()]
    if kind == "list[estimate]":
        return [_estimate(field, item) for item in items]
    if kind == "list[label]":
        return [_label(field, item) for item in items]
    if kind == "list[text]":
        return items
    if kind.startswith("list"):
        return list(dict.fromkeys(_choice(field, item) for item in items))
    raise _bad(field, f"this field ({kind}) cannot be answered here; write it in the fact file")


_ESTIMATE = re.compile(r"^(?P<low>[\d,_]+)\s*(?:-\s*(?P<high>[\d,_]+))?\s+(?P<kind>[a-z]+)(?:\s+by\s+(?P<by>.+))?$", re.IGNORECASE)


def _estimate(field: Question, text: str) -> dict[str, Any]:
    match = _ESTIMATE.match(text)
    if not match:
        raise _bad(field, f"{text!r} is not an estimate: write LOW-HIGH KIND (or one number), e.g. '200000-250000 careful'")
    low = int(re.sub(r"[,_]", "", match["low"]))
    high = int(re.sub(r"[,_]", "", match["high"])) if match["high"] else low
    kinds = ("alarmist", "careful", "official")
    kind = next((k for k in kinds if k.startswith(match["kind"].lower())), None)
    if kind is None:
        raise _bad(field, f"{match['kind']!r} is not how an estimate is made; use {', '.join(kinds)}")
    estimate: dict[str, Any] = {"low": low, "high": high, "kind": kind}
    if match["by"]:
        estimate["by"] = match["by"].strip()
    return estimate


def _label(field: Question, text: str) -> dict[str, Any]:
    if ":" not in text:
        raise _bad(field, f"{text!r}: write WHO: LABEL, e.g. 'media: defectors'")
    by, label = (part.strip() for part in text.split(":", 1))
    if not by or not label:
        raise _bad(field, f"{text!r}: write WHO: LABEL, e.g. 'media: defectors'")
    return {"by": by, "label": label}


# --- the structure -----------------------------------------------------------------------------------------


def needs_structure(data: dict[str, Any]) -> bool:
    """Whether a scenario lacks the structure an interview asks about (it has no flow)."""
    return not data.get("flows")


def _problems(data: dict[str, Any]) -> list[Problem]:
    try:
        load_scenario(data)
    except NeaPolicyError as error:
        return list(error.problems)
    return []


def _try(data: dict[str, Any], collection: str, entry: dict[str, Any], say: Say) -> bool:
    """Add the entry if the scenario still validates with it; otherwise say why and leave the data as it was."""
    trial = copy.deepcopy(data)
    trial.setdefault(collection, []).append(entry)
    problems = _problems(trial)
    if problems:
        for problem in problems:
            # The message starts with the field path (countries[2].code: ...): the place to fix, in what was typed.
            say(f"  error: {visible(problem.message)}" + (f" ({visible(problem.hint)})" if problem.hint else ""))
        return False
    data.setdefault(collection, []).append(entry)
    return True


def _codes(data: dict[str, Any]) -> list[str]:
    return [str(c.get("code")) for c in data.get("countries", [])]


def ask_structure(start: dict[str, Any], ask: Ask, say: Say) -> dict[str, Any]:
    """Ask for the countries, regions, flows and relations a scenario lacks, entry by entry; each entry is checked as it is given."""
    data = copy.deepcopy(start)
    say("First, who and what the scenario is about (an empty answer moves on).")
    if "title" not in data:
        title = ask("Title of the scenario: ").strip()
        if title:
            data["title"] = title
    while True:
        have = _codes(data)
        code = ask(f"Country code (ISO, e.g. CN){' — declared: ' + ', '.join(have) if have else ''}: ").strip().upper()
        if not code:
            if len(have) >= 2:
                break
            say("  a flow goes from one country to another: declare at least two")
            continue
        name = ask(f"Name of {visible(code)}: ").strip() or code
        _try(data, "countries", {"code": code, "name": name}, say)
    while True:
        ident = ask("Region a flow goes to (an id such as russian-far-east; empty for none): ").strip()
        if not ident:
            break
        name = ask(f"Name of {visible(ident)}: ").strip() or ident
        country = ask(f"Country {visible(ident)} is in ({', '.join(_codes(data))}): ").strip().upper()
        _try(data, "regions", {"id": ident, "name": name, "country": country}, say)
    while True:
        ident = ask("Flow id (e.g. kp-to-cn; empty when done): ").strip()
        if not ident:
            if data.get("flows"):
                break
            say("  an interview is about at least one flow")
            continue
        entry: dict[str, Any] = {"id": ident, "name": ask(f"Who the people of {visible(ident)} are (e.g. North Korean migrants in China): ").strip() or ident}
        entry["origin"] = ask(f"Origin of {visible(ident)} ({', '.join(_codes(data))}): ").strip().upper()
        entry["destination"] = ask(f"Destination of {visible(ident)}: ").strip().upper()
        regions = [str(r.get("id")) for r in data.get("regions", []) if r.get("country") == entry["destination"]]
        if regions:
            region = ask(f"Region of {visible(entry['destination'])} it goes to ({', '.join(regions)}; empty for none): ").strip()
            if region:
                entry["destination_region"] = region
        _try(data, "flows", entry, say)
    pairs = {pair_key(*map(str, r.get("between", ["?", "?"]))) for r in data.get("relations", [])}
    for flow in data.get("flows", []):
        pair = pair_key(str(flow["origin"]), str(flow["destination"]))
        if pair not in pairs:
            pairs.add(pair)
            data.setdefault("relations", []).append({"between": pair.split("-")})
            say(f"  relation {pair} added (the countries of flow {visible(str(flow['id']))})")
    while True:
        pair = ask("Another pair of countries whose relation matters (e.g. CN-RU; empty when done): ").strip().upper()
        if not pair:
            break
        codes = [c.strip() for c in pair.replace(" ", "-").split("-") if c.strip()]
        if len(codes) != 2:
            say("  write two country codes, e.g. CN-RU")
            continue
        if pair_key(*codes) in pairs:
            say(f"  the relation {pair_key(*codes)} is already there")
            continue
        if _try(data, "relations", {"between": codes}, say):
            pairs.add(pair_key(*codes))
    return data


# --- the questions ----------------------------------------------------------------------------------------


def _wrap(text: str, width: int, indent: str = "   ") -> str:
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False, break_long_words=False)


def question_text(number: int, question: Question, width: int = 88) -> str:
    """A question as the terminal shows it: number, path, what it asks, why, and what it takes."""
    return "\n".join(
        [
            f"\n{number}. {question.field}",
            _wrap(visible(question.label), width),
            _wrap(visible(question.reason), width),
            _wrap(f"answer {choices_text(question)}; ? if you don't know, why for every rule waiting on it", width),
        ]
    )


def why_text(question: Question, width: int = 88) -> str:
    """Every rule waiting on the field, with the conditions on it in words."""
    lines = []
    for entry in question.waiting:
        lines.append(textwrap.fill(visible(entry.words), width=width, initial_indent="   - ", subsequent_indent="     ", break_on_hyphens=False))
        for condition in entry.conditions:
            lines.append(textwrap.fill(visible(condition), width=width, initial_indent="       asks: ", subsequent_indent="         ", break_on_hyphens=False))
    return "\n".join(lines)


def make_answerer(ask: Ask, say: Say, width: int = 88) -> Answerer:
    """An answerer for run_interview that asks in the terminal until the answer reads as a value (or "don't know")."""
    state: dict[str, Any] = {"count": 0, "last": None}

    def answer(question: Question, _step: InterviewStep) -> Any:
        # Asked again after an answer the scenario refused: the question is on the screen already.
        if question.field != state["last"]:
            state["count"] += 1
            state["last"] = question.field
            say(question_text(state["count"], question, width))
        while True:
            text = ask("> ")
            if text.strip().lower() == "why":
                say(why_text(question, width))
                continue
            try:
                return parse_answer(question, text)
            except NeaPolicyError as error:
                say_problems(say, error)

    return answer


def say_problems(say: Say, error: NeaPolicyError) -> None:
    """Each problem of an error as an `error:` line under the question."""
    for problem in error.problems:
        say(f"   error: {visible(str(problem))}")


def _conclusion_text(conclusion: Conclusion, names: dict[str, str]) -> str:
    actors = ", ".join(f"{names.get(a, a)} ({a})" for a in conclusion.actors) or "nobody"
    return f"*{conclusion.title}* [{conclusion.rule}] — {visible(conclusion.subject.name)}: to {visible(actors)}"


def progress_printer(say: Say) -> Callable[[InterviewStep], None]:
    """An on_step callback that says which recommendations became decided (hold, or ruled out) after each answer."""
    seen: dict[str, dict[tuple[str, str], Conclusion]] = {}

    def show(step: InterviewStep) -> None:
        names = step.report.scenario.countries
        holding = {(c.rule, c.subject.key): c for c in step.holding}
        still_open = {(c.rule, c.subject.key): c for c in step.open}
        if seen:
            for key, conclusion in holding.items():
                if key not in seen["holding"]:
                    say(f"   -> recommended: {_conclusion_text(conclusion, names)}")
            for key, conclusion in seen["open"].items():
                if key not in still_open and key not in holding:
                    say(f"   -> ruled out: *{conclusion.title}* [{conclusion.rule}] — {visible(conclusion.subject.name)}")
        seen["holding"] = holding
        seen["open"] = still_open

    return show


# --- the result ---------------------------------------------------------------------------------------------


def render_interview_text(interview: Interview, *, stated: int | None = None, width: int = 88) -> str:
    """The questions asked with their answers and reasons, then the recommendations the interview ends with."""
    report = interview.report
    names = report.scenario.countries
    head = f"Interview: {visible(report.scenario.title)}"
    lines = [head, "=" * len(head), ""]
    counted = f"{len(interview.questions)} question(s), {sum(q.answer is None for q in interview.questions)} answered \"don't know\""
    if stated is not None:
        counted += f"; the answers file states {stated} fact(s)"
    lines += [textwrap.fill(counted, width=width), ""]
    for number, asked in enumerate(interview.questions, 1):
        answer = "don't know" if asked.answer is None else _answer_text(asked.answer)
        lines.append(textwrap.fill(f"{number}. {asked.field} = {visible(answer)}", width=width, subsequent_indent="   ", break_on_hyphens=False))
        lines.append(_wrap(visible(asked.reason), width))
    settled = "recommendation or finding" if interview.goal == "all" else "recommendation"
    lines += ["", f"No other fact can change a {settled}.", ""]
    if report.recommendations:
        lines.append("Recommendations:")
        for rec in report.recommendations:
            actors = ", ".join(f"{names.get(a, a)} ({a})" for a in rec.actors)
            lines.append(textwrap.fill(f"* {rec.title} [{rec.rule}] — {visible(rec.subject.name)}: to {visible(actors)}", width=width, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False))
    else:
        lines.append("Recommendations: none")
    findings = ", ".join(f"{f.finding} ({visible(f.subject.key)})" for f in report.findings) or "none"
    lines.append(textwrap.fill(f"Findings: {findings}", width=width, subsequent_indent="  ", break_on_hyphens=False))
    return "\n".join(lines) + "\n"


def _answer_text(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "; ".join(", ".join(f"{k}: {v}" for k, v in item.items()) for item in value)
    return display_value(value)


def answered_yaml(interview: Interview) -> str:
    """The answered scenario as a fact file (it passes `nea-policy check`), fields in the fact model's order."""
    data = interview.scenario
    ordered: dict[str, Any] = {}
    for key in ("title", "description"):
        if key in data:
            ordered[key] = data[key]
    for collection in ("countries", "regions", "relations", "agreements", "flows"):
        if data.get(collection):
            order = list(MODELS[collection].model_fields)
            ordered[collection] = [{k: entry[k] for k in order if k in entry} for entry in data[collection]]
    head = [f"# Written by nea-policy interview: {len(interview.questions)} question(s) answered."]
    if interview.unknown:
        head.append("# Answered \"don't know\" (or, for an agreement, no), so left out:")
        head += [f"#   {visible(path)}" for path in interview.unknown]
    body = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(head) + "\n" + body


__all__ = [
    "answered_yaml",
    "ask_structure",
    "choices_text",
    "make_answerer",
    "needs_structure",
    "parse_answer",
    "progress_printer",
    "question_text",
    "render_interview_text",
    "say_problems",
    "why_text",
]
