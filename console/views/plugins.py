"""Plugins: switch each installed plugin on or off, and its settings form (admins change)."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for

from api.auth import actor
from api.unit_of_work import db
from console.blueprint import bp
from console.forms import changed_settings, settings_form
from console.pages import deployment, refused, render
from core import station_plugins
from core.errors import NotFound, WardensError


def _page(station: str, status: int = 200, *, failed: str | None = None,
          **context: Any) -> Any:
    who = actor(station)
    who.require("officer", "admin")
    views = station_plugins.list_for_station(db(), who)
    installed = deployment().plugins
    rows = [(view, settings_form(installed[view["name"]], view)) for view in views]
    return render("console/plugins.html", status=status, station=station, rows=rows,
                  failed=failed, **context)


@bp.route("/<station>/plugins", methods=["GET"], endpoint="plugins")
def plugins(station: str) -> Any:
    return _page(station)


@bp.route("/<station>/plugins/<name>", methods=["POST"], endpoint="plugins_change")
def plugins_change(station: str, name: str) -> Any:
    """Switch (``enabled``) and change settings in one step, as ``PUT .../plugins/<name>``."""
    who = actor(station)
    plugin = deployment().plugins.get(name)
    if plugin is None:
        raise NotFound("plugin_not_installed", plugin=name)
    views = {v["name"]: v for v in station_plugins.list_for_station(db(), who)}
    form = request.form
    enabled = form.get("enabled") == "on" if "enabled" in form else views[name]["enabled"]
    try:
        changes = changed_settings(settings_form(plugin, views[name]), form) \
            if form.get("settings") else {}
        station_plugins.switch(db(), who, name, enabled=enabled, settings=changes or None)
    except WardensError as error:
        return refused(lambda **c: _page(station, failed=name, **c), error)
    return redirect(url_for("console.plugins", station=station) + f"#plugin-{name}", 303)
