"""A deployment on PostgreSQL, many hosts: job slots claimed in one statement per round,
migrations that wait for each other, a statement timeout and pool sizes from the settings."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.db import Database
from core.jobs import run_due_jobs
from core.models import JobRun
from tests.test_sql_counts import statements

ROOT = Path(__file__).resolve().parent.parent
NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def test_a_round_claims_its_due_slots_in_one_statement(world, session, deployment):
    for number in range(12):
        world.station(f"s{number:02d}")
    with statements(deployment.database.engine) as seen:
        ran = run_due_jobs(deployment, NOON, worker="w1")
    claims = [s for s in seen if s.startswith("INSERT INTO job_run")]
    assert len(claims) == 1, claims
    per_station = {job for job, station_id in ran if station_id}
    assert {"core.mark_no_shows", "core.clear_old_positions"} <= per_station
    assert len([1 for job, _s in ran if job == "core.mark_no_shows"]) == 12
    # the next round, in the same slots: nothing offered, nothing claimed, nothing run
    with statements(deployment.database.engine) as again:
        assert run_due_jobs(deployment, NOON + dt.timedelta(seconds=15), worker="w2") == []
    assert not [s for s in again if s.startswith("INSERT INTO job_run")]
    workers = set(session.scalars(sa.select(JobRun.worker)).all())
    assert workers == {"w1"}


@pytest.mark.postgres_only
def test_two_hosts_upgrading_at_once_take_turns(fresh_url, tmp_path):
    env = {**os.environ, "WARDENS_DATABASE_URL": fresh_url, "WARDENS_INSTANCE": str(tmp_path),
           "WARDENS_ENV": "development"}
    upgrades = [subprocess.Popen([sys.executable, "-m", "api.cli", "db", "upgrade"], cwd=ROOT,
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=300)[0] for process in upgrades]
    assert [process.returncode for process in upgrades] == [0, 0], outputs
    engine = sa.create_engine(fresh_url)
    with engine.connect() as connection:
        heads = connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar()
        assert heads == len(set(connection.execute(
            sa.text("SELECT version_num FROM alembic_version")).scalars()))
        assert "station" in sa.inspect(connection).get_table_names()
    engine.dispose()


@pytest.mark.postgres_only
def test_a_runaway_statement_is_cancelled_and_pool_sizes_follow_the_settings(
        test_database_url, monkeypatch):
    monkeypatch.setenv("WARDENS_DB_STATEMENT_TIMEOUT_MS", "300")
    monkeypatch.setenv("WARDENS_DB_POOL_SIZE", "3")
    monkeypatch.setenv("WARDENS_DB_MAX_OVERFLOW", "7")
    database = Database(test_database_url)
    try:
        assert (database.engine.pool.size(), database.engine.pool._max_overflow) == (3, 7)
        with database.engine.connect() as connection:
            assert connection.execute(sa.text("SHOW statement_timeout")).scalar() == "300ms"
            with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
                connection.execute(sa.text("SELECT pg_sleep(2)"))
    finally:
        database.engine.dispose()


@pytest.mark.parametrize("name", ["WARDENS_DB_POOL_SIZE", "WARDENS_DB_STATEMENT_TIMEOUT_MS"])
def test_a_bad_connection_setting_stops_start_up_naming_it(monkeypatch, name):
    from api import config
    from core.plugins import StartupError

    monkeypatch.setenv(name, "lots")
    with pytest.raises(StartupError, match=name):
        config.load({"SECRET_KEY": "x"})
