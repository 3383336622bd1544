"""Alembic, driven from code: upgrade heads, write revisions (core or a plugin's branch), drift."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.db import Base
from core.plugins import builtin_migration_folders

ROOT = Path(__file__).resolve().parent.parent
CORE_VERSIONS = ROOT / "migrations" / "versions"


def import_models(extra_packages: tuple[str, ...] = ()) -> None:
    """Import core and every built-in plugin's models, so the metadata knows every table."""
    importlib.import_module("core.models")
    for folder in builtin_migration_folders():
        package = Path(folder).parent.parent.name
        try:
            importlib.import_module(f"plugins.{package}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"plugins.{package}.models":
                raise
    for package in extra_packages:
        importlib.import_module(package)


def alembic_config(url: str | None = None, connection: sa.Connection | None = None,
                   extra_folders: tuple[str, ...] = ()) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    locations = [str(CORE_VERSIONS), *builtin_migration_folders(), *extra_folders]
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, connection: sa.Connection | None = None,
            extra_folders: tuple[str, ...] = ()) -> None:
    """Bring the database to every head: core and all plugins' branches."""
    command.upgrade(alembic_config(url, connection, extra_folders), "heads")


def revision(url: str, message: str, plugin: str | None = None,
             extra_folders: tuple[str, ...] = ()) -> Any:
    """Autogenerate a revision for the core, or on a plugin's own branch in its package."""
    config = alembic_config(url, extra_folders=extra_folders)
    config.attributes["autogenerate_for"] = plugin or "core"
    script = ScriptDirectory.from_config(config)
    if plugin is None:
        return command.revision(config, message, autogenerate=True, head="core@head")
    folder = ROOT / "plugins" / plugin / "migrations" / "versions"
    for extra in extra_folders:
        if Path(extra).parent.parent.name == plugin:
            folder = Path(extra)
    folder.mkdir(parents=True, exist_ok=True)
    if plugin in script.get_revisions("heads") or _has_branch(script, plugin):
        return command.revision(config, message, autogenerate=True, head=f"{plugin}@head")
    return command.revision(config, message, autogenerate=True, head="base",
                            branch_label=plugin, version_path=str(folder),
                            depends_on="core@head")


def _has_branch(script: ScriptDirectory, label: str) -> bool:
    return any(label in (rev.branch_labels or ()) for rev in script.walk_revisions())


def plugin_of_table(name: str, plugins: list[str]) -> str | None:
    return next((p for p in plugins if name.startswith(f"{p}_")), None)


def drift(connection: sa.Connection) -> list[Any]:
    """Differences between the models and the migrated database (empty when in step)."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True})
    diffs = compare_metadata(context, Base.metadata)
    return [d for d in diffs if not (d[0] == "remove_table" and d[1].name == "alembic_version")]
