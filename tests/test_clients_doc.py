"""docs/clients.md, the phone team's guide, stays true: its code catalogue is the server's own,
and the headers, limits and links it promises are the ones the server has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api import catalogue
from api.unit_of_work import IDEMPOTENCY_KEY_MAX
from core import accounts

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDE = DOCS / "clients.md"


def _document(client) -> dict:
    return client.get("/api/openapi.json").json


def test_the_code_catalogue_in_the_guide_is_the_servers():
    # A fresh process with the repo's plugins.toml: the tests' own plugins register codes in
    # this one.
    printed = subprocess.run([sys.executable, "-m", "api.cli", "codes"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    text = GUIDE.read_text(encoding="utf-8")
    assert printed.strip() in text, ("docs/clients.md is stale: run "
                                     "`wardens codes --write docs/clients.md`")


def test_a_code_the_operations_declare_shows_their_statuses(client):
    table = catalogue.table(_document(client))
    row = next(line for line in table.splitlines() if line.startswith("| `task_full` |"))
    assert "| 409 |" in row
    notifications = table.split("### Notification codes", 1)[1]
    assert "| `task_full` |" not in notifications


def test_the_guide_states_the_limits_the_server_keeps():
    text = GUIDE.read_text(encoding="utf-8")
    assert f"up to {IDEMPOTENCY_KEY_MAX} characters" in text
    assert f"For **{int(accounts.REFRESH_GRACE.total_seconds())} seconds**" in text
    for link in ("positions.md",):
        assert f"]({link})" in text and (DOCS / link).is_file(), link
