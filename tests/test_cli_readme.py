"""The README's example output of the commands of issue 3 is what the commands print today.

After changing rules or output on purpose, refresh the README's examples with
`NEA_UPDATE_README=1 pytest tests/test_cli_readme.py` and review the diff.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from nea_policy.cli import main
from nea_policy.language.rules import bundled_rules_dir

ROOT = Path(__file__).resolve().parent.parent
# The commands whose README examples this file keeps honest (others' sections have their own tests).
CHECKED = ("evaluate examples/", "check examples/", "what-if ", "rules list", "rules show ", "schema facts |", "--version", "interview ")


def _examples() -> list[tuple[str, str]]:
    """(command line, output shown under it) for each `$ nea-policy ...` line of a ```text block of the README."""
    found: list[tuple[str, str]] = []
    for block in re.findall(r"```text\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S):
        parts = re.split(r"^\$ (nea-policy .*)$", block, flags=re.M)
        for command, output in zip(parts[1::2], parts[2::2]):
            if command.removeprefix("nea-policy ").startswith(CHECKED) and "# excerpt" not in command:
                found.append((command, output.removeprefix("\n")))
    return found


def _relative(text: str) -> str:
    # The bundled rules live wherever the package is installed.
    return text.replace(str(bundled_rules_dir()), "src/nea_policy/rules")


def _normal(text: str) -> str:
    # The digest of the rules and the line a rule starts at change with every edit of a rule file.
    text = re.sub(r"sha256:[0-9a-f]{16}", "sha256:<digest>", _relative(text))
    return re.sub(r"(src/nea_policy/rules/[a-z-]+\.yaml):\d+", r"\1:<line>", text)


def test_the_readme_has_examples_to_check() -> None:
    commands = [command for command, _ in _examples()]
    assert len(commands) >= 8, commands


@pytest.mark.parametrize(("command", "shown"), _examples(), ids=[c for c, _ in _examples()])
def test_readme_example_output_is_real(command: str, shown: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    head: int | None = None
    if match := re.search(r"\| head -(\d+)$", command):
        head = int(match.group(1))
        command = command[: match.start()].strip()
    words = shlex.split(command)[1:]
    args = [a for w in words for a in (sorted(glob.glob(w)) if "*" in w else [w])]
    result = CliRunner().invoke(main, args, env={"COLUMNS": None, "NO_COLOR": None})
    assert result.exit_code == 0, result.output
    actual = result.stdout
    if head is not None:
        actual = "".join(actual.splitlines(keepends=True)[:head])
    if os.environ.get("NEA_UPDATE_README") and _normal(actual).rstrip("\n") != _normal(shown).rstrip("\n"):
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        original = shown.rstrip("\n")
        assert text.count(original) >= 1
        readme.write_text(text.replace(original, _relative(actual).rstrip("\n"), 1), encoding="utf-8")
        return
    assert _normal(actual).rstrip("\n") == _normal(shown).rstrip("\n"), (
        f"README output of `{command}` is stale; refresh it with NEA_UPDATE_README=1 pytest tests/test_cli_readme.py"
    )
