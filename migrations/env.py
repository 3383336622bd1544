"""Alembic environment: core and every plugin branch, on SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context

from core.db import Base, create_engine
from core.migrate import import_models, owner_of_table

config = context.config
import_models()
PLUGINS: list[str] = config.attributes.get("plugin_names", [])


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


def run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "",
                           poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        run(conn)
        conn.commit()
    engine.dispose()
