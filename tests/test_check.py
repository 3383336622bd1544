"""`wardens check`: a deployment's settings judged before it starts (real SQLite, PostgreSQL and
Redis; closed ports for what is down), one line per problem saying what to set, exit 1."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from api.cli import cli
from tests.fixtures.database import database_url

STRONG = "q7Hk2vXb9LmP4sTz8RwYc3NdFg6JeUa5-Vn1"
REDIS = "redis://127.0.0.1:6379/15"
CLOSED = "127.0.0.1:1"  # nothing listens on port 1: a refused connection at once
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """A sound production deployment's environment on a migrated SQLite database."""
    for name in ("WARDENS_ENV", "WARDENS_RATELIMIT_STORAGE_URI", "WARDENS_PLUGINS_TOML"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("WARDENS_DATABASE_URL", f"sqlite:///{tmp_path}/w.db")
    monkeypatch.setenv("WARDENS_SECRET_KEY", STRONG)
    monkeypatch.setenv("WARDENS_RATELIMIT_STORAGE_URI", REDIS)
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    return monkeypatch


def check(*args):
    return CliRunner().invoke(cli, ["check", *args])


def test_a_sound_deployment_passes(settings, object_store):
    """Two hosts: uploads in an object store (the local S3 stand-in) all of them share."""
    settings.setenv("WARDENS_ENV", "development")  # SQLite is refused only in production
    passed = check("--workers", "4", "--hosts", "2")
    assert passed.exit_code == 0, passed.output
    assert "ready" in passed.output


def test_each_problem_is_one_line_naming_what_to_set(settings, tmp_path):
    settings.setenv("WARDENS_SECRET_KEY", "changeme-changeme-changeme-changeme")
    settings.setenv("WARDENS_RATELIMIT_STORAGE_URI", "memory://")
    failed = check("--workers", "2")
    assert failed.exit_code == 1
    lines = failed.stdout.splitlines()
    assert len(lines) == 3, failed.output
    secret, sqlite, limits = lines
    assert secret.startswith("WARDENS_SECRET_KEY: too weak") and "token_urlsafe" in secret
    assert sqlite.startswith("WARDENS_DATABASE_URL") and "SQLite in production" in sqlite
    assert limits.startswith("WARDENS_RATELIMIT_STORAGE_URI: memory:// with 2 API processes")
    assert "redis://" in limits
    assert "changeme" not in failed.output
    # One process needs no shared store; a key of too few bits is weak however long it is.
    settings.setenv("WARDENS_SECRET_KEY", "ab" * 30 + "cdefghij")
    one = check("--workers", "1").stdout.splitlines()
    assert [line.split()[0].rstrip(":") for line in one] == ["WARDENS_SECRET_KEY",
                                                             "WARDENS_DATABASE_URL"]


def test_an_unset_secret_key_in_production(settings, tmp_path):
    settings.delenv("WARDENS_SECRET_KEY")
    settings.setenv("WARDENS_ENV", "development")
    assert check().exit_code == 0
    settings.setenv("WARDENS_ENV", "production")
    failed = check()
    assert failed.exit_code == 1 and failed.stdout.startswith("WARDENS_SECRET_KEY: not set")
    assert not (tmp_path / "secret_key").exists()  # the check generated none


def test_what_is_down_or_behind(settings, tmp_path):
    settings.setenv("WARDENS_ENV", "development")
    settings.setenv("WARDENS_RATELIMIT_STORAGE_URI", f"redis://:hunter2-redis@{CLOSED}/0")
    settings.setenv("WARDENS_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    failed = check()
    assert failed.exit_code == 1
    assert failed.stdout.splitlines() == [
        "the database is not migrated to this release: run `wardens db upgrade`",
        f"WARDENS_RATELIMIT_STORAGE_URI (redis://:***@{CLOSED}/0): Redis does not answer:"
        " start it, or fix the address"]
    settings.setenv("WARDENS_DATABASE_URL",
                    f"postgresql+psycopg://wardens:hunter2-db@{CLOSED}/wardens")
    down = check()
    assert down.exit_code == 1
    assert down.stdout.splitlines()[0] == (
        f"WARDENS_DATABASE_URL (postgresql+psycopg://wardens:***@{CLOSED}/wardens): the"
        " database does not answer: check the host, port, user and password, and that the"
        " server runs")
    assert "hunter2" not in down.output


def test_firebase_credentials_the_service_user_cannot_read(settings, tmp_path):
    settings.setenv("WARDENS_ENV", "development")
    toml = tmp_path / "plugins.toml"
    toml.write_text('[plugins]\ninstalled = ["firebase"]\n\n[plugins.firebase]\n'
                    f'project_id = "demo-wardens"\ncredentials_file = "{tmp_path}/missing.json"\n')
    settings.setenv("WARDENS_PLUGINS_TOML", str(toml))
    failed = check()
    assert failed.exit_code == 1
    (line,) = failed.stdout.splitlines()
    assert line.startswith(f"WARDENS_PLUGINS_TOML ({toml}):")
    assert "credentials_file: not a readable service-account JSON file" in line


@pytest.mark.postgres_only
def test_a_sound_postgresql_deployment_in_production(settings, object_store):
    server = sa.make_url(database_url())
    name = f"wardens_check_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        settings.setenv("WARDENS_ENV", "production")
        settings.setenv("WARDENS_DATABASE_URL",
                        server.set(database=name).render_as_string(hide_password=False))
        behind = check()
        assert behind.exit_code == 1 and "wardens db upgrade" in behind.stdout
        assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
        passed = check("--workers", "4", "--hosts", "2")
        assert passed.exit_code == 0, passed.output
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
