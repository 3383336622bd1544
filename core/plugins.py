"""The plugin platform: plugins.toml, the plugin manager, and per-station switching."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import marshmallow as ma
import pluggy
import sqlalchemy as sa
from sqlalchemy import orm as so

from core import hookspecs, messages
from core.db import Base, Database
from core.hookspecs import PluginInfo, TaskKind
from core.jobs import Job
from core.models import StationPlugin

hookimpl = pluggy.HookimplMarker("wardens")

ENTRY_POINT_GROUP = "wardens.plugins"
CORE_PLUGINS = ("core.defaults",)  # always on, never switchable


class StartupError(Exception):
    """The deployment's configuration is wrong; the message names what to fix."""


@dataclass
class DeploymentConfig:
    """What plugins.toml says: installed plugins, their settings, default points rules."""

    installed: list[str] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    points: dict[str, int] = field(default_factory=dict)
    path: str = ""

    @classmethod
    def load(cls, path: str | Path) -> DeploymentConfig:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StartupError(f"{path}: file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise StartupError(f"{path}: {exc}") from None
        section = dict(data.get("plugins", {}))
        installed = section.pop("installed", [])
        if not isinstance(installed, list) or not all(isinstance(n, str) for n in installed):
            raise StartupError(f"{path}: [plugins] installed must be a list of names")
        for name, value in section.items():
            if name not in installed:
                raise StartupError(f"{path}: [plugins.{name}] is set but {name} is not installed")
            if not isinstance(value, dict):
                raise StartupError(f"{path}: [plugins.{name}] must be a table")
        points = data.get("points", {})
        for code, amount in points.items():
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise StartupError(f"{path}: [points] {code} must be an integer")
        unknown = set(data) - {"plugins", "points"}
        if unknown:
            raise StartupError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
        return cls(list(installed), {k: _resolve_env(k, v) for k, v in section.items()},
                   dict(points), str(path))


def _resolve_env(plugin: str, values: dict[str, Any]) -> dict[str, Any]:
    """Secrets stay out of the file: ``key = {env = "VAR"}`` reads the environment."""
    resolved = {}
    for key, value in values.items():
        if isinstance(value, dict) and set(value) == {"env"}:
            if value["env"] not in os.environ:
                raise StartupError(
                    f"[plugins.{plugin}] {key}: environment variable {value['env']} is not set"
                )
            value = os.environ[value["env"]]
        resolved[key] = value
    return resolved


@dataclass
class InstalledPlugin:
    name: str
    info: PluginInfo
    obj: Any
    defaults: dict[str, Any]  # deployment settings, already validated

    @property
    def url_name(self) -> str:
        return self.name.replace("_", "-")


class Deployment:
    """This deployment's database, plugin manager and installed plugins; built once at start."""

    def __init__(self, database: Database, config: DeploymentConfig) -> None:
        self.database = database
        self.config = config
        self.pm = build_plugin_manager(config)
        self.plugins: dict[str, InstalledPlugin] = {}
        self.task_kinds: dict[str, TaskKind] = {"general": TaskKind("general")}
        self.points_defaults: dict[str, int] = {}
        self._describe()
        self.points_defaults.update(config.points)
        self.jobs = self._collect_jobs()
        database.bind_info({"deployment": self})

    def _describe(self) -> None:
        for impl in self.pm.hook.wardens_describe_plugin.get_hookimpls():
            info: PluginInfo = impl.function()
            owner = self.pm.get_name(impl.plugin)
            if owner in CORE_PLUGINS:
                self.points_defaults.update(info.points_rules)
                messages.register(info.messages, owner)
                continue
            if info.name != owner:
                raise StartupError(f"plugin {owner} describes itself as {info.name!r}")
            if info.name in self.plugins:
                raise StartupError(f"plugin {info.name} is installed twice")
            defaults = validate_settings(info, self.config.settings.get(info.name, {}),
                                         where=f"plugins.toml [plugins.{info.name}]")
            self.plugins[info.name] = InstalledPlugin(info.name, info, impl.plugin, defaults)
            messages.register(info.messages, info.name)
            for kind in info.task_kinds:
                if kind.name in self.task_kinds:
                    raise StartupError(f"task kind {kind.name} of {info.name} is already taken")
                self.task_kinds[kind.name] = kind
            for code, amount in info.points_rules.items():
                if not code.startswith(f"{info.name}."):
                    raise StartupError(f"points rule {code} of {info.name} needs its prefix")
                self.points_defaults[code] = amount
        missing = set(self.config.installed) - set(self.plugins)
        if missing:
            raise StartupError(f"plugin(s) {', '.join(sorted(missing))} did not describe"
                               " themselves (no wardens_describe_plugin)")
        check_table_prefixes(self.plugins.values())

    def _collect_jobs(self) -> list[Job]:
        jobs: list[Job] = []
        names: set[str] = set()
        for impl in self.pm.hook.wardens_scheduled_jobs.get_hookimpls():
            owner = self.pm.get_name(impl.plugin)
            plugin = None if owner in CORE_PLUGINS else owner
            for job in impl.function() or []:
                name = job.name if plugin is None else f"{plugin}.{job.name}"
                if name in names:
                    raise StartupError(f"job {name} is defined twice")
                names.add(name)
                jobs.append(Job(name, job.interval, job.function, job.per_station, plugin))
        return jobs

    # Per-station switching: read per request, never cached across requests, so a switch
    # made through another server process applies at once.
    def enabled_for(self, session: so.Session, station_id: int) -> set[str]:
        cache = session.info.setdefault("enabled_plugins", {})
        if station_id not in cache:
            rows = session.scalars(
                sa.select(StationPlugin.name).where(
                    StationPlugin.station_id == station_id, StationPlugin.enabled.is_(True)
                )
            )
            cache[station_id] = {name for name in rows if name in self.plugins}
        return cache[station_id]

    def is_enabled(self, session: so.Session, station_id: int, name: str) -> bool:
        return name in self.enabled_for(session, station_id)

    def enabled_by_station(self, session: so.Session) -> dict[int, set[str]]:
        result: dict[int, set[str]] = {}
        rows = session.execute(
            sa.select(StationPlugin.station_id, StationPlugin.name).where(
                StationPlugin.enabled.is_(True)
            )
        )
        for station_id, name in rows:
            if name in self.plugins:
                result.setdefault(station_id, set()).add(name)
        return result

    def hooks_for(self, session: so.Session, station_id: int | None) -> Any:
        """The hook relay for a station: switched-off plugins are left out."""
        if station_id is None:
            return self.pm.hook
        enabled = self.enabled_for(session, station_id)
        off = [p.obj for name, p in self.plugins.items() if name not in enabled]
        return _SubsetRelay(self.pm, off) if off else self.pm.hook

    def station_settings(self, session: so.Session, station_id: int, name: str) -> dict[str, Any]:
        """A plugin's settings for a station: plugins.toml defaults with the station's overrides."""
        plugin = self.plugins[name]
        row = session.scalar(
            sa.select(StationPlugin).where(
                StationPlugin.station_id == station_id, StationPlugin.name == name
            )
        )
        merged = {**plugin.defaults, **(row.settings if row else {})}
        schema = plugin.info.settings_schema
        return schema().load(schema().dump(merged)) if schema else merged


class _SubsetRelay:
    def __init__(self, pm: pluggy.PluginManager, remove: list[Any]) -> None:
        self._pm = pm
        self._remove = remove

    def __getattr__(self, name: str) -> Any:
        return self._pm.subset_hook_caller(name, self._remove)


def validate_settings(info: PluginInfo, values: dict[str, Any], *, where: str) -> dict[str, Any]:
    """Load settings through the plugin's schema; a bad value names the key."""
    schema = info.settings_schema
    if schema is None:
        if values:
            raise StartupError(f"{where}: {info.name} takes no settings")
        return {}
    try:
        return schema().load(values)
    except ma.ValidationError as exc:
        raise StartupError(f"{where}: invalid setting(s) {exc.messages}") from None


def build_plugin_manager(config: DeploymentConfig) -> pluggy.PluginManager:
    """Built-ins named in plugins.toml, third-party ones from the entry-point group; others blocked."""
    pm = pluggy.PluginManager("wardens")
    pm.add_hookspecs(hookspecs)
    for module_name in CORE_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    if len(set(config.installed)) != len(config.installed):
        raise StartupError("plugins.toml lists a plugin twice")
    entry_points = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    for name in entry_points:
        if name not in config.installed:
            pm.set_blocked(name)  # never imported
    for name in config.installed:
        if name in entry_points:
            pm.register(entry_points[name].load(), name=name)
            continue
        try:
            module = importlib.import_module(f"plugins.{name}")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"plugins.{name}", "plugins"):
                raise
            raise StartupError(
                f"plugins.toml installs unknown plugin {name!r}: no built-in plugins/{name} and"
                f" no {ENTRY_POINT_GROUP} entry point"
            ) from None
        pm.register(module, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise StartupError(str(exc)) from None
    return pm


def check_table_prefixes(plugins: Any) -> None:
    """Every table a plugin's models define starts with the plugin's name."""
    by_package = {(p.info.package or p.obj.__name__): p.name for p in plugins}
    for mapper in Base.registry.mappers:
        module = mapper.class_.__module__
        for package, name in by_package.items():
            if module == package or module.startswith(package + "."):
                for table in mapper.tables:
                    if not table.name.startswith(f"{name}_"):
                        raise StartupError(
                            f"plugin {name}: table {table.name} must start with {name}_"
                        )


def builtin_migration_folders() -> list[str]:
    """Revision folders of every built-in plugin, switched on or not (their revisions exist)."""
    root = Path(__file__).resolve().parent.parent / "plugins"
    return sorted(str(p) for p in root.glob("*/migrations/versions") if p.is_dir())
