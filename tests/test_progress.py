"""Progress bars on the long commands: drawn on a terminal, left out of a pipe or a log."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from api.cli import cli

ROOT = Path(__file__).resolve().parent.parent
# Anything a terminal acts on rather than prints: carriage returns, escapes, backspaces.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _instance(tmp_path: Path, monkeypatch) -> dict[str, str]:
    env = {"WARDENS_INSTANCE": str(tmp_path), "WARDENS_DATABASE_URL": f"sqlite:///{tmp_path}/p.db"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    uploads = tmp_path / "uploads" / "photos"
    uploads.mkdir(parents=True)
    for number in range(3):
        (uploads / f"{number}.jpg").write_bytes(b"photo")
    return env


def test_long_commands_print_plain_lines_when_output_is_not_a_terminal(tmp_path, monkeypatch):
    _instance(tmp_path, monkeypatch)
    runner = CliRunner()
    outputs = {}
    for name, args in [("upgrade", ["db", "upgrade"]), ("demo", ["demo"]),
                       ("apply", ["station", "apply", str(ROOT / "examples" / "demo-station.toml")]),
                       ("backup", ["backup", "--to", str(tmp_path / "copies")])]:
        done = runner.invoke(cli, args)
        assert done.exit_code == 0, done.output
        outputs[name] = done.output
    backup = next((tmp_path / "copies").glob("wardens-*.tar"))
    restored = runner.invoke(cli, ["restore", "--yes", str(backup)])
    assert restored.exit_code == 0, restored.output
    outputs["restore"] = restored.output

    assert {name: CONTROL.findall(text) for name, text in outputs.items()} == {
        name: [] for name in outputs}
    assert outputs["demo"].startswith("Demo station 'demo' is ready.")
    assert outputs["backup"] == f"backup written: {backup}\n"
    assert outputs["restore"].startswith("restored the backup made ")
    assert (tmp_path / "uploads" / "photos" / "2.jpg").read_bytes() == b"photo"


def test_a_backup_on_a_terminal_draws_a_bar_to_the_end(tmp_path, monkeypatch):
    env = _instance(tmp_path, monkeypatch)
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "backup", "--to", str(tmp_path / "copies")],
        cwd=ROOT, env={**os.environ, **env}, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, seen
    text = seen.decode()
    assert "backing up" in text and "100%" in text and "\r" in text
    assert "backup written: " in text
