"""The plugin platform: plugins.toml, the plugin manager, and per-station switching."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import marshmallow as ma
import pluggy
import sqlalchemy as sa
from sqlalchemy import orm as so

from core import hookspecs, messages, retention
from core.access import STATION_VERSIONS
from core.db import Base, Database
from core.hookspecs import PluginInfo, RetainedPositions, TaskKind
from core.jobs import Job
from core.models import Station, StationPlugin

log = logging.getLogger(__name__)

hookimpl = pluggy.HookimplMarker("wardens")

ENTRY_POINT_GROUP = "wardens.plugins"
# The transaction's view of each station's switches (a StationSwitches, from the process's
# cache or read afresh); dropped by Deployment.forget_switches and at the transaction's end.
ROWS_CACHE = "station_plugin_rows"


@sa.event.listens_for(so.Session, "after_transaction_end")
def _forget_at_transaction_end(session: so.Session, transaction: so.SessionTransaction) -> None:
    # Kept for one transaction (a request's, a job's): the next one looks again. A savepoint
    # ending inside it changes nothing.
    if transaction.parent is not None:
        return
    session.info.pop(ROWS_CACHE, None)
    session.info.pop(STATION_VERSIONS, None)


@dataclass
class StationSwitches:
    """A station's plugin switches and settings overrides as of one ``plugins_version``, with
    the settings loaded from them (per plugin, as the plugin's schema and typed form give)."""

    version: int
    rows: dict[str, tuple[bool, dict[str, Any]]]
    loaded: dict[str, dict[str, Any]] = field(default_factory=dict)
    typed: dict[str, Any] = field(default_factory=dict)

    @property
    def enabled(self) -> set[str]:
        return {name for name, (on, _) in self.rows.items() if on}


CORE_PLUGIN = "core.defaults"  # the core's own hook implementations: always on, never switchable
PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
ROOT = Path(__file__).resolve().parent.parent
BUILTIN_ROOT = ROOT / "plugins"


class StartupError(Exception):
    """The deployment's configuration is wrong; the message names what to fix."""


# plugins.toml ----------------------------------------------------------------------------------

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
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: str = "plugins.toml") -> DeploymentConfig:
        unknown = set(data) - {"plugins", "points"}
        if unknown:
            raise StartupError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
        section = dict(data.get("plugins", {}))
        installed = section.pop("installed", [])
        if not isinstance(installed, list) or not all(isinstance(n, str) for n in installed):
            raise StartupError(f"{path}: [plugins] installed must be a list of names")
        for name in installed:
            if not PLUGIN_NAME.match(name):
                raise StartupError(f"{path}: [plugins] installed: {name!r} is not a plugin name"
                                   " (lowercase letters, digits and _)")
        twice = sorted({n for n in installed if installed.count(n) > 1})
        if twice:
            raise StartupError(f"{path}: [plugins] installed lists {', '.join(twice)} twice")
        for name, value in section.items():
            if name not in installed:
                raise StartupError(f"{path}: [plugins.{name}] is set but {name} is not installed")
            if not isinstance(value, dict):
                raise StartupError(f"{path}: [plugins.{name}] must be a table")
        points = dict(data.get("points", {}))
        for code, amount in points.items():
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise StartupError(f"{path}: [points] {code} must be an integer")
            owner = code.split(".", 1)[0]
            if "." not in code or (owner != "core" and owner not in installed):
                raise StartupError(f"{path}: [points] {code}: an event code is <plugin>.<event>"
                                   " of the core or an installed plugin")
        settings = {name: _resolve_env(name, values) for name, values in section.items()}
        return cls(list(installed), settings, points, path)


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


# The plugin manager ----------------------------------------------------------------------------

def builtin_plugin_names() -> list[str]:
    """The plugins shipped in ``plugins/``."""
    if not BUILTIN_ROOT.is_dir():
        return []
    return sorted(p.name for p in BUILTIN_ROOT.iterdir()
                  if (p / "__init__.py").is_file() and PLUGIN_NAME.match(p.name))


