"""`nea-policy explain` and `nea-policy sweep` on the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from nea_policy.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NK = str(EXAMPLES / "north-koreans-in-china.yaml")
RUSSIANS = str(EXAMPLES / "russians-in-japan.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_explain_why_not_prints_a_ready_what_if_line() -> None:
    code, out, _ = run("explain", RUSSIANS, "semi-resident-status")
    assert code == 0
    assert "does not hold" in out
    line = next(l.strip() for l in out.splitlines() if l.strip().startswith("nea-policy what-if"))
    # the printed command runs as it is and makes the recommendation appear
    args = line.split()[1:]
    code, compared, _ = run(*args, "--format", "json")
    assert code == 0
    appeared = [c for c in json.loads(compared)["recommendations"] if c["id"] == "semi-resident-status"]
    assert appeared and appeared[0]["change"] == "appeared"


def test_explain_formats_and_subject() -> None:
    code, out, _ = run("explain", NK, "identify-refugees", "--subject", "kp-to-cn", "--format", "json")
    assert code == 0 and json.loads(out)["holds"] is True
    code, out, _ = run("explain", NK, "identify-refugees", "--subject", "nowhere", "--format", "markdown")
    assert code == 0 and "does not hold" in out


def test_explain_unknown_rule() -> None:
    code, _, err = run("explain", NK, "identify-refugee")
    assert code == 1 and "unknown_rule" in err and "identify-refugees" in err


def test_sweep_states_the_grid_and_prints_the_table() -> None:
    code, out, err = run(
        "sweep", NK, "--vary", "flows.kp-to-cn.legal_status=regular,unclear", "--vary", "flows.kp-to-cn.fear_of_exposure=low,high", "--jobs", "1"
    )
    assert code == 0
    assert "4 grid points (2 x 2), 1 process" in err
    rows = [l for l in out.splitlines() if l.startswith(("regular", "unclear"))]
    assert len(rows) == 4


def test_sweep_csv_json_and_limit() -> None:
    vary = ["--vary", "flows.kp-to-cn.legal_status=regular,unclear,irregular"]
    code, out, _ = run("sweep", NK, *vary, "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("flows.kp-to-cn.legal_status,")
    code, out, _ = run("sweep", NK, *vary, "--format", "json")
    assert code == 0 and len(json.loads(out)["points"]) == 3
    code, _, err = run("sweep", NK, *vary, "--max", "2")
    assert code == 1 and "grid_too_large" in err and "--max" in err


def test_readme_shows_real_explain_and_sweep_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's explain and sweep examples are what the commands print (sweep's first line is its stderr)."""
    import re
    import shlex

    monkeypatch.chdir(EXAMPLES.parent)
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    seen = 0
    for block in re.findall(r"```text\n(.*?)```", readme, flags=re.S):
        match = re.match(r"\$ (nea-policy (explain|sweep) .*)\n", block)
        if not match:
            continue
        result = CliRunner().invoke(main, shlex.split(match.group(1))[1:], env={"COLUMNS": None})
        assert result.exit_code == 0, result.output
        shown = block[match.end() :]
        if os.environ.get("NEA_UPDATE_README") and result.stderr + result.stdout != shown:
            # After an intended change of the output; review the diff of README.md.
            readme_path = EXAMPLES.parent / "README.md"
            readme_path.write_text(readme_path.read_text(encoding="utf-8").replace(block, block[: match.end()] + result.stderr + result.stdout, 1), encoding="utf-8")
        else:
            assert result.stderr + result.stdout == shown, f"{match.group(1)}: README output is stale; refresh it with NEA_UPDATE_README=1 pytest tests/test_explain_cli.py"
        seen += 1
    assert seen == 2
