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
CHECKED = ("evaluate examples/", "evaluate missing.yaml", "check examples/", "what-if ", "rules list", "rules show ", "rules check", "test examples/", "schema facts |", "--version", "interview ")
# A shown output that ends with this line is of a command that fails on purpose (its stdout and stderr as a terminal shows them).
EXIT_CODE = re.compile(r"\n?\(exit code (\d+)\)\n?$")


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
    assert len(commands) >= 12, commands


def test_every_file_a_readme_example_names_is_in_the_repository() -> None:
    # Each path a README command names is a real file or folder, but for what it writes (>, new) or shows missing.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```text\n(.*?)```", readme, flags=re.S):
        parts = re.split(r"^\$ (nea-policy .*)$", block, flags=re.M)
        for command, output in zip(parts[1::2], parts[2::2]):
            if command.startswith("nea-policy new ") or "file_not_found" in output:
                continue
            _names_real_files(command)


def _names_real_files(command: str) -> None:
    words = shlex.split(command.split(" | ")[0].split(" > ")[0].split(" && ")[0].split("#")[0])[1:]
    for word in words:
        if ("/" in word or word.endswith((".yaml", ".json", ".txt"))) and "=" not in word:
            assert glob.glob(str(ROOT / word)), f"`{command}` names {word}, which is not in the repository"


def test_the_readme_shows_the_rule_test_file_it_runs() -> None:
    shown = re.search(r"```yaml\n(scenario: \.\./russians-in-japan\.yaml.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)
    assert shown is not None
    assert shown.group(1) == (ROOT / "examples" / "rule-tests" / "russians.rules-test.yaml").read_text(encoding="utf-8")


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
    code = EXIT_CODE.search(shown)
    expected_code = int(code.group(1)) if code else 0
    assert result.exit_code == expected_code, result.output
    actual = result.stdout
    if code:
        shown = shown[: code.start()]
        actual = result.output
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


def _help_commands() -> list[tuple[str, str]]:
    """(command, example line) of every `nea-policy ...` example in the --help of every command."""
    import click

    found = []

    def walk(command: click.Command, name: str) -> None:
        for line in (command.help or "").splitlines():
            line = line.strip()
            if "nea-policy " in line:
                found.append((name, line.rstrip("\\").strip()))
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{name} {sub_name}")

    walk(main, "nea-policy")
    return found


def test_every_file_a_help_example_names_is_in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    commands = _help_commands()
    assert len(commands) >= 25
    created = {"my-scenario.yaml"}  # written by the `new` example that comes before the `check` of it
    for _, line in commands:
        words = [w for segment in line.split("#")[0].split(" | ") for w in shlex.split(segment.split(" > ")[0].split(" && ")[0])[1:]]
        for index, word in enumerate(words):
            # what follows these is written by the command, or is the user's own (the study's text, a file of API keys)
            if index and words[index - 1] in ("-o", "--output", "--source", "--api-key-file", "--decision-log") or "=" in word or word in created:
                continue
            if ("/" in word and "://" not in word) or word.endswith((".yaml", ".json", ".txt")):
                assert glob.glob(str(ROOT / word)), f"`{line}` names {word}, which is not in the repository"


def test_readme_new_then_check_is_what_the_commands_print(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = re.search(r"^\$ nea-policy new (\S+) && nea-policy check (\S+)\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S | re.M)
    assert block is not None
    monkeypatch.chdir(tmp_path)
    written = CliRunner().invoke(main, ["new", block.group(1)])
    checked = CliRunner().invoke(main, ["check", block.group(2)])
    assert written.exit_code == checked.exit_code == 0
    assert written.stdout + checked.stdout == block.group(3)
