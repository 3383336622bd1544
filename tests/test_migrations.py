"""Migrations: core and plugin branches upgraded together, plugins switched off in plugins.toml,
revisions written on the right branch, and no drift between models and migrations."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from core import migrate
from core.db import Database, create_engine
from core.plugins import Deployment, DeploymentConfig
from tests.sample_plugin import VERSIONS as SAMPLE_VERSIONS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_TABLES = {"sample_note", "sample_event", "sample_tally", "sample_delivery"}


def deployment_of(url: str, installed: list[str]) -> Deployment:
    return Deployment(Database(url), DeploymentConfig.from_dict(
        {"plugins": {"installed": installed}}))


def upgrade(deployment: Deployment) -> None:
    migrate.upgrade(deployment.database.url, extra_folders=deployment.migration_folders(),
                    plugin_names=deployment.plugin_names())


def tables_and_heads(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            heads = set(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
            assert migrate.drift(conn) == []
        return tables, heads
    finally:
        engine.dispose()


def test_the_test_database_built_by_migrations_has_no_drift_plugin_tables_included(deployment):
    # The sample plugin imports its models lazily: the comparison needs them, run alone too.
    import tests.sample_plugin.models  # noqa: F401

    with deployment.database.engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) >= SAMPLE_TABLES
        assert migrate.drift(conn) == []


def test_upgrade_heads_builds_core_and_plugin_tables_and_survives_switching_a_plugin_off(
        fresh_url, sample_site):
    installed = deployment_of(fresh_url, ["sample"])
    assert str(SAMPLE_VERSIONS) in installed.migration_folders()
    upgrade(installed)
    tables, heads = tables_and_heads(fresh_url)
    assert {"station", "station_plugin", "job_run", "notification"} | SAMPLE_TABLES <= tables
    assert "0001_sample" in heads

    # Off in plugins.toml: the plugin is not loaded, yet its recorded revisions are still found.
    switched_off = deployment_of(fresh_url, [])
    assert "sample" not in switched_off.plugins
    assert str(SAMPLE_VERSIONS) in switched_off.migration_folders()
    upgrade(switched_off)
    upgrade(switched_off)
    assert tables_and_heads(fresh_url) == (tables, heads)


def test_a_database_with_revisions_of_a_plugin_gone_from_the_machine_says_so(
        fresh_url, sample_site):
    from core.plugins import StartupError

    migrate.upgrade(fresh_url, extra_folders=[str(SAMPLE_VERSIONS)], plugin_names=["sample"])
    with pytest.raises(StartupError, match="0001_sample.*install that plugin's package again"):
        migrate.upgrade(fresh_url)


def test_wardens_db_upgrade_from_the_command_line(fresh_url, sample_site, tmp_path):
    toml = tmp_path / "plugins.toml"
    toml.write_text('[plugins]\ninstalled = ["sample"]\n')
    env = {**os.environ, "WARDENS_DATABASE_URL": fresh_url, "WARDENS_PLUGINS_TOML": str(toml),
           "WARDENS_INSTANCE": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(sample_site), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "database is up to date" in done.stdout
    tables, heads = tables_and_heads(fresh_url)
    assert tables >= SAMPLE_TABLES and "0001_sample" in heads

    unknown = subprocess.run([sys.executable, "-m", "api.cli", "db", "revision", "-m", "x",
                              "--plugin", "ghost"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
    assert unknown.returncode == 2 and "ghost is not installed" in unknown.stderr


def test_a_plugins_first_revision_starts_its_branch_with_its_tables_only(tmp_path):
    url = f"sqlite:///{tmp_path}/core-only.db"
    migrate.upgrade(url)  # core only: the sample's tables do not exist yet
    folder = tmp_path / "versions"
    script = migrate.revision(url, "sample tables", "sample", folder=str(folder),
                              plugin_names=["sample"], rev_id="0001_sample_again")
    text = Path(script.path).read_text()
    assert Path(script.path).parent == folder
    core_head = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("core@head")
    assert "branch_labels = ('sample',)" in text
    assert f"depends_on = '{core_head.revision}'" in text  # the core as it is now
    assert "down_revision = None" in text
    created = {line.split("'")[1] for line in text.splitlines() if "op.create_table(" in line}
    assert created == SAMPLE_TABLES


def test_later_revisions_land_on_their_branch_and_a_core_revision_ignores_plugin_tables(
        tmp_path):
    url = f"sqlite:///{tmp_path}/all.db"
    folder = tmp_path / "versions"
    shutil.copytree(SAMPLE_VERSIONS, folder)
    migrate.upgrade(url, extra_folders=[str(folder)], plugin_names=["sample"])

    core = migrate.revision(url, "nothing to do", folder=str(tmp_path / "core"),
                            extra_folders=[str(folder)], plugin_names=["sample"],
                            rev_id="0099_core_probe")
    body = Path(core.path).read_text()
    assert "op." not in body  # no plugin table created or dropped
    core_head = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("core@head")
    assert f"down_revision = '{core_head.revision}'" in body

    on_branch = migrate.revision(url, "nothing yet", "sample", folder=str(folder),
                                 plugin_names=["sample"], rev_id="0002_sample")
    text = Path(on_branch.path).read_text()
    assert Path(on_branch.path).parent == folder
    assert "down_revision = '0001_sample'" in text and "branch_labels = None" in text


def test_a_core_revision_never_drops_the_tables_of_a_plugin_it_does_not_know(tmp_path):
    url = f"sqlite:///{tmp_path}/orphan.db"
    migrate.upgrade(url, extra_folders=[str(SAMPLE_VERSIONS)], plugin_names=["sample"])
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE gone_plugin_thing (id INTEGER PRIMARY KEY)")
    engine.dispose()
    core = migrate.revision(url, "probe", folder=str(tmp_path / "core"),
                            extra_folders=[str(SAMPLE_VERSIONS)], plugin_names=["sample"],
                            rev_id="0098_core_probe")
    assert "gone_plugin_thing" not in Path(core.path).read_text()


def test_a_plugins_own_retention_days_become_the_stations_one_setting_the_shorter_wins(
        fresh_url):
    from alembic import command

    from core.models import Station, StationPlugin

    config = migrate.alembic_config(fresh_url)
    command.upgrade(config, "0003_patrol")  # before retention moved to the core
    command.upgrade(config, "0002_care_visits")
    engine = create_engine(fresh_url)
    at = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    try:
        with engine.begin() as conn:
            for sid, settings in ((1, {"tasks": {"accuracy_limit_m": 50}}), (2, {})):
                conn.execute(Station.__table__.insert().values(
                    id=sid, code=f"s{sid}", name=f"s{sid}", timezone="Asia/Shanghai",
                    open_join=False, settings=settings, created_at=at))
            conn.execute(StationPlugin.__table__.insert(), [
                {"station_id": 1, "name": "patrol", "enabled": True, "updated_at": at,
                 "settings": {"position_retention_days": 90, "max_speed_kmh": 20.0}},
                {"station_id": 1, "name": "care_visits", "enabled": True, "updated_at": at,
                 "settings": {"gps_retention_days": 30}},
                {"station_id": 2, "name": "patrol", "enabled": False, "updated_at": at,
                 "settings": {"position_retention_days": 365}}])
        migrate.upgrade(fresh_url)
        with engine.connect() as conn:
            stations = dict(conn.execute(sa.select(Station.id, Station.settings)).all())
            plugins = {(r.station_id, r.name): r.settings
                       for r in conn.execute(sa.select(StationPlugin.__table__))}
    finally:
        engine.dispose()
    assert stations == {1: {"tasks": {"accuracy_limit_m": 50, "position_retention_days": 30}},
                        2: {"tasks": {"position_retention_days": 180}}}
    assert plugins == {(1, "patrol"): {"max_speed_kmh": 20.0}, (1, "care_visits"): {},
                       (2, "patrol"): {}}


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _alembic_rows(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
    finally:
        engine.dispose()


@pytest.fixture
def cli_on(fresh_url, tmp_path, monkeypatch):
    """The wardens command pointed at the fresh database (the repository's plugins.toml)."""
    from click.testing import CliRunner

    from api.cli import cli

    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("WARDENS_DATABASE_URL", fresh_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, ["db", "upgrade", *args])


def test_db_upgrade_prints_each_branchs_revisions_before_applying_them(cli_on, fresh_url):
    planned = cli_on("--dry-run")
    assert planned.exit_code == 0, planned.output
    lines = planned.output.splitlines()
    assert lines[1:3] == ["  core:", "    0001_core  core tables"]
    assert "  patrol:" in lines and "    0001_patrol  patrol tables" in lines
    assert lines[-1] == "dry run: nothing was applied"
    assert "station" not in table_names(fresh_url)

    applied = cli_on()
    assert applied.exit_code == 0, applied.output
    assert applied.output.replace("database is up to date\n", "dry run: nothing was applied\n") \
        == planned.output
    assert "0009_core_delivery_channels" in _alembic_rows(fresh_url)
    again = cli_on()
    assert (again.exit_code, again.output) == (0, "database is up to date: nothing to apply\n")


def test_db_upgrade_refuses_a_database_at_a_revision_newer_than_this_code(cli_on, fresh_url):
    from alembic import command

    command.upgrade(migrate.alembic_config(fresh_url), "0001_core")
    engine = create_engine(fresh_url)
    with engine.begin() as conn:  # as a future Wardens would leave it
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099_core_future'")
    engine.dispose()
    tables = table_names(fresh_url)

    for args in [(), ("--dry-run",)]:
        refused = cli_on(*args)
        assert refused.exit_code == 1
        assert refused.output.count("\n") == 1
        assert "the database is at revision 0099_core_future, which this Wardens does not know" \
            in refused.output and "nothing was changed" in refused.output
    assert _alembic_rows(fresh_url) == {"0099_core_future"}
    assert table_names(fresh_url) == tables and "patrol_route" not in tables
