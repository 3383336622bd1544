"""The wardens command on a fresh SQLite database: migrate, people, a station, the demo."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from api.cli import cli


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("WARDENS_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    runner = CliRunner()
    upgraded = runner.invoke(cli, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    return runner


def test_user_and_station_create(fresh):
    made = fresh.invoke(cli, ["user", "create", "--phone", "13800001111", "--password",
                              "long-enough-1", "--superuser", "--name", "Root"])
    assert made.exit_code == 0 and "+8613800001111" in made.output
    station = fresh.invoke(cli, ["station", "create", "--code", "north", "--name", "North",
                                 "--admin-phone", "13800002222"])
    assert station.exit_code == 0 and "north" in station.output
    again = fresh.invoke(cli, ["station", "create", "--code", "north", "--name", "North",
                               "--admin-phone", "13800002222"])
    assert again.exit_code != 0


def test_demo_prints_logins_for_every_role(fresh):
    out = fresh.invoke(cli, ["demo"])
    assert out.exit_code == 0, out.output
    for role in ("admin", "officer", "volunteer", "resident", "merchant", "partner"):
        assert role in out.output
    assert "wardens-demo" in out.output
