"""The station console: server-rendered pages at /console over the same services as the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from core.plugins import Deployment, StartupError


def install(app: Flask, deployment: Deployment) -> None:
    """Mount the console and every installed plugin's console pages; CSRF on every form.

    The console's pages are signed in by a cookie, so every POST to one of them (the core's
    and each plugin's) must carry its form's CSRF token (Flask-WTF, checked by the console's
    gate). The API is exempt: it takes bearer tokens and never reads the cookie.
    """
    from console import errors, gate, pages
    from console.blueprint import bp, static_bp

    app.config.update(
        SESSION_COOKIE_NAME="wardens_console", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Sent over HTTPS only, but on the developer's own machine (plain http://127.0.0.1).
        SESSION_COOKIE_SECURE=app.config.get("ENV") not in ("development", "testing"),
        # A signed-in console lasts a working day at most, and ends sooner when left idle.
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # a form's token lasts as long as the session
        WTF_CSRF_CHECK_DEFAULT=False)  # checked for console pages only, by console.gate
    app.register_blueprint(bp)
    app.register_blueprint(static_bp)
    owners = _register_plugin_pages(app, deployment)
    app.extensions["wardens.console"] = pages.Registry(
        blueprints={bp.name, *owners}, plugin_of=owners, nav=pages.plugin_nav(deployment))
    gate.install(app, CSRFProtect(app))
    errors.install(app)
    app.jinja_env.globals.update(pages.template_globals())


def _register_plugin_pages(app: Flask, deployment: Deployment) -> dict[str, str]:
    """Each plugin's console blueprints under /console/<station>/<plugin-name>/: name -> plugin."""
    owners: dict[str, str] = {}
    impls = deployment.pm.hook.wardens_console_pages.get_hookimpls()
    for name, plugin in deployment.plugins.items():
        contributions: list[Any] = [
            pages for impl in impls if impl.plugin is plugin.obj
            for pages in list(deployment.call_one("wardens_console_pages", impl.plugin) or [])]
        for contribution in contributions:
            blueprint = contribution.blueprint
            if blueprint.name in app.blueprints:
                raise StartupError(f"plugin {name}: console blueprint {blueprint.name} is"
                                   " already registered")
            app.register_blueprint(blueprint, url_prefix=f"/console/<station>/{plugin.url_name}")
            owners[blueprint.name] = name
    return owners
