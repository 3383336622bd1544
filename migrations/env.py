"""Alembic environment: core and every plugin branch, on SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import context

from core.db import Base, create_engine
from core.migrate import import_models, owner_of_table

config = context.config
import_models()
PLUGINS: list[str] = config.attributes.get("plugin_names", [])
#: The advisory lock every ``wardens db upgrade`` takes on PostgreSQL ("wardens" in ASCII).
MIGRATION_LOCK = 0x77617264656E73


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """A revision for the core sees core tables only; one for a plugin, that plugin's only."""
    target = config.attributes.get("autogenerate_for")
    if target is None or type_ != "table" or name is None:
        return True
    if reflected and compare_to is None:
        # In the database but in no model: a plugin that is not installed (or not on this
        # machine) keeps its tables, so only the target plugin's own table may be dropped.
        # Dropping a core table is written by hand.
        return target != "core" and owner_of_table(name, [*PLUGINS, target]) == target
    return owner_of_table(name, [*PLUGINS, target] if target != "core" else PLUGINS) == target


@contextlib.contextmanager
def sqlite_keys_checked_at_the_end(connection: sa.Connection) -> Iterator[None]:
    """SQLite alters a table by copying it and dropping the old one (batch mode); with foreign
    keys enforced, that drop fails when rows point at the table, or empties the pointing table
    where it cascades. So the keys are off while the revisions run and checked once after.

    The pragma only takes outside a transaction: a caller's open one keeps the keys on.
    """
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        yield
        return
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migrations left rows pointing at nothing: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two hosts upgrading at once: the second waits here, then finds nothing to do.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK})
            # An index built on a large table may take longer than requests are allowed.
            connection.execute(sa.text("SET LOCAL statement_timeout = 0"))
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    with sqlite_keys_checked_at_the_end(connection):
        run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "",
                           poolclass=sa.pool.NullPool)
    with engine.connect() as conn, sqlite_keys_checked_at_the_end(conn):
        run(conn)
        conn.commit()
    engine.dispose()
