"""The app factory: configuration, the deployment (database + plugins), the API and its routes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import console
from api import access_log, docs, health, metrics, request_log, unit_of_work
from api import config as app_config
from api.auth import SignInThrottle, actor, current_user
from api.smorest import Api, ContractPlugin, deprecation_header, marshmallow_plugin
from api.unit_of_work import db
from core.db import Database
from core.errors import NotFound
from core.models import Station
from core.plugins import Deployment, DeploymentConfig, StartupError


class BoundedInt(IntegerConverter):
    """``<int:...>`` within a 64-bit id: a longer number is a 404, not an overflow."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(overrides: dict[str, Any] | None = None, *,
               deployment: Deployment | None = None) -> Flask:
    app = Flask("wardens")
    app.url_map.converters["int"] = BoundedInt  # before any route is added
    app.config.from_mapping(app_config.load(overrides))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if app.config["PROXY_HOPS"]:
        # Behind a TLS proxy: the client's address (for the sign-in limits) and scheme come
        # from the last PROXY_HOPS entries of X-Forwarded-For / -Proto, never from more.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    if deployment is None:
        deployment = Deployment(Database(app.config["DATABASE_URL"]),
                                DeploymentConfig.load(app.config["PLUGINS_TOML"]))
    app.extensions["wardens"] = deployment
    app.extensions["wardens.throttle"] = SignInThrottle(
        app.config["RATELIMIT_STORAGE_URI"], app.config["AUTH_LIMIT_PER_PHONE"],
        app.config["AUTH_LIMIT_PER_IP"])
    api = Api(app, spec_kwargs={"security": [{"bearerAuth": []}],
                                "marshmallow_plugin": marshmallow_plugin(),
                                "extra_plugins": [ContractPlugin()]})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    app.before_request(_authenticate)  # first: nobody learns how a body is judged without a token
    app.before_request(_plugin_gate)
    unit_of_work.register(app)
    from api.resources import CORE_BLUEPRINTS

    for blueprint in CORE_BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.docs)
    app.register_blueprint(health.bp)  # no auth, no secrets: for the load balancer and monitors
    app.register_blueprint(metrics.bp)  # the deployment's token or loopback, not a person's
    app.extensions["wardens.plugin_blueprints"] = _register_plugin_blueprints(app, api, deployment)
    app.after_request(deprecation_header)
    console.install(app, deployment)  # the staff's pages, CSRF-checked; the API stays exempt
    access_log.install(app)
    request_log.install(app)
    return app


def _register_plugin_blueprints(app: Flask, api: Api, deployment: Deployment) -> dict[str, str]:
    """Mount each installed plugin's blueprints under its station path; names stay unique."""
    owners: dict[str, str] = {name: "core" for name in app.blueprints}
    impls = deployment.pm.hook.wardens_register_blueprints.get_hookimpls()
    for name, plugin in deployment.plugins.items():
        blueprints = [bp for impl in impls if impl.plugin is plugin.obj
                      for bp in list(deployment.call_one("wardens_register_blueprints",
                                                         impl.plugin) or [])]
        for blueprint in blueprints:
            if blueprint.name in owners:
                raise StartupError(f"plugin {name}: blueprint {blueprint.name} is already"
                                   f" registered by {owners[blueprint.name]}")
            api.register_blueprint(
                blueprint, url_prefix=f"/api/v1/stations/<station>/{plugin.url_name}")
            owners[blueprint.name] = name
    return {bp: owner for bp, owner in owners.items() if owner != "core"}


def _authenticate() -> None:
    """Every operation needs a bearer token unless its document says ``security: []``."""
    if request.url_rule is None or not request.path.startswith("/api/v1/"):
        return  # no such route (404/405 answer), or the docs
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_apidoc", {}).get("manual_doc", {}).get("security") != []:
        current_user()


def _plugin_gate() -> None:
    """A plugin's endpoints answer 404 plugin_disabled for a station that has it off.

    Read per request, so a switch made through any server process applies at once.
    """
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
    if not who.user.is_superuser:
        who.require_member()  # a non-member of an open station sees no plugin endpoint
    if not current_app.extensions["wardens"].is_enabled(db(), who.station.id, name):
        raise NotFound("plugin_disabled", plugin=name)
