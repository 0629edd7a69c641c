"""The command line: each command parses its input, calls one library function, and renders the result."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import NeaPolicyError


class _Context:
    def __init__(self, debug: bool) -> None:
        self.debug = debug


def _fail(error: NeaPolicyError, debug: bool) -> None:
    if debug:
        raise error
    for problem in error.problems:
        click.echo(f"error: {problem}", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nea-policy")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Policy recommendations for cross-border human flows in Northeast Asia.

    \b
    Example:
      nea-policy evaluate examples/north-koreans-in-china.yaml
    """
    ctx.obj = _Context(debug)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=True, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@click.pass_obj
def evaluate(obj: _Context, files: tuple[Path, ...], fmt: str) -> None:
    """Evaluate fact files and print the recommendations with their reasons.

    \b
    Example:
      nea-policy evaluate examples/russians-in-japan.yaml --format json
    """
    from .engine import Engine
    from .facts import parse_scenario_text
    from .render_text import render_text

    try:
        engine = Engine()
        reports = []
        for path in files:
            if str(path) == "-":
                scenario = parse_scenario_text(sys.stdin.read(), "<stdin>")
                reports.append(engine.evaluate(scenario))
            else:
                reports.append(engine.evaluate(path))
    except NeaPolicyError as error:
        _fail(error, obj.debug)
        return
    if fmt == "json":
        if len(reports) == 1:
            click.echo(reports[0].to_json(), nl=False)
        else:
            import json

            click.echo(json.dumps([r.model_dump(mode="json") for r in reports], indent=2))
    else:
        click.echo("\n".join(render_text(r) for r in reports), nl=False)
