"""``wardens check``: a deployment's settings judged before it starts, one line per problem."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa

from api import config
from core import health
from core.db import Database
from core.plugins import Deployment, DeploymentConfig, StartupError

# What each failing part of /readyz means for someone about to start the service.
READINESS = {
    ("migrations", "behind"): "the database is not migrated to this release: run"
                              " `wardens db upgrade`",
    ("migrations", "ahead"): "the database holds a newer schema than this code: install the"
                             " release (and every plugin package) that migrated it",
}


def _settings() -> dict[str, Any]:
    # The key as the environment gives it: never one generated into the instance folder.
    return config.load({"SECRET_KEY": os.environ.get("WARDENS_SECRET_KEY", "")})


def refusals(processes: int) -> list[str]:
    """What a half-configured production deployment lacks, one line each with what to set:
    ``serve`` and ``worker`` refuse to start on any of them, ``wardens check`` prints them too.

    Read from the settings alone (nothing is connected to), in production only (a development
    set-up on one machine starts as it is): a secret key that is missing or weak, SQLite, or
    sign-in limits in memory shared by ``processes`` > 1 server processes.
    """
    try:
        settings = _settings()
    except (StartupError, ValueError) as exc:
        return [f"settings: {exc}"]
    return _refusals(settings, processes) if settings["ENV"] == "production" else []


def problems(processes: int) -> list[str]:
    """Each thing that would stop or weaken the deployment, with what to set; none: it may start.

    :param processes: API server processes across every host (``serve --workers`` times hosts).
    """
    try:
        settings = _settings()
    except (StartupError, ValueError) as exc:
        return [f"settings: {exc}"]
    return [*_refusals(settings, processes), *_database(settings),
            *_redis(settings["RATELIMIT_STORAGE_URI"])]


def _refusals(settings: dict[str, Any], processes: int) -> list[str]:
    return [*_secret_key(settings), *_sqlite_in_production(settings),
            *_memory_limits(settings["RATELIMIT_STORAGE_URI"], processes)]


def _secret_key(settings: dict[str, Any]) -> list[str]:
    key = settings["SECRET_KEY"]
    if not key:
        if settings["ENV"] != "production":
            return []
        return ["WARDENS_SECRET_KEY: not set (each host would generate its own and refuse the"
                f" others' tokens): set it, the same on every host, to the output of {config.NEW_SECRET}"]
    if config.weak_secret(key):
        return [f"WARDENS_SECRET_KEY: too weak (at least {config.MIN_SECRET_LENGTH} random"
                f" characters, {config.MIN_SECRET_BITS} bits): set it to the output of"
                f" {config.NEW_SECRET}"]
    return []


def _database(settings: dict[str, Any]) -> list[str]:
    try:
        url = sa.engine.make_url(settings["DATABASE_URL"])
    except sa.exc.ArgumentError:
        return ["WARDENS_DATABASE_URL: not a database URL: set it like"
                " postgresql+psycopg://USER:PASSWORD@HOST:5432/wardens"]
    shown = url.render_as_string(hide_password=True)
    found: list[str] = []
    # A host that drops packets must not hold the check for minutes.
    options = {"connect_args": {"connect_timeout": 5}} if url.get_backend_name() == "postgresql" else {}
    database = Database(settings["DATABASE_URL"], **options)
    try:
        try:
            deployment = Deployment(database, DeploymentConfig.load(settings["PLUGINS_TOML"]))
        except StartupError as exc:
            # A plugin's settings, e.g. Firebase credentials the service user cannot read.
            found.append(f"WARDENS_PLUGINS_TOML ({settings['PLUGINS_TOML']}): {exc}")
            if not _answers(database):
                found.append(_unreachable(shown))
            return found
        checks = health.readiness(deployment, "memory://")["checks"]
    finally:
        database.engine.dispose()
    if checks["database"] != "ok":
        return [*found, _unreachable(shown)]
    if checks["migrations"] != "ok":
        found.append(READINESS[("migrations", checks["migrations"])])
    return found


def _sqlite_in_production(settings: dict[str, Any]) -> list[str]:
    try:
        url = sa.engine.make_url(settings["DATABASE_URL"])
    except sa.exc.ArgumentError:
        return []  # _database says so
    if url.get_backend_name() != "sqlite" or settings["ENV"] != "production":
        return []
    # A host without WARDENS_DATABASE_URL would quietly run a database of its own.
    return [f"WARDENS_DATABASE_URL ({url.render_as_string(hide_password=True)}): SQLite in"
            " production: set it to a PostgreSQL database,"
            " postgresql+psycopg://USER:PASSWORD@HOST:5432/wardens"]


def _answers(database: Database) -> bool:
    try:
        with database.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return False
    return True


def _unreachable(shown: str) -> str:
    return (f"WARDENS_DATABASE_URL ({shown}): the database does not answer: check the host, port,"
            " user and password, and that the server runs")


def _memory_limits(uri: str, processes: int) -> list[str]:
    if not uri.startswith("memory://") or processes <= 1:
        return []
    return [f"WARDENS_RATELIMIT_STORAGE_URI: memory:// with {processes} API processes: each"
            " keeps its own sign-in limits, so every budget is that many times larger: set"
            " it to a Redis all of them share, redis://HOST:6379/0"]


def _redis(uri: str) -> list[str]:
    if uri.startswith("memory://"):
        return []
    if health.redis_state(uri) == "unreachable":
        try:
            shown = sa.engine.make_url(uri).render_as_string(hide_password=True)
        except sa.exc.ArgumentError:
            shown = "its address"
        return [f"WARDENS_RATELIMIT_STORAGE_URI ({shown}): Redis does not answer: start it, or"
                " fix the address"]
    return []
