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


def test_an_admin_seat_for_a_number_registered_unverified_waits(fresh, tmp_path):
    """Through the command line too: an unproven password account on the number does not get the
    seat."""
    import sqlalchemy as sa

    from core import accounts
    from core.db import Database
    from core.models import Membership

    fresh.invoke(cli, ["user", "create", "--phone", "13800001111", "--password",
                       "long-enough-1", "--superuser", "--name", "Root"])
    database = Database(f"sqlite:///{tmp_path}/cli.db")
    with database.writer() as session, session.begin():
        accounts.create_user(session, phone="13800003333", password="long-enough-1",
                             display_name="squatter")
    station = fresh.invoke(cli, ["station", "create", "--code", "south", "--name", "South",
                                 "--admin-phone", "13800003333"])
    assert station.exit_code == 0, station.output
    assert "the admin seat waits until +8613800003333 is proven" in station.output
    with database.reader() as session:
        seat = session.scalar(sa.select(Membership))
    assert seat.user_id is None and seat.pending_phone == "+8613800003333"
    database.engine.dispose()


def test_demo_prints_logins_for_every_role(fresh):
    out = fresh.invoke(cli, ["demo"])
    assert out.exit_code == 0, out.output
    for role in ("admin", "officer", "volunteer", "resident", "merchant", "partner"):
        assert role in out.output
    assert "wardens-demo" in out.output
