"""`nea-policy serve`: what it refuses before it starts, with the command line's errors (it never starts here)."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from nea_policy.cli import main


def serve(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["serve", *args])
    return result.exit_code, result.stderr


def test_rules_with_errors_stop_it_with_their_messages(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text("name: broken\nversion: 1\n", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("- id: x\n  kind: nonsense\n", encoding="utf-8")
    code, err = serve("--rules", str(tmp_path), "--port", "0")
    assert code == 1 and err.startswith("error: ") and "bad.yaml" in err and "Traceback" not in err


def test_a_missing_or_empty_key_file_stops_it(tmp_path: Path) -> None:
    code, err = serve("--api-key-file", str(tmp_path / "keys.txt"), "--port", "0")
    assert (code, err) == (1, f"error: {tmp_path / 'keys.txt'}: file_not_found: no such file; check the path of --api-key-file\n")
    (tmp_path / "keys.txt").write_text("# no keys yet\n\n", encoding="utf-8")
    code, err = serve("--api-key-file", str(tmp_path / "keys.txt"), "--port", "0")
    assert code == 1 and "no_api_key: the file holds no API key" in err


def test_a_decision_log_in_a_missing_folder_stops_it(tmp_path: Path) -> None:
    code, err = serve("--decision-log", str(tmp_path / "nowhere" / "log.jsonl"), "--port", "0")
    assert code == 1 and "cannot_open_log: cannot open the decision log: No such file or directory" in err


def test_a_port_in_use_stops_it_with_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = serve("--port", str(port))
    assert code == 1 and err.startswith(f"error: 127.0.0.1:{port}: cannot_listen: cannot listen there: ") and "choose another --port" in err


def test_a_cors_origin_must_be_an_origin() -> None:
    code, err = serve("--cors-origin", "localhost:5173/app")
    assert code == 2 and "is not an origin; give scheme://host[:port]" in err


def test_the_other_commands_do_not_load_the_service_stack() -> None:
    """FastAPI alone takes ~0.3 s to import: `nea-policy evaluate` must not pay for it (cold start)."""
    import subprocess
    import sys

    code = (
        "import sys; from nea_policy.cli import main\n"
        "try:\n    main(['evaluate', 'examples/northeast-asia.yaml', '--format', 'json'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn', 'nea_policy.service') if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("{"), done.stderr
    assert done.stderr.strip() == "[]"


def test_listening_beyond_loopback_without_a_key_is_warned_about(tmp_path: Path) -> None:
    from nea_policy.service.context import Service
    from nea_policy.service.server import banner
    from nea_policy.service.settings import Settings

    keys = tmp_path / "keys.txt"
    keys.write_text("a-key-of-some-length\n", encoding="utf-8")
    for host, key_file, warned in (("127.0.0.1", None, False), ("::1", None, False), ("localhost", None, False), ("0.0.0.0", None, True), ("0.0.0.0", str(keys), False)):
        settings = Settings(host=host, api_key_file=key_file)
        lines = banner(Service.start(settings), settings).splitlines()
        assert lines[0].endswith(f"API docs at http://{'[::1]' if host == '::1' else host}:8000/docs")
        assert (len(lines) == 2 and lines[1].startswith(f"warning: listening on {host} without --api-key-file")) == warned, (host, lines)
