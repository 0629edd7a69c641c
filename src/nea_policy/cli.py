"""The command line: each command parses its input, calls one library function, and renders the result.

Imports of the library stay inside the commands so that `nea-policy --help` starts fast.
Other commands attach to `main` (`@main.command()`) or to the `rules` group (`@rules_group.command()`).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

import click

from nea_policy import __version__

DEFAULT_MAX_BYTES_TEXT = "10 MiB"
PLAIN_WIDTH = 88


class _Main(click.Group):
    """The top-level group: turns the library's errors into `error: ...` lines and exit code 1, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): nothing left to say, and Python must not complain at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(141)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as error:  # noqa: BLE001 - the one place every failure becomes a message
            if ctx.params.get("debug"):
                raise
            _report_error(error)
            sys.exit(1)


def _report_error(error: Exception) -> None:
    from nea_policy.errors import NeaPolicyError
    from nea_policy.model.display import safe_message

    # safe_message: a value inside a message can neither act on the terminal nor start a line of its own.
    if isinstance(error, NeaPolicyError):
        for problem in error.problems:
            click.echo(f"error: {safe_message(str(problem))}", err=True)
    elif isinstance(error, OSError):
        where = f"{error.filename}: " if getattr(error, "filename", None) else ""
        click.echo(f"error: {safe_message(f'{where}{error.strerror or error}')}", err=True)
    else:
        click.echo(safe_message(f"error: unexpected {type(error).__name__}: {error} (rerun with --debug for the traceback, and report it)"), err=True)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="nea-policy")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors (nothing else does).")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Policy recommendations for cross-border human flows in Northeast Asia, with their reasons.

    Describe a situation in a fact file (YAML or JSON), then evaluate it against the rules
    drawn from the study "Cross-Border Human Flows in Northeast Asia".

    \b
    Examples:
      nea-policy new my-scenario.yaml
      nea-policy check my-scenario.yaml
      nea-policy evaluate examples/north-koreans-in-china.yaml
      nea-policy what-if examples/north-koreans-in-china.yaml --set flows.kp-to-cn.legal_status=regular
    """
    ctx.obj = {"debug": debug}


# --- shared options -------------------------------------------------------------------------------------


def _rules_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--extra-rules",
        "extra_rules",
        multiple=True,
        type=click.Path(path_type=Path),
        help="A folder of rules to add to the others (repeatable).",
    )(command)
    command = click.option(
        "--rules",
        "rules",
        multiple=True,
        type=click.Path(path_type=Path),
        help="A folder of rules to use instead of the bundled ones (repeatable).",
    )(command)
    return command


def _keep(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """An option callback that keeps the value in the context for the shared helpers (_limits, _emit), not the command."""

    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        ctx.meta[f"nea_policy.{name}"] = value

    return callback


def _max_bytes_option(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--limit",
        multiple=True,
        metavar="NAME=N",
        expose_value=False,
        callback=_keep("limit"),
        help="Raise (or lower) a size limit (repeatable): nodes (values in a file, default 200,000), flows (10,000), entries (30,000), "
        "facts (engine facts in one evaluation, 200,000), firings (rule firings in one evaluation, 100,000).",
    )(command)
    return click.option(
        "--max-bytes",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help=f"Largest fact file accepted, in bytes (default {DEFAULT_MAX_BYTES_TEXT}).",
    )(command)


def _limits(max_bytes: int | None, *, key: str = "limits") -> dict[str, Any]:
    from nea_policy.model.documents import DEFAULT_MAX_BYTES
    from nea_policy.model.limits import parse_limits

    limits = parse_limits(click.get_current_context().meta.get("nea_policy.limit", ()))
    return {"max_bytes": max_bytes or DEFAULT_MAX_BYTES, "stdin": sys.stdin.buffer, key: limits}


def _actor(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip()
    # "cn" and "eu" are codes typed in lower case; "China" is a name.
    code = code.upper() if code.islower() or len(code) == 2 else code
    if not re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", code):
        raise click.BadParameter(f"{value!r} is not a country code (or a party's); give a code, e.g. CN or EU")
    return code


_FORCE_OPTION = click.option(
    "--force", is_flag=True, expose_value=False, callback=_keep("force"), help="With -o: write through a symbolic link."
)


def _inputs(ctx: click.Context) -> list[str]:
    """The files a command reads (fact files, rule files), which its -o must never overwrite."""
    found: list[str] = []
    for name in ("files", "file", "base", "variant"):
        value = ctx.params.get(name)
        found += [str(v) for v in value] if isinstance(value, (tuple, list)) else ([str(value)] if value else [])
    for name in ("rules", "extra_rules"):
        for folder in ctx.params.get(name) or ():
            found += [str(p) for p in Path(folder).glob("*.yaml")] if Path(folder).is_dir() else []
    return found


def _emit(text: str, output: Path | None) -> None:
    from nea_policy.model.display import visible

    # Every renderer escapes what it takes from the input; this is the last guard (exact for JSON: \uXXXX is the same text).
    text = visible(text)
    if output is None:
        click.echo(text, nl=False)
        return
    from nea_policy.model.files import write_text

    ctx = click.get_current_context()
    write_text(output, text, force=bool(ctx.meta.get("nea_policy.force")), inputs=_inputs(ctx))


def _plain_width() -> int:
    # Piped output has no terminal to follow; COLUMNS still wins when a user sets it.
    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return PLAIN_WIDTH


def _use_rich(color: str, output: Path | None) -> bool:
    if output is not None or color == "never":
        return False
    return color == "always" or sys.stdout.isatty()


def _rich_console(color: str) -> Any:
    from rich.console import Console

    # rich itself honours NO_COLOR (layout stays, colours go) and follows the terminal's width.
    return Console(force_terminal=True if color == "always" else None, highlight=False, soft_wrap=False)


_COLOR_OPTION = click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour and layout with rich: when the output is a terminal (auto), always, or never. NO_COLOR is honoured.",
)


# --- evaluate ---------------------------------------------------------------------------------------------


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "html"]), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write to this file instead of standard output.")
@_FORCE_OPTION
@_rules_options
@click.option("--actor", callback=_actor, metavar="CODE", help="Only what is addressed to one government (e.g. CN) or party (e.g. EU).")
@click.option("--findings/--no-findings", default=True, show_default=True, help="Show the findings and the proof tree of each recommendation.")
@_max_bytes_option
@_COLOR_OPTION
def evaluate(
    files: tuple[str, ...],
    fmt: str,
    output: Path | None,
    rules: tuple[Path, ...],
    extra_rules: tuple[Path, ...],
    actor: str | None,
    findings: bool,
    max_bytes: int | None,
    color: str,
) -> None:
    """Evaluate fact files and show the recommendations with their reasons.

    FILES are YAML or JSON fact files; `-` reads standard input. With several files you get one
    report each (with --format json: a list).

    \b
    Examples:
      nea-policy evaluate examples/north-koreans-in-china.yaml
      nea-policy evaluate examples/northeast-asia.yaml --actor JP --no-findings
      nea-policy evaluate examples/russians-in-japan.yaml --format html -o report.html
      cat examples/russians-in-japan.yaml | nea-policy evaluate - --format json
    """
    from nea_policy.api import evaluate_sources

    reports = evaluate_sources(list(files), rules=list(rules), extra_rules=list(extra_rules), actor=actor, findings=findings, **_limits(max_bytes))
    if fmt == "json":
        import json

        text = reports[0].to_json() if len(reports) == 1 else json.dumps([r.model_dump(mode="json") for r in reports], indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        from nea_policy.render.markdown import render_markdown

        text = render_markdown(reports, show_findings=findings, actor=actor)
    elif fmt == "html":
        from nea_policy.render.html import render_html

        text = render_html(reports, show_findings=findings, actor=actor)
    elif _use_rich(color, output):
        from nea_policy.render.text import print_rich

        console = _rich_console(color)
        for index, report in enumerate(reports):
            if index:
                console.print()
            print_rich(report, console, show_findings=findings, actor=actor)
        return
    else:
        from nea_policy.render.text import render_text

        text = "\n".join(render_text(r, width=_plain_width(), show_findings=findings, actor=actor) for r in reports)
    _emit(text, output)


# --- check ------------------------------------------------------------------------------------------------


@main.command()
@click.argument("files", nargs=-1, required=True)
@_max_bytes_option
@_rules_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format (json: a list with each file's problems, on standard output).")
def check(files: tuple[str, ...], max_bytes: int | None, rules: tuple[Path, ...], extra_rules: tuple[Path, ...], fmt: str) -> None:
    """Validate fact files without evaluating them: every error of every file at once.

    Prints one `ok` line per valid file, and a note of the facts it sets that no rule reads (they
    describe the scenario but change no result); exits with 1 if any file has an error.

    \b
    Examples:
      nea-policy check examples/*.yaml
      nea-policy check examples/errors/typo.yaml --format json
    """
    from nea_policy.api import check_sources
    from nea_policy.model.display import safe_message, visible

    options = {**_limits(max_bytes), "rules": list(rules) or None, "extra_rules": list(extra_rules) or None}
    results = check_sources(list(files), **options) if fmt != "json" else _check_each(list(files), options)
    if fmt == "json":
        import json
        from dataclasses import asdict

        rows = [{"source": r.source, "ok": r.ok, "problems": [p.as_dict() for p in r.problems], "unread": [asdict(u) for u in r.unread]} for r in results]
        click.echo(visible(json.dumps(rows, indent=2, ensure_ascii=False)))
    else:
        for result in results:
            if result.scenario is not None:
                click.echo(f"ok: {safe_message(result.source)} ({result.summary()})")
                if result.unread:
                    click.echo(f"note: {safe_message(result.unread_note())}")
            for problem in result.problems:
                click.echo(f"error: {safe_message(str(problem))}", err=True)
    bad = [r for r in results if not r.ok]
    if bad:
        if fmt != "json":
            click.echo(f"{len(bad)} of {len(results)} file(s) have errors", err=True)
        sys.exit(1)


def _check_each(files: list[str], options: dict[str, Any]) -> list[Any]:
    """check --format json: one result per file, whatever happens; a failure that is not bad input is reported as such."""
    from nea_policy.api import CheckResult, check_sources
    from nea_policy.errors import Problem

    results: list[Any] = []
    for source in files:
        try:
            results += check_sources([source], **options)
        except Exception as error:  # noqa: BLE001 - a program reading JSON must get JSON
            if click.get_current_context().find_root().params.get("debug"):
                raise
            problem = Problem("internal_error", f"unexpected {type(error).__name__}: {error}", source, "rerun with --debug for the traceback, and report it")
            results.append(CheckResult(source, None, (problem,)))
    return results


# --- compare and what-if ------------------------------------------------------------------------------------


_COMPARE_FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")


def _emit_comparison(comparison: Any, fmt: str, output: Path | None) -> None:
    if fmt == "json":
        _emit(comparison.to_json(), output)
    else:
        from nea_policy.render.text import render_comparison_text

        _emit(render_comparison_text(comparison, width=_plain_width()), output)


@main.command()
@click.argument("base")
@click.argument("variant")
@_COMPARE_FORMAT
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write to this file instead of standard output.")
@_FORCE_OPTION
@_rules_options
@_max_bytes_option
def compare(base: str, variant: str, fmt: str, output: Path | None, rules: tuple[Path, ...], extra_rules: tuple[Path, ...], max_bytes: int | None) -> None:
    """Compare two scenarios: which recommendations and findings appear, disappear or change actors,
    and which fact differences are behind each change.

    Entries are matched by country code, relation pair (CN-RU) and flow, region or agreement id.

    \b
    Example:
      nea-policy compare examples/chinese-in-the-russian-far-east.yaml examples/northeast-asia.yaml
    """
    from nea_policy.api import compare_sources

    comparison = compare_sources(base, variant, rules=list(rules), extra_rules=list(extra_rules), **_limits(max_bytes))
    _emit_comparison(comparison, fmt, output)


@main.command("what-if")
@click.argument("file")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    required=True,
    metavar="PATH=VALUE",
    help="A fact to change (repeatable): flows.<id>.<field>, countries.<code>.<field>, relations.<A-B>.<field>, regions.<id>.<field>, agreements.<id>.<field>. An empty VALUE or null unsets the field.",
)
@_COMPARE_FORMAT
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write to this file instead of standard output.")
@_FORCE_OPTION
@_rules_options
@_max_bytes_option
def what_if(file: str, assignments: tuple[str, ...], fmt: str, output: Path | None, rules: tuple[Path, ...], extra_rules: tuple[Path, ...], max_bytes: int | None) -> None:
    """Change facts on the command line and compare with the original scenario.

    VALUE is read like YAML: true, 3, high, [construction, agriculture].

    \b
    Examples:
      nea-policy what-if examples/north-koreans-in-china.yaml --set flows.kp-to-cn.legal_status=regular
      nea-policy what-if examples/chinese-in-the-russian-far-east.yaml \\
          --set countries.CN.surplus_labor=low --set countries.CN.rural_unemployment=low
      nea-policy what-if examples/russians-in-japan.yaml --set relations.JP-RU.cultural_gap=low
    """
    from nea_policy.api import what_if_source

    comparison = what_if_source(file, list(assignments), rules=list(rules), extra_rules=list(extra_rules), **_limits(max_bytes))
    _emit_comparison(comparison, fmt, output)


# --- explain and sweep ----------------------------------------------------------------------------------------


@main.command()
@click.argument("file")
@click.argument("rule_id", metavar="RULE_ID")
@click.option("--subject", default=None, metavar="KEY", help="What it is about: a flow or region id, a country code, or a pair (CN-RU).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write to this file instead of standard output.")
@_FORCE_OPTION
@_rules_options
@_max_bytes_option
def explain(
    file: str, rule_id: str, subject: str | None, fmt: str, output: Path | None, rules: tuple[Path, ...], extra_rules: tuple[Path, ...], max_bytes: int | None
) -> None:
    """Why a recommendation or finding holds (its proof tree), or why not: each candidate's conditions
    held / failed / missing, and the smallest fact changes that would make it fire, each verified and
    printed as a ready `nea-policy what-if` command.

    \b
    Examples:
      nea-policy explain examples/russians-in-japan.yaml semi-resident-status
      nea-policy explain examples/north-koreans-in-china.yaml identify-refugees --format markdown
    """
    from nea_policy.api import explain_file
    from nea_policy.render.explanation import (
        render_explanation_markdown,
        render_explanation_text,
    )

    result = explain_file(file, rule_id, subject, rules=list(rules), extra_rules=list(extra_rules), **_limits(max_bytes, key="size_limits"))
    if fmt == "json":
        _emit(result.to_json(), output)
    elif fmt == "markdown":
        _emit(render_explanation_markdown(result), output)
    else:
        _emit(render_explanation_text(result, width=_plain_width()), output)


@main.command()
@click.argument("file")
@click.option("--vary", "vary_items", multiple=True, required=True, metavar="PATH=V1,V2,...", help="A fact and the values to try (repeatable; paths as in what-if --set).")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json", "markdown"]), default="text", show_default=True, help="Output format.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, metavar="N", help="Worker processes (default: the machine's cores; small grids use fewer).")
@click.option("--max", "max_points", type=click.IntRange(min=1), default=None, metavar="N", help="Largest grid accepted (default 10000 points).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write to this file instead of standard output.")
@_FORCE_OPTION
@_rules_options
@_max_bytes_option
def sweep(
    file: str,
    vary_items: tuple[str, ...],
    fmt: str,
    jobs: int | None,
    max_points: int | None,
    output: Path | None,
    rules: tuple[Path, ...],
    extra_rules: tuple[Path, ...],
    max_bytes: int | None,
) -> None:
    """Evaluate the grid of scenarios that varying some facts spans; show which recommendations hold where.

    \b
    Examples:
      nea-policy sweep examples/north-koreans-in-china.yaml \\
          --vary flows.kp-to-cn.legal_status=regular,irregular,unclear \\
          --vary flows.kp-to-cn.fear_of_exposure=low,high
      nea-policy sweep examples/northeast-asia.yaml --vary relations.JP-RU.cultural_gap=low,high --format csv
    """
    from nea_policy.analysis.sweep import (
        DEFAULT_MAX_POINTS,
        default_jobs,
        grid_size,
        parse_vary,
        plan_jobs,
    )
    from nea_policy.api import sweep_file
    from nea_policy.render.sweep import (
        render_sweep_csv,
        render_sweep_markdown,
        render_sweep_text,
    )

    vary = parse_vary(vary_items)
    size = grid_size(vary)
    limit = max_points or DEFAULT_MAX_POINTS
    workers = jobs or default_jobs()
    processes = plan_jobs(size, workers)
    click.echo(f"sweep: {size} grid points ({' x '.join(str(len(v)) for v in vary.values())}), {processes} process{'es' if processes > 1 else ''}", err=True)
    options: dict[str, Any] = {"jobs": workers, "max_points": limit}
    if sys.stderr.isatty() and size <= limit:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("evaluating", total=size)
            result = sweep_file(file, vary, rules=list(rules), extra_rules=list(extra_rules), progress=lambda n: bar.advance(task, n), **options, **_limits(max_bytes))
    else:
        result = sweep_file(file, vary, rules=list(rules), extra_rules=list(extra_rules), **options, **_limits(max_bytes))
    render = {"json": lambda r: r.to_json(), "csv": render_sweep_csv, "markdown": render_sweep_markdown}.get(fmt, render_sweep_text)
    _emit(render(result), output)


# --- interview --------------------------------------------------------------------------------------------


@main.command()
@click.argument("file", required=False)
@click.option("--answers", metavar="FILE", default=None, help="Replay the answers from a fact file instead of asking (a field it does not state: don't know).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write the answered scenario here, as a fact file.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format (json: the questions with reasons and answers, and the report).")
@click.option(
    "--goal",
    type=click.Choice(["all", "recommendations"]),
    default="all",
    show_default=True,
    help="Settle every recommendation and finding (all), or only the recommendations (fewer questions).",
)
@_rules_options
@_max_bytes_option
def interview(
    file: str | None, answers: str | None, output: Path | None, fmt: str, goal: str, rules: tuple[Path, ...], extra_rules: tuple[Path, ...], max_bytes: int | None
) -> None:
    """Ask only the facts that can still change a recommendation, each with why it is asked, until
    none can; then show the recommendations.

    FILE (optional) holds what is known already; without it, or without flows, the countries,
    regions, flows and relations are asked first. Answer `?` (or nothing) when you don't know,
    `why` to see every rule waiting on the answer. With --answers the answers come from a fact file.

    \b
    Examples:
      nea-policy interview
      nea-policy interview my-scenario.yaml -o answered.yaml
      nea-policy interview --answers examples/north-koreans-in-china.yaml --format json
    """
    from nea_policy.api import interview_source
    from nea_policy.render.interview import answered_yaml, render_interview_text

    err = fmt == "json"
    result = interview_source(
        file,
        answers=answers,
        ask=lambda prompt: click.prompt(prompt, default="", show_default=False, prompt_suffix="", err=err),
        say=lambda text: click.echo(text, err=err),
        goal=goal,  # type: ignore[arg-type]
        width=_plain_width(),
        rules=list(rules),
        extra_rules=list(extra_rules),
        **_limits(max_bytes),
    )
    if output is not None:
        _emit(answered_yaml(result), output)
    if fmt == "json":
        click.echo(result.to_json(), nl=False)
    else:
        click.echo(("\n" if answers is None else "") + render_interview_text(result, stated=result.facts_in_answers, width=_plain_width()), nl=False)
    if output is not None:
        click.echo(f"wrote {output} (check it with: nea-policy check {output})", err=True)


# --- rules ------------------------------------------------------------------------------------------------


@main.group("rules")
def rules_group() -> None:
    """List, explain and draw the rules.

    \b
    Examples:
      nea-policy rules list
      nea-policy rules show identify-refugees
      nea-policy rules graph --format dot | dot -Tsvg > rules.svg
    """


@rules_group.command("list")
@_rules_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
def rules_list(rules: tuple[Path, ...], extra_rules: tuple[Path, ...], fmt: str) -> None:
    """List the rules: id, kind (finding or recommendation) and title.

    \b
    Example:
      nea-policy rules list
    """
    from nea_policy.language.rule_docs import list_rules
    from nea_policy.language.rules import load_ruleset
    from nea_policy.render.rules import render_rule_list

    summaries = list_rules(load_ruleset(list(rules) or None, list(extra_rules) or None))
    if fmt == "json":
        import json
        from dataclasses import asdict

        click.echo(json.dumps([asdict(s) for s in summaries], indent=2, ensure_ascii=False))
    else:
        click.echo(render_rule_list(summaries), nl=False)


@rules_group.command("show")
@click.argument("rule_id", metavar="ID")
@_rules_options
def rules_show(rule_id: str, rules: tuple[Path, ...], extra_rules: tuple[Path, ...]) -> None:
    """Explain one rule: its conditions in words, what it concludes, its source quote, the
    findings it needs and the rules that need it.

    \b
    Example:
      nea-policy rules show cooperative-migration-and-trade-regime
    """
    from nea_policy.language.rule_docs import describe_rule
    from nea_policy.language.rules import load_ruleset
    from nea_policy.render.rules import render_rule_doc

    doc = describe_rule(load_ruleset(list(rules) or None, list(extra_rules) or None), rule_id)
    click.echo(render_rule_doc(doc, width=_plain_width()), nl=False)


@rules_group.command("graph")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True, help="Graph language.")
@_rules_options
def rules_graph(fmt: str, rules: tuple[Path, ...], extra_rules: tuple[Path, ...]) -> None:
    """Draw which findings feed which findings and recommendations (dashed: tested absent).

    \b
    Examples:
      nea-policy rules graph > rules.mmd
      nea-policy rules graph --format dot | dot -Tsvg > rules.svg
    """
    from nea_policy.language.rules import load_ruleset
    from nea_policy.render.rules import graph_dot, graph_mermaid

    ruleset = load_ruleset(list(rules) or None, list(extra_rules) or None)
    click.echo(graph_dot(ruleset) if fmt == "dot" else graph_mermaid(ruleset), nl=False)


@rules_group.command("check")
@click.argument("dirs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--extra-rules", "extra_rules", multiple=True, type=click.Path(path_type=Path), help="A pack to check together with DIRS (repeatable).")
@click.option("--source", type=click.Path(path_type=Path, dir_okay=False), default=None, help="The text the quotes must come from, verbatim.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
def rules_check(dirs: tuple[Path, ...], extra_rules: tuple[Path, ...], source: Path | None, fmt: str) -> None:
    """Lint rule folders (default: the bundled rules): every problem at once, with file, rule id,
    a stable code and what to do. Exit 1 when there is an error (warnings alone pass).

    \b
    Examples:
      nea-policy rules check
      nea-policy rules check --extra-rules examples/packs/trafficking-protocol
      nea-policy rules check --source STUDY.txt   # your copy of the study's text (not shipped)
    """
    from nea_policy.language.lint import lint_rules

    result = lint_rules(list(dirs) or None, list(extra_rules) or None, source=source)
    click.echo(result.model_dump_json(indent=2) if fmt == "json" else result.render(), nl=fmt == "json")
    sys.exit(1 if result.errors else 0)


# --- rule tests -------------------------------------------------------------------------------------------


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_rules_options
@click.option("--coverage", is_flag=True, help="Also show, per rule, how often it fired and which conditions no case challenged.")
@click.option("--min-coverage", type=click.FloatRange(0, 100), default=None, metavar="PCT", help="Fail when fewer than PCT% of the rules fired (implies --coverage).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@click.option("-v", "--verbose", is_flag=True, help="List the cases that passed too.")
def test_command(
    paths: tuple[Path, ...], rules: tuple[Path, ...], extra_rules: tuple[Path, ...], coverage: bool, min_coverage: float | None, fmt: str, verbose: bool
) -> None:
    """Run rule test files (*.rules-test.yaml; default: the bundled rule tests). Exit 0 only when all pass.

    \b
    Examples:
      nea-policy test
      nea-policy test --coverage --min-coverage 100
      nea-policy test examples/packs/trafficking-protocol
      nea-policy test examples/rule-tests/russians.rules-test.yaml
    """
    from nea_policy.authoring.rule_tests import render_results, run_tests

    result = run_tests(
        list(paths) or None, rules=list(rules) or None, extra_rules=list(extra_rules) or None, coverage=coverage or min_coverage is not None, min_coverage=min_coverage
    )
    click.echo(result.model_dump_json(indent=2) if fmt == "json" else render_results(result, verbose=verbose), nl=fmt == "json")
    sys.exit(0 if result.ok else 1)


# --- serve --------------------------------------------------------------------------------------------------


def _origin(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if value != "*" and not re.fullmatch(r"https?://[^/\s]+", value):
            raise click.BadParameter(f"{value!r} is not an origin; give scheme://host[:port] with no path, e.g. http://localhost:5173, or *")
    return values


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default; 0.0.0.0 for every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="N", help="Worker processes, each with its own engine (one per core scales across cores).")
@_rules_options
@click.option("--max-bytes", type=click.IntRange(min=1), default=None, metavar="N", help=f"Largest request body accepted, in bytes (default {DEFAULT_MAX_BYTES_TEXT}); larger ones get 413.")
@click.option("--decision-log", type=click.Path(dir_okay=False), default=None, metavar="PATH", help="Append one JSON line per decision to this file ('-': standard output).")
@click.option("--api-key-file", type=click.Path(dir_okay=False), default=None, metavar="PATH", help="Accept only requests with an X-API-Key header holding one of the keys in this file (one a line).")
@click.option("--cors-origin", "cors_origins", multiple=True, callback=_origin, metavar="URL", help="Let browser pages from this origin call the API (repeatable).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True, metavar="SECONDS", help="Longest explain, counterfactual or sweep search.")
@click.option("--max-points", type=click.IntRange(min=1), default=10_000, show_default=True, metavar="N", help="Largest sweep grid accepted.")
@click.option("--max-batch", type=click.IntRange(min=1), default=1_000, show_default=True, metavar="N", help="Most scenarios in one batch.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info", show_default=True, help="Server log level.")
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log one line per request.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser once the server answers (says so when there is no browser).")
def serve(
    host: str,
    port: int,
    workers: int,
    rules: tuple[Path, ...],
    extra_rules: tuple[Path, ...],
    max_bytes: int | None,
    decision_log: str | None,
    api_key_file: str | None,
    cors_origins: tuple[str, ...],
    time_limit: float,
    max_points: int,
    max_batch: int,
    log_level: str,
    access_log: bool,
    open_browser: bool,
) -> None:
    """Serve the student page and the API over HTTP: evaluate, explain, what-if, compare, sweep, batch.

    The page for students is at / (a browser at http://127.0.0.1:8000/; --open opens one). The API:
    JSON in and out (or YAML bodies with Content-Type: application/yaml), errors as
    application/problem+json, OpenAPI at /openapi.json and a docs page at /docs (served from the package,
    so it works offline). It keeps no state between requests: run several behind a load balancer.

    \b
    Examples:
      nea-policy serve --open
      nea-policy serve --workers 2 --decision-log decisions.jsonl
      nea-policy serve --host 0.0.0.0 --api-key-file keys.txt --cors-origin https://tools.example.org
      curl -s -H 'Content-Type: application/yaml' --data-binary @examples/russians-in-japan.yaml \\
          http://127.0.0.1:8000/v1/evaluate
    """
    from nea_policy.model.documents import DEFAULT_MAX_BYTES
    from nea_policy.service.server import serve as run_server
    from nea_policy.service.settings import Settings

    settings = Settings(
        host=host,
        port=port,
        workers=workers,
        rules=tuple(str(r) for r in rules),
        extra_rules=tuple(str(r) for r in extra_rules),
        max_bytes=max_bytes or DEFAULT_MAX_BYTES,
        decision_log=decision_log,
        api_key_file=api_key_file,
        cors_origins=cors_origins,
        time_limit=time_limit,
        max_points=max_points,
        max_batch=max_batch,
        log_level=log_level,
        access_log=access_log,
    )
    run_server(settings, open_browser=open_browser)


# --- schema and new ---------------------------------------------------------------------------------------


@main.command()
@click.argument("kind", type=click.Choice(["facts", "report"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of a fact file (facts) or of the JSON report (report).

    \b
    Examples:
      nea-policy schema facts > facts.schema.json
      nea-policy schema report > report.schema.json
    """
    import json

    from nea_policy.api import json_schema

    click.echo(json.dumps(json_schema(kind), indent=2, ensure_ascii=False))


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def new(path: Path, force: bool) -> None:
    """Write a commented scenario template to fill in; it passes `check` as written.

    \b
    Example:
      nea-policy new my-scenario.yaml && nea-policy check my-scenario.yaml
    """
    from nea_policy.authoring.template import write_template

    written = write_template(path, force=force)
    click.echo(f"wrote {written}; fill it in, then: nea-policy check {written}")
