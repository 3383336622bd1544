"""Health endpoints: /healthz answers while the process runs; /readyz names the part that is down
(database, migrations, Redis) with 503, and never a URL or a secret."""

from __future__ import annotations

import pytest

from api import create_app
from core import migrate
from core.db import Database
from core.plugins import Deployment, DeploymentConfig
from tests.fixtures.app import TEST_CONFIG


def _app(deployment, **config):
    return create_app({**TEST_CONFIG, **config}, deployment=deployment)


def test_healthz_says_ok_without_signing_in(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json == {"status": "ok"}
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory, plugins_toml):
    """A database migrated as `wardens db upgrade` does it, for this deployment's plugins."""
    url = f"sqlite:///{tmp_path_factory.mktemp('ready')}/ready.db"
    found = Deployment(Database(url), DeploymentConfig.load(plugins_toml))
    migrate.upgrade(url, extra_folders=found.migration_folders(),
                    plugin_names=found.plugin_names())
    yield found
    found.database.engine.dispose()


def test_readyz_on_a_database_migrated_to_every_head(migrated):
    answer = _app(migrated).test_client().get("/readyz")
    assert answer.status_code == 200, answer.json
    assert answer.json == {"status": "ok", "failing": [],
                           "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_names_a_schema_newer_than_this_machines_code(client):
    # The suite's database also holds the test plugins' revisions, which this deployment's
    # code does not know: as after a newer release migrated it, or a plugin was uninstalled.
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"] == {"database": "ok", "migrations": "ahead"}


def test_readyz_checks_redis_when_the_deployment_uses_it(migrated):
    ready = _app(migrated, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15").test_client()
    answer = ready.get("/readyz")
    assert answer.status_code == 200, answer.json
    assert answer.json["checks"]["redis"] == "ok"
    gone = _app(migrated, RATELIMIT_STORAGE_URI="redis://:hunter2@127.0.0.1:1/0").test_client()
    answer = gone.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["failing"] == ["redis"] and answer.json["checks"]["redis"] == "unreachable"
    assert "hunter2" not in answer.get_data(as_text=True)
    assert "127.0.0.1" not in answer.get_data(as_text=True)


def test_readyz_names_an_unmigrated_database(tmp_path, plugins_toml):
    empty = Deployment(Database(f"sqlite:///{tmp_path}/empty.db"),
                       DeploymentConfig.load(plugins_toml))
    answer = _app(empty).test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json["failing"] == ["migrations"]
    assert answer.json["checks"] == {"database": "ok", "migrations": "behind"}
    empty.database.engine.dispose()


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres:s3cret@127.0.0.1:1/wardens"])
def test_readyz_names_an_unreachable_database_and_hides_its_url(url, plugins_toml):
    down = Deployment(Database(url), DeploymentConfig.load(plugins_toml))
    answer = _app(down).test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json["failing"] == ["database", "migrations"]
    assert answer.json["checks"]["database"] == "unreachable"
    assert "s3cret" not in answer.get_data(as_text=True)
    # the process itself still answers: a liveness probe does not restart it for this
    assert _app(down).test_client().get("/healthz").status_code == 200


@pytest.mark.postgres_only
def test_a_pooled_connection_the_server_dropped_is_replaced_before_it_is_used(
        test_database_url):
    """No ping per checkout (a round trip per request): a connection whose server has gone
    has the server's last word waiting on its socket, and the pool replaces it."""
    import sqlalchemy as sa

    if not test_database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL drops the connection here")
    database = Database(test_database_url, pool_size=1, max_overflow=0)
    admin = sa.create_engine(test_database_url, isolation_level="AUTOCOMMIT")
    try:
        with database.engine.connect() as conn:
            first = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with admin.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({first})").scalar()
            conn.exec_driver_sql(  # until the server has let it go
                f"DO $$ BEGIN WHILE EXISTS (SELECT FROM pg_stat_activity WHERE pid = {first})"
                " LOOP PERFORM pg_sleep(0.05); END LOOP; END $$")
        with database.engine.connect() as conn:
            again = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        assert again != first
    finally:
        admin.dispose()
        database.engine.dispose()
