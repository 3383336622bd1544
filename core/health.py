"""Readiness: is the database reachable, migrated to every head, and Redis reachable if used."""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core import migrate
from core.plugins import Deployment

#: how long a check may take: a load balancer asks often and gives up quickly
TIMEOUT_S = 2.0


@functools.lru_cache(maxsize=8)
def _revisions(folders: tuple[str, ...], names: tuple[str, ...]) -> tuple[frozenset[str],
                                                                         frozenset[str]]:
    """(heads, every revision) on this machine, read from disk once per process."""
    config = migrate.alembic_config(extra_folders=folders, plugin_names=names)
    script = ScriptDirectory.from_config(config)
    return (frozenset(script.get_heads()),
            frozenset(rev.revision for rev in script.walk_revisions()))


def _database(deployment: Deployment) -> tuple[str, str]:
    """(database, migrations): "ok", or a word for what is wrong (never the URL)."""
    wanted, known = _revisions(tuple(deployment.migration_folders()),
                               tuple(deployment.plugin_names()))
    try:
        with deployment.database.reader() as session:  # a read: takes no write lock
            connection = session.connection()
            connection.execute(sa.text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.SQLAlchemyError:
        return "unreachable", "unknown"
    if current == wanted:
        return "ok", "ok"
    # A revision the database has that this machine lacks: code older than the schema.
    return "ok", ("ahead" if current - known else "behind")


def redis_state(url: str) -> str | None:
    """Redis's state: ``ok``, ``unreachable``, or None when the deployment does not use it."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None  # not used: memory:// for one process
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_S,
                                      socket_connect_timeout=TIMEOUT_S)
        client.ping()
        client.close()
    except redis.RedisError:
        return "unreachable"
    return "ok"


def readiness(deployment: Deployment, redis_url: str) -> dict[str, Any]:
    """Each part's state and the failing ones: ready when ``failing`` is empty."""
    checks: dict[str, str] = {}
    checks["database"], checks["migrations"] = _database(deployment)
    cache = redis_state(redis_url)
    if cache is not None:
        checks["redis"] = cache
    failing = sorted(part for part, state in checks.items() if state != "ok")
    return {"status": "unavailable" if failing else "ok", "failing": failing, "checks": checks}
