"""The app factory: configuration, the deployment (database + plugins), the API and its routes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, request

from api import config as app_config
from api import docs, unit_of_work
from api.auth import SignInThrottle, actor
from api.smorest import Api
from api.unit_of_work import db
from core.db import Database
from core.errors import NotFound
from core.models import Station
from core.plugins import Deployment, DeploymentConfig


def create_app(overrides: dict[str, Any] | None = None, *,
               deployment: Deployment | None = None) -> Flask:
    app = Flask("wardens")
    app.config.from_mapping(app_config.load(overrides))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if deployment is None:
        deployment = Deployment(Database(app.config["DATABASE_URL"]),
                                DeploymentConfig.load(app.config["PLUGINS_TOML"]))
    app.extensions["wardens"] = deployment
    app.extensions["wardens.throttle"] = SignInThrottle(
        app.config["RATELIMIT_STORAGE_URI"], app.config["AUTH_LIMIT_PER_PHONE"],
        app.config["AUTH_LIMIT_PER_IP"])
    api = Api(app, spec_kwargs={"security": [{"bearerAuth": []}]})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    app.before_request(_plugin_gate)
    unit_of_work.register(app)
    from api.resources import CORE_BLUEPRINTS

    for blueprint in CORE_BLUEPRINTS:
        api.register_blueprint(blueprint)
    plugin_blueprints: dict[str, str] = {}
    for name, plugin in deployment.plugins.items():
        for blueprint in _blueprints_of(deployment, plugin.obj):
            api.register_blueprint(
                blueprint, url_prefix=f"/api/v1/stations/<station>/{plugin.url_name}")
            plugin_blueprints[blueprint.name] = name
    app.extensions["wardens.plugin_blueprints"] = plugin_blueprints
    app.register_blueprint(docs.docs)
    return app


def _blueprints_of(deployment: Deployment, plugin_obj: Any) -> list[Any]:
    impls = [i for i in deployment.pm.hook.wardens_register_blueprints.get_hookimpls()
             if i.plugin is plugin_obj]
    return [bp for impl in impls for bp in (impl.function() or [])]


def _plugin_gate() -> None:
    """A plugin's endpoints answer 404 plugin_disabled for a station that has it off."""
    name = current_app.extensions["wardens.plugin_blueprints"].get(request.blueprint or "")
    if name is None or request.view_args is None:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "wardens_public", False):
        # Reached by a secret in the URL (see api.auth.public_view): nobody is signed in.
        station_id = db().scalar(sa.select(Station.id).where(
            Station.code == request.view_args["station"]))
        if station_id is None:
            raise NotFound("station_not_found")
        if not current_app.extensions["wardens"].is_enabled(db(), station_id, name):
            raise NotFound("plugin_disabled", plugin=name)
        return
    who = actor(request.view_args["station"])
    who.require_member()
    if not current_app.extensions["wardens"].is_enabled(db(), who.station.id, name):
        raise NotFound("plugin_disabled", plugin=name)
