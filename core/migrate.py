"""Alembic, driven from code: upgrade heads, write revisions (core or a plugin's branch), drift."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from core.db import Base, create_engine
from core.plugins import StartupError, builtin_migration_folders, builtin_plugin_names

ROOT = Path(__file__).resolve().parent.parent
CORE_VERSIONS = ROOT / "migrations" / "versions"


def import_models() -> None:
    """Import core and every built-in plugin's models, so the metadata knows every table."""
    importlib.import_module("core.models")
    for name in builtin_plugin_names():
        try:
            importlib.import_module(f"plugins.{name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"plugins.{name}.models":
                raise


def alembic_config(url: str | None = None, connection: sa.Connection | None = None,
                   extra_folders: Iterable[str] = (), plugin_names: Iterable[str] = ()) -> Config:
    """One environment: core revisions, every built-in plugin's, and the given folders."""
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    locations = [str(CORE_VERSIONS), *builtin_migration_folders(), *extra_folders]
    config.set_main_option("version_locations", " ".join(dict.fromkeys(locations)))
    config.set_main_option("path_separator", "space")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    config.attributes["plugin_names"] = sorted({*builtin_plugin_names(), *plugin_names})
    return config


@dataclass(frozen=True)
class Step:
    """One revision an upgrade applies: its branch (core or a plugin), id and message."""

    branch: str
    revision: str
    message: str


def _unknown(revisions: Iterable[str]) -> StartupError:
    named = ", ".join(sorted(revisions))
    return StartupError(
        f"the database is at revision {named}, which this Wardens does not know: a newer Wardens"
        " wrote it (upgrade the code first) or a plugin whose migrations are not on this machine"
        " (install that plugin's package again); nothing was changed")


def pending(url: str | None = None, connection: sa.Connection | None = None,
            extra_folders: Iterable[str] = (), plugin_names: Iterable[str] = ()) -> list[Step]:
    """The revisions ``upgrade`` would apply, in the order it applies them.

    Raises StartupError when the database records a revision this code does not know: an
    upgrade from there would be a guess, so it is refused before anything changes.
    """
    config = alembic_config(url, extra_folders=extra_folders, plugin_names=plugin_names)
    script = ScriptDirectory.from_config(config)
    current = set(_current_heads(url, connection))
    known = {rev.revision for rev in script.walk_revisions()}
    if current - known:
        raise _unknown(current - known)
    applied = {rev.revision for rev in script.iterate_revisions(tuple(current), "base")}
    return [Step(min(rev.branch_labels or {"core"}), rev.revision, rev.doc or "")
            for rev in reversed(list(script.walk_revisions())) if rev.revision not in applied]


def _current_heads(url: str | None, connection: sa.Connection | None) -> tuple[str, ...]:
    if connection is not None:
        return MigrationContext.configure(connection).get_current_heads()
    engine = create_engine(url or "", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_heads()
    finally:
        engine.dispose()


def upgrade(url: str | None = None, connection: sa.Connection | None = None,
            extra_folders: Iterable[str] = (), plugin_names: Iterable[str] = ()) -> None:
    """Bring the database to every head: core and all plugins' branches."""
    config = alembic_config(url, connection, extra_folders, plugin_names)
    try:
        command.upgrade(config, "heads")
    except CommandError as exc:
        match = re.search(r"Can't locate revision identified by '([^']+)'", str(exc))
        if match:
            raise _unknown([match.group(1)]) from None
        raise


def revision(url: str, message: str, plugin: str | None = None, *, folder: str | None = None,
             extra_folders: Iterable[str] = (), plugin_names: Iterable[str] = (),
             rev_id: str | None = None) -> Any:
    """Autogenerate a revision for the core, or on a plugin's own branch in its package.

    Autogenerate cannot compare against several heads at once, so each revision is written on
    one branch and sees only that branch's tables (see ``migrations/env.py``). A plugin's first
    revision starts its branch: ``branch_labels=(plugin,)``, ``depends_on`` the core head.
    ``folder`` is where the file goes (default: ``migrations/versions`` for the core,
    ``plugins/<plugin>/migrations/versions`` for a built-in plugin).
    """
    names = {*plugin_names, *([plugin] if plugin else [])}
    default = CORE_VERSIONS if plugin is None else ROOT / "plugins" / plugin / "migrations" / "versions"
    target = Path(folder) if folder else default
    target.mkdir(parents=True, exist_ok=True)
    config = alembic_config(url, extra_folders=[*extra_folders, str(target)], plugin_names=names)
    config.attributes["autogenerate_for"] = plugin or "core"
    options: dict[str, Any] = {"autogenerate": True, "version_path": str(target),
                               "rev_id": rev_id}
    if plugin is None:
        return command.revision(config, message, head="core@head", **options)
    script = ScriptDirectory.from_config(config)
    if _has_branch(script, plugin):
        return command.revision(config, message, head=f"{plugin}@head", **options)
    core_head = script.get_revision("core@head")
    return command.revision(config, message, head="base", branch_label=plugin,
                            depends_on=core_head.revision if core_head else None, **options)


def _has_branch(script: ScriptDirectory, label: str) -> bool:
    return any(label in (rev.branch_labels or ()) for rev in script.walk_revisions())


def owner_of_table(name: str, plugins: Iterable[str]) -> str:
    """The plugin whose prefix the table carries (the longest one), else "core"."""
    owners = [p for p in plugins if name.startswith(f"{p}_")]
    return max(owners, key=len) if owners else "core"


def drift(connection: sa.Connection) -> list[Any]:
    """Differences between the models and the migrated database (empty when in step)."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True})
    diffs = compare_metadata(context, Base.metadata)
    return [d for d in diffs if not (d[0] == "remove_table" and d[1].name == "alembic_version")]
