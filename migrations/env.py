"""Alembic environment: core and every plugin branch, on SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from core.db import Base, create_engine
from core.migrate import import_models, plugin_of_table
from core.plugins import builtin_migration_folders

config = context.config
import_models()
PLUGINS = [__import__("pathlib").Path(f).parent.parent.name for f in builtin_migration_folders()]


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    """A revision for the core sees core tables only; one for a plugin, that plugin's only."""
    target = config.attributes.get("autogenerate_for")
    if target is None or type_ != "table":
        return True
    owner = plugin_of_table(name, PLUGINS + [target]) if target != "core" else \
        plugin_of_table(name, PLUGINS)
    return (owner or "core") == target


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
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        run(conn)
        conn.commit()
