"""A station's view of the installed plugins: which are on, their settings; switching, audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, events
from core.access import Actor
from core.errors import Invalid, NotFound
from core.models import StationPlugin
from core.plugins import (
    InstalledPlugin,
    deployment_settings,
    load_settings,
    secret_settings,
    station_overrides_only,
)

S = TypeVar("S")


def settings_of(session: so.Session, station_id: int, name: str,
                typed: Callable[[dict[str, Any]], S]) -> S:
    """A plugin's settings for a station in the plugin's typed form (``typed`` builds it from
    the loaded values): each plugin reads its settings through one such accessor.

    The values come with the station's plugin switches, and the typed form is built once per
    version of them in this process (``Deployment.switches``): switching a plugin or changing
    its settings anywhere makes the next request build it again.
    """
    deployment = events.deployment(session)
    switches = deployment.switches(session, station_id)
    if name not in switches.typed:
        switches.typed[name] = typed(deployment.station_settings(session, station_id, name))
    return cast(S, switches.typed[name])


def list_for_station(session: so.Session, actor: Actor) -> list[dict[str, Any]]:
    """Every installed plugin with its switch; settings only for officers and admins."""
    if not actor.is_member and not actor.user.is_superuser:
        raise NotFound("station_not_found")
    deployment = events.deployment(session)
    rows = {row.name: row for row in session.scalars(
        sa.select(StationPlugin).where(StationPlugin.station_id == actor.station.id))}
    staff = actor.has_any("officer", "admin")
    return [_view(plugin, rows.get(name), staff) for name, plugin in deployment.plugins.items()]


def switch(session: so.Session, actor: Actor, name: str, *, enabled: bool,
           settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Switch a plugin on or off for the station and change its settings (admins).

    ``settings`` changes the station's overrides key by key; a key set to None goes back to
    the plugins.toml value. A deployment setting (plugins.toml only) is refused (422
    ``deployment_setting`` naming the keys); the result is validated by the plugin's schema
    (422 ``invalid_settings`` naming the keys), which reads no file and calls no network.
    It applies to the next request of every server process: switches are read per request.
    """
    actor.require("admin")
    deployment = events.deployment(session)
    plugin = deployment.plugins.get(name)
    if plugin is None:
        raise NotFound("plugin_not_installed", plugin=name)
    fixed = set(deployment_settings(plugin.info))
    refused = sorted(key for key, value in (settings or {}).items()
                     if key in fixed and value is not None)
    if refused:
        raise Invalid("deployment_setting", plugin=name, keys=refused,
                      settings=", ".join(refused))
    row = _row_for_update(session, actor.station.id, name)
    was_enabled = row.enabled
    overrides = dict(row.settings or {})
    changed = sorted(settings or {})
    for key, value in (settings or {}).items():
        if value is None:
            overrides.pop(key, None)
        else:
            overrides[key] = value
    overrides = _validated(plugin, station_overrides_only(plugin.info, overrides))
    row.enabled = enabled
    row.settings = overrides
    row.updated_at = clock.now()
    session.flush()
    deployment.forget_switches(session)
    if was_enabled != enabled:
        audit.record(session, actor=actor.user, role=actor.role, record=row, plugin=name,
                     action="plugin.switched_on" if enabled else "plugin.switched_off")
        events.plugin_switched(session, actor.station.id, name, enabled)
    if changed:
        # Keys only: a value may be a secret.
        audit.record(session, actor=actor.user, role=actor.role, record=row, plugin=name,
                     action="plugin.settings_changed", keys=changed)
    return _view(plugin, row, staff=True)


def _row_for_update(session: so.Session, station_id: int, name: str) -> StationPlugin:
    query = (sa.select(StationPlugin)
             .where(StationPlugin.station_id == station_id, StationPlugin.name == name)
             .with_for_update())
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = StationPlugin(station_id=station_id, name=name, enabled=False, settings={})
            session.add(row)
            session.flush()
    except sa.exc.IntegrityError:  # another admin created it a moment ago
        row = session.scalars(query).one()
    return row


def _validated(plugin: InstalledPlugin, overrides: dict[str, Any]) -> dict[str, Any]:
    """Check plugins.toml values + overrides together; store the overrides in canonical form."""
    try:
        loaded = load_settings(plugin.info, {**plugin.defaults, **overrides})
    except ma.ValidationError as exc:
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise Invalid("invalid_settings", plugin=plugin.name, keys=sorted(fields),
                      fields=fields) from None
    schema = plugin.info.settings_schema
    canonical = schema().dump(loaded) if schema else {}
    return {key: canonical.get(key, value) for key, value in overrides.items()}


def _view(plugin: InstalledPlugin, row: StationPlugin | None, staff: bool) -> dict[str, Any]:
    info = plugin.info
    view: dict[str, Any] = {
        "name": plugin.name,
        "url_name": plugin.url_name,
        "version": info.version,
        "description": info.description,
        "enabled": bool(row and row.enabled),
        "task_kinds": [{"name": k.name, "private": k.private, "managed": k.managed,
                        "generic": [a for a in ("sign_up", "assign", "withdraw", "edit", "cancel")
                                    if getattr(k, f"generic_{a}")],
                        "needs_acceptance": k.needs_acceptance, "pays": k.pays}
                       for k in info.task_kinds],
        "settings": None,
        "secret_settings": None,
        "overridden": None,
        "updated_at": row.updated_at if row else None,
    }
    if staff:
        overrides = station_overrides_only(info, dict(row.settings or {}) if row else {})
        merged = {**plugin.defaults, **overrides}
        secrets = secret_settings(info)
        view["settings"] = {k: v for k, v in _effective(plugin, merged).items()
                            if k not in secrets}
        view["secret_settings"] = {k: merged.get(k) not in (None, "") for k in secrets}
        view["overridden"] = sorted(overrides)
    return view


def _effective(plugin: InstalledPlugin, merged: dict[str, Any]) -> dict[str, Any]:
    schema = plugin.info.settings_schema
    if schema is None:
        return {}
    try:
        return schema().dump(load_settings(plugin.info, merged))
    except ma.ValidationError:  # stored before the plugin's schema changed: show what is stored
        return merged