def builtin_migration_folders() -> list[str]:
    """Revision folders of every built-in plugin, installed or not (their revisions exist)."""
    return sorted(str(p) for p in BUILTIN_ROOT.glob("*/migrations/versions") if p.is_dir())


def discover_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    """Third-party plugins offered by installed distributions; a name offered twice stops start-up."""
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        other = found.get(ep.name)
        if other is not None and other.value != ep.value:
            raise StartupError(
                f"plugin {ep.name} is offered twice: by {_dist_name(other)} ({other.value}) and"
                f" by {_dist_name(ep)} ({ep.value})"
            )
        found[ep.name] = ep
    clash = sorted(set(found) & set(builtin_plugin_names()))
    if clash:
        raise StartupError(f"plugin {clash[0]} is built in and also offered by"
                           f" {_dist_name(found[clash[0]])}: uninstall one of them")
    return found


def _dist_name(ep: importlib.metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "an unknown distribution"


def build_plugin_manager(config: DeploymentConfig,
                         entry_points: dict[str, importlib.metadata.EntryPoint] | None = None,
                         ) -> pluggy.PluginManager:
    """Built-ins named in plugins.toml, third-party ones from the entry-point group; others blocked."""
    pm = pluggy.PluginManager("wardens")
    pm.add_hookspecs(hookspecs)
    pm.register(importlib.import_module(CORE_PLUGIN), name=CORE_PLUGIN)
    entry_points = discover_entry_points() if entry_points is None else entry_points
    for name in [*entry_points, *builtin_plugin_names()]:
        if name not in config.installed:
            pm.set_blocked(name)  # never imported
    for name in config.installed:
        obj = _load(name, entry_points.get(name))
        try:
            pm.register(obj, name=name)
        except ValueError as exc:
            raise StartupError(f"plugin {name}: {exc}") from None
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise StartupError(f"plugin {pm.get_name(exc.plugin)}: {exc}") from None
    return pm


def _load(name: str, ep: importlib.metadata.EntryPoint | None) -> Any:
    if ep is not None:
        try:
            return ep.load()
        except Exception as exc:
            raise StartupError(f"plugin {name}: cannot load {ep.value} from"
                               f" {_dist_name(ep)}: {exc!r}") from None
    try:
        return importlib.import_module(f"plugins.{name}")
    except ModuleNotFoundError as exc:
        if exc.name not in (f"plugins.{name}", "plugins"):
            raise StartupError(f"plugin {name}: cannot import plugins.{name}: {exc!r}") from exc
    except Exception as exc:
        raise StartupError(f"plugin {name}: cannot import plugins.{name}: {exc!r}") from exc
    raise StartupError(f"plugins.toml installs unknown plugin {name!r}: there is no built-in"
                       f" plugins/{name} and no {ENTRY_POINT_GROUP} entry point named {name}")


def validate_settings(info: PluginInfo, values: dict[str, Any], *, where: str) -> dict[str, Any]:
    """Check settings against the plugin's schema at start-up; a bad value names the key."""
    try:
        loaded = load_settings(info, values)
    except ma.ValidationError as exc:
        problems = "; ".join(f"{key}: {_flatten(msgs)}" for key, msgs in
                             sorted(_as_dict(exc.messages).items()))
        raise StartupError(f"{where}: invalid setting {problems}") from None
    if info.check_deployment is not None:
        try:
            info.check_deployment(loaded)
        except ValueError as exc:
            raise StartupError(f"{where}: invalid setting {exc}") from None
    return dict(values)


def load_settings(info: PluginInfo, values: dict[str, Any]) -> dict[str, Any]:
    """Settings as the plugin reads them; raises ``marshmallow.ValidationError`` naming the keys."""
    if info.settings_schema is None:
        if values:
            raise ma.ValidationError({key: ["This plugin takes no settings."] for key in values})
        return {}
    return info.settings_schema().load(values)


def secret_settings(info: PluginInfo) -> list[str]:
    """The settings whose values the API never shows (``metadata={"secret": True}``)."""
    if info.settings_schema is None:
        return []
    fields = info.settings_schema().fields
    return sorted(f.data_key or name for name, f in fields.items() if f.metadata.get("secret"))


def deployment_settings(info: PluginInfo) -> list[str]:
    """The settings set in plugins.toml only (``metadata={"deployment": True}``): a station
    never overrides them (a file path, a project, a network timeout...)."""
    if info.settings_schema is None:
        return []
    fields = info.settings_schema().fields
    return sorted(f.data_key or name for name, f in fields.items()
                  if f.metadata.get("deployment"))


def station_overrides_only(info: PluginInfo, overrides: dict[str, Any]) -> dict[str, Any]:
    """A station's stored overrides without deployment settings (stored before they were
    marked so: never applied)."""
    refused = set(deployment_settings(info))
    return {key: value for key, value in overrides.items() if key not in refused}


def _as_dict(messages_: Any) -> dict[str, Any]:
    return messages_ if isinstance(messages_, dict) else {"_schema": messages_}


def _flatten(msgs: Any) -> str:
    if isinstance(msgs, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in msgs.items())
    if isinstance(msgs, list):
        return " ".join(str(m) for m in msgs)
    return str(msgs)


# The deployment --------------------------------------------------------------------------------

@dataclass
class InstalledPlugin:
    name: str
    info: PluginInfo
    obj: Any
    #: plugins.toml settings as written (secrets resolved), already validated.
    defaults: dict[str, Any]
    source: str = "built-in"

    @property
    def url_name(self) -> str:
        return self.name.replace("_", "-")

    @property
    def package(self) -> str:
        return self.info.package or getattr(self.obj, "__name__", type(self.obj).__module__)


class Deployment:
    """This deployment's database, plugin manager and installed plugins; built once at start."""

    def __init__(self, database: Database, config: DeploymentConfig) -> None:
        self.database = database
        self.config = config
        self.entry_points = discover_entry_points()
        self.pm = build_plugin_manager(config, self.entry_points)
        self.plugins: dict[str, InstalledPlugin] = {}
        self.task_kinds: dict[str, TaskKind] = {"general": TaskKind("general")}
        #: group kind -> the plugin whose duty it grants (``PluginInfo.group_kinds``).
        self.group_kinds: dict[str, str] = {}
        #: task kind -> the plugin that owns it (None for the core's own)
        self.kind_owners: dict[str, str | None] = {"general": None}
        self.points_defaults: dict[str, int] = {}
        self.retained_positions: list[RetainedPositions] = []
        #: station id -> its switches as last read by this process (see ``switches``)
        self._switches: dict[int, StationSwitches] = {}
        self._describe()
        self.points_defaults.update(config.points)
        self.jobs = self._collect_jobs()
        self.station_sections, self.station_section_owner = self._collect_station_sections()
        #: report name -> (the owning plugin, None for the core's; the report)
        self.reports = self._collect_reports()
        database.bind_info({"deployment": self})
        if not self.proves_phones():
            log.warning("no text-message plugin (sms_aliyun, sms_tencent) and no sign-in provider"
                        " (firebase) is installed: phones cannot be verified, and seats reserved"
                        " for a number cannot be claimed; codes only reach the log")

    def proves_phones(self) -> bool:
        """Whether a plugin can prove a phone: it sends texts or vouches for sign-ins."""
        return any(self.pm.get_name(impl.plugin) != CORE_PLUGIN
                   for hook in ("wardens_send_text", "wardens_verify_identity")
                   for impl in getattr(self.pm.hook, hook).get_hookimpls())

    def _describe(self) -> None:
        for impl in self.pm.hook.wardens_describe_plugin.get_hookimpls():
            info = self.call_one("wardens_describe_plugin", impl.plugin)
            owner = self.pm.get_name(impl.plugin)
            if not isinstance(info, PluginInfo):
                raise StartupError(f"plugin {owner}: wardens_describe_plugin must return a"
                                   f" PluginInfo, not {info!r}")
            self.retained_positions.extend(info.retained_positions)
            if owner == CORE_PLUGIN:
                self.points_defaults.update(info.points_rules)
                messages.register(info.messages, owner)
                continue
            if info.name != owner:
                raise StartupError(f"plugin {owner} describes itself as {info.name!r}")
            defaults = validate_settings(info, self.config.settings.get(owner, {}),
                                         where=f"plugins.toml [plugins.{owner}]")
            ep = self.entry_points.get(owner)
            source = f"{_dist_name(ep)} ({ep.value})" if ep is not None else "built-in"
            self.plugins[owner] = InstalledPlugin(owner, info, impl.plugin, defaults, source)
            try:
                messages.register(info.messages, owner)
                messages.register_notifications(info.notifications, owner)
                messages.register_field_messages(info.field_messages, owner)
            except ValueError as exc:
                raise StartupError(f"plugin {owner}: {exc}") from None
            for kind in info.task_kinds:
                if kind.name in self.task_kinds:
                    raise StartupError(f"plugin {owner}: task kind {kind.name} is already taken")
                if kind.no_show_from not in ("start", "end"):
                    raise StartupError(f"plugin {owner}: task kind {kind.name}: no_show_from is"
                                       " 'start' or 'end'")
                self.task_kinds[kind.name] = kind
                self.kind_owners[kind.name] = owner
            for group_kind in info.group_kinds:
                if group_kind in self.group_kinds:
                    raise StartupError(f"plugin {owner}: group kind {group_kind} is already"
                                       f" owned by {self.group_kinds[group_kind]}")
                self.group_kinds[group_kind] = owner
            for code, amount in info.points_rules.items():
                if not code.startswith(f"{owner}."):
                    raise StartupError(f"plugin {owner}: points rule {code} must start with"
                                       f" {owner}.")
                self.points_defaults[code] = amount
        missing = [n for n in self.config.installed if n not in self.plugins]
        if missing:
            raise StartupError(f"plugin {', '.join(missing)} does not describe itself"
                               " (no wardens_describe_plugin hook)")
        check_table_prefixes(self.plugins.values())
        for spec in self.retained_positions:
            problem = retention.check(spec)
            if problem is not None:
                raise StartupError(f"retained_positions: {problem}")

    def _collect_jobs(self) -> list[Job]:
        jobs: list[Job] = []
        names: set[str] = set()
        for impl in self.pm.hook.wardens_scheduled_jobs.get_hookimpls():
            owner = self.pm.get_name(impl.plugin)
            prefix = "core" if owner == CORE_PLUGIN else owner
            for job in _listed(self.call_one("wardens_scheduled_jobs", impl.plugin)):
                name = f"{prefix}.{job.name}"
                if name in names:
                    raise StartupError(f"job {name} is defined twice")
                if job.interval.total_seconds() < 1:
                    raise StartupError(f"job {name}: the interval must be at least a second")
                names.add(name)
                plugin = None if owner == CORE_PLUGIN else owner
                jobs.append(Job(name, job.interval, job.function, job.per_station, plugin))
        return jobs

    def _collect_station_sections(self) -> tuple[dict[str, Any], dict[str, str | None]]:
        found: list[Any] = []
        owners: dict[str, str | None] = {}
        for impl in self.pm.hook.wardens_station_sections.get_hookimpls():
            owner = self.pm.get_name(impl.plugin)
            for section in _listed(self.call_one("wardens_station_sections", impl.plugin)):
                if owner != CORE_PLUGIN and section.name != owner:
                    raise StartupError(f"plugin {owner}: its station file section must be"
                                       f" named {owner}, not {section.name}")
                if section.name in owners:
                    raise StartupError(f"station file section {section.name} is defined twice")
                owners[section.name] = None if owner == CORE_PLUGIN else owner
                found.append(section)
        found.sort(key=lambda s: (s.order, s.name))
        return {s.name: s for s in found}, owners

    def _collect_reports(self) -> dict[str, tuple[str | None, Any]]:
        found: dict[str, tuple[str | None, Any]] = {}
        for impl in self.pm.hook.wardens_reports.get_hookimpls():
            owner = self.pm.get_name(impl.plugin)
            prefix = "core" if owner == CORE_PLUGIN else owner
            for report in _listed(self.call_one("wardens_reports", impl.plugin)):
                if not report.name.startswith(f"{prefix}."):
                    raise StartupError(f"plugin {prefix}: report {report.name} must start with"
                                       f" {prefix}.")
                if report.name in found:
                    raise StartupError(f"report {report.name} is defined twice")
                found[report.name] = (None if owner == CORE_PLUGIN else owner, report)
        return found

    # Per-station switching. Each process keeps the switches it read, per station, with the
    # station's plugins_version at that moment; the version is read with the actor (no query
    # more), and a switch made through any process or host changes it in the same transaction
    # (a trigger), so the next request everywhere reads the switches afresh.
    def switches(self, session: so.Session, station_id: int) -> StationSwitches:
        """The station's switches as this transaction sees them: from the process's cache when
        the version read with the actor still matches, else one query (version and rows)."""
        held = session.info.setdefault(ROWS_CACHE, {})
        found: StationSwitches | None = held.get(station_id)
        if found is not None:
            return found
        known = session.info.get(STATION_VERSIONS, {}).get(station_id)
        found = self._switches.get(station_id)
        if found is None or known is None or found.version != known:
            rows = session.execute(
                sa.select(Station.plugins_version, StationPlugin.name, StationPlugin.enabled,
                          StationPlugin.settings)
                .outerjoin(StationPlugin, StationPlugin.station_id == Station.id)
                .where(Station.id == station_id)).all()
            found = StationSwitches(
                rows[0][0] if rows else 0,
                {name: (bool(enabled), dict(settings or {}))
                 for _, name, enabled, settings in rows if name in self.plugins})
            if rows:
                # Rows and version come from one statement: never newer rows under an older
                # version. A version this transaction wrote and then rolled back is random and
                # never seen again, so keeping it misleads nobody.
                self._switches[station_id] = found
        held[station_id] = found
        return found

    def station_rows(self, session: so.Session,
                     station_id: int) -> dict[str, tuple[bool, dict[str, Any]]]:
        """Each installed plugin's switch and settings overrides for the station."""
        return self.switches(session, station_id).rows

    def enabled_for(self, session: so.Session, station_id: int) -> set[str]:
        """The installed plugins the station has switched on."""
        return self.switches(session, station_id).enabled

    @staticmethod
    def forget_switches(session: so.Session) -> None:
        """After changing a switch or a setting: this transaction reads them again (its own
        change included); every process does at its next request (the version changed)."""
        session.info.pop(ROWS_CACHE, None)
        session.info.pop(STATION_VERSIONS, None)

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
        """The hook relay for a station: switched-off plugins are left out (None: all installed)."""
        if station_id is None:
            return self.pm.hook
        enabled = self.enabled_for(session, station_id)
        off = [p.obj for name, p in self.plugins.items() if name not in enabled]
        return _SubsetRelay(self.pm, off) if off else self.pm.hook

    def results_by_plugin(self, session: so.Session, station_id: int, hook: str, /,
                          **kwargs: Any) -> dict[str, Any]:
        """Call ``hook`` on each plugin switched on for the station; its answer under its name.

        Each plugin is called through pluggy (a caller holding that plugin alone), so an
        implementation declaring only some of the hook's parameters gets just those.
        """
        enabled = self.enabled_for(session, station_id)
        results: dict[str, Any] = {}
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            name = self.pm.get_name(impl.plugin)
            if name in enabled:
                results[name] = self.call_one(hook, impl.plugin, **kwargs)
        return results

    def call_one(self, hook: str, plugin: Any, /, **kwargs: Any) -> Any:
        """One plugin's answer to ``hook``, called through pluggy (None when it answers none).

        A caller holding that plugin alone, so an implementation declaring only some of the
        hook's parameters gets just those, as everywhere else hooks are called.
        """
        others = [impl.plugin for impl in getattr(self.pm.hook, hook).get_hookimpls()
                  if impl.plugin is not plugin]
        answers = self.pm.subset_hook_caller(hook, others)(**kwargs)
        if isinstance(answers, list):
            return answers[0] if answers else None
        return answers

    def disabled_kinds(self, session: so.Session, station_id: int) -> set[str]:
        """Task kinds whose plugin the station has switched off: out of every list."""
        enabled = self.enabled_for(session, station_id)
        return {kind for kind, owner in self.kind_owners.items()
                if owner is not None and owner not in enabled}

    def station_overrides(self, session: so.Session, station_id: int, name: str) -> dict[str, Any]:
        """The station's own settings of a plugin (read with the switches, no query more)."""
        return dict(self.station_rows(session, station_id).get(name, (False, {}))[1])

    def station_settings(self, session: so.Session, station_id: int, name: str) -> dict[str, Any]:
        """A plugin's settings for a station: plugins.toml values with the station's overrides,
        loaded through the plugin's schema (defaults and types applied); loaded once per
        version of the station's switches in this process."""
        switches = self.switches(session, station_id)
        loaded = switches.loaded.get(name)
        if loaded is None:
            plugin = self.plugins[name]
            overrides = station_overrides_only(
                plugin.info, dict(switches.rows.get(name, (False, {}))[1]))
            loaded = switches.loaded[name] = load_settings(
                plugin.info, {**plugin.defaults, **overrides})
        return dict(loaded)

    # Migrations --------------------------------------------------------------------------------
    def migration_folders(self) -> list[str]:
        """Every folder of plugin revisions the database may have recorded.

        Built-ins always; installed third-party plugins through ``wardens_migration_folders``;
        third-party plugins offered but not installed by their ``migrations/versions`` folder,
        found without importing them.
        """
        folders = list(builtin_migration_folders())
        for group in self.pm.hook.wardens_migration_folders():
            folders.extend(str(Path(f).resolve()) for f in group or [])
        for name, ep in self.entry_points.items():
            if name not in self.plugins:
                folder = _package_folder(ep.module)
                if folder is not None and (folder / "migrations" / "versions").is_dir():
                    folders.append(str(folder / "migrations" / "versions"))
        return list(dict.fromkeys(folders))

    def plugin_migration_folders(self, name: str) -> list[str]:
        """The revision folders a plugin hands over (for ``wardens db revision --plugin``)."""
        plugin = self.plugins[name]
        impls = [i for i in self.pm.hook.wardens_migration_folders.get_hookimpls()
                 if i.plugin is plugin.obj]
        folders = [str(Path(f).resolve()) for i in impls
                   for f in _listed(self.call_one("wardens_migration_folders", i.plugin))]
        return folders or [str(BUILTIN_ROOT / name / "migrations" / "versions")]

    def plugin_names(self) -> list[str]:
        """Every plugin name that may own tables: built-in, installed, or offered."""
        return sorted({*builtin_plugin_names(), *self.plugins, *self.entry_points})


def _listed(answer: object) -> list[Any]:
    """A collect hook's answer as a list (None counts as nothing)."""
    return list(answer or [])  # type: ignore[call-overload]


def _package_folder(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


class _SubsetRelay:
    def __init__(self, pm: pluggy.PluginManager, remove: list[Any]) -> None:
        self._pm = pm
        self._remove = remove

    def __getattr__(self, name: str) -> Any:
        return self._pm.subset_hook_caller(name, self._remove)


def check_table_prefixes(plugins: Any) -> None:
    """Every table a plugin's models define starts with the plugin's name and ``_``."""
    by_package: dict[str, str] = {}
    for plugin in plugins:
        by_package[plugin.package] = plugin.name
        _import_models(plugin.package)
    for mapper in Base.registry.mappers:
        module = mapper.class_.__module__
        for package, name in by_package.items():
            if module == package or module.startswith(package + "."):
                for table in mapper.tables:
                    if not table.name.startswith(f"{name}_"):
                        raise StartupError(f"plugin {name}: table {table.name} (model"
                                           f" {mapper.class_.__name__}) must start with {name}_")


def _import_models(package: str) -> None:
    """Import ``<package>.models`` when it exists, so its tables are known before they are checked."""
    try:
        found = importlib.util.find_spec(f"{package}.models")
    except (ImportError, ValueError):
        return
    if found is not None:
        importlib.import_module(f"{package}.models")
