"""Files nea-policy writes (-o, new): never over one of the command's inputs, never through a symbolic link unless --force."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from nea_policy.cli import main
from nea_policy.errors import InputError
from nea_policy.model.files import write_text

ROOT = Path(__file__).resolve().parent.parent
NK = ROOT / "examples" / "north-koreans-in-china.yaml"
PACK = ROOT / "examples" / "packs" / "trafficking-protocol"


def cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())
    return target


@pytest.mark.parametrize("command", ["evaluate", "what-if", "explain", "sweep", "compare"])
def test_no_command_writes_over_its_own_input(tmp_path: Path, command: str) -> None:
    path = copy(NK, tmp_path / "in.yaml")
    before = path.read_bytes()
    args = {
        "evaluate": ["evaluate", path],
        "what-if": ["what-if", path, "--set", "flows.kp-to-cn.abuse=low"],
        "explain": ["explain", path, "identify-refugees"],
        "sweep": ["sweep", path, "--vary", "flows.kp-to-cn.abuse=low,high"],
        "compare": ["compare", NK, path],
    }[command]
    code, _, err = cli(*args, "-o", path, "--force")
    assert code == 1 and f"error: {path}: output_is_input: is also an input of this command" in err, err
    assert path.read_bytes() == before


def test_another_name_for_an_input_is_still_the_input(tmp_path: Path) -> None:
    path = copy(NK, tmp_path / "in.yaml")
    alias = tmp_path / "alias.yaml"
    os.link(path, alias)
    code, _, err = cli("evaluate", path, "-o", alias)
    assert code == 1 and "output_is_input" in err and path.read_bytes() == NK.read_bytes()


def test_a_rule_file_of_the_command_is_an_input_too(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("pack.yaml", "recommendations.yaml", "source.txt"):
        copy(PACK / name, pack / name)
    code, _, err = cli("evaluate", NK, "--extra-rules", pack, "-o", pack / "recommendations.yaml")
    assert code == 1 and "output_is_input" in err
    assert (pack / "recommendations.yaml").read_bytes() == (PACK / "recommendations.yaml").read_bytes()


def test_an_ordinary_output_file_is_written_and_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    for _ in range(2):
        code, _, _ = cli("evaluate", NK, "--format", "markdown", "-o", out)
        assert code == 0 and out.read_text(encoding="utf-8").startswith("# North Koreans in China")


def test_an_output_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = cli("evaluate", NK, "-o", tmp_path / "missing" / "report.txt")
    assert code == 1 and ": no_such_folder: the folder " in err, err
    with pytest.raises(InputError) as caught:
        write_text(tmp_path, "x")
    assert caught.value.code == "is_a_directory"


def test_new_refuses_an_existing_file_and_a_link_unless_forced(tmp_path: Path) -> None:
    existing = tmp_path / "mine.yaml"
    existing.write_text("keep\n", encoding="utf-8")
    code, _, err = cli("new", existing)
    assert code == 1 and "file_exists" in err and existing.read_text(encoding="utf-8") == "keep\n"
    link = tmp_path / "link.yaml"
    link.symlink_to(existing)
    code, _, err = cli("new", link)
    assert code == 1 and "output_is_symlink" in err and existing.read_text(encoding="utf-8") == "keep\n"
    code, _, _ = cli("new", link, "--force")
    assert code == 0 and link.is_symlink() and existing.read_text(encoding="utf-8").startswith("# A nea-policy scenario")


def test_write_text_refuses_a_link_that_appears_after_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """O_NOFOLLOW at open: a link made between the check and the write is not followed either."""
    target = tmp_path / "victim.txt"
    target.write_text("keep\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    out.symlink_to(target)

    def not_there(path: object) -> os.stat_result:
        raise FileNotFoundError(path)

    monkeypatch.setattr(os, "lstat", not_there)  # the check sees nothing there: as if the link came right after it
    with pytest.raises(InputError) as caught:
        write_text(out, "new\n")
    monkeypatch.undo()
    assert caught.value.code == "output_is_symlink" and target.read_text(encoding="utf-8") == "keep\n"
