"""Before a console page: the person signed in by the session cookie, idle time, plugin switches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from api.auth import actor
from api.unit_of_work import db
from console.pages import registry
from core import clock
from core.access import load_signed_in
from core.errors import NotFound
from core.models import AuthSession, User

#: console pages open without signing in
OPEN_ENDPOINTS = frozenset({"console.sign_in", "console.sign_in_code", "console.language"})
IDLE_MINUTES = 30


def install(app: Flask, csrf: CSRFProtect) -> None:
    app.config.setdefault("CONSOLE_IDLE_MINUTES", IDLE_MINUTES)
    app.extensions["wardens.console_csrf"] = csrf
    app.before_request(_gate)


def start(auth_session: AuthSession, user: User) -> None:
    """Remember the signed-in person in the (signed, HttpOnly) session cookie."""
    locale = session.get("locale")
    session.clear()  # a fresh session: nothing from before the sign-in carries over
    if locale:
        session["locale"] = locale
    session.permanent = True
    session["sid"] = auth_session.id
    session["uid"] = user.id
    session["seen"] = int(clock.now().timestamp())


def end() -> None:
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def _gate() -> Any:
    if request.blueprint not in registry().blueprints:
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # Every console form, the sign-in's included (no signing someone in from elsewhere).
        current_app.extensions["wardens.console_csrf"].protect()
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not _load_person():
        return redirect(url_for("console.sign_in", next=request.full_path
                                if request.method == "GET" else None))
    plugin = registry().plugin_of.get(request.blueprint or "")
    if plugin is not None and request.view_args is not None:
        who = actor(request.view_args["station"])
        if not who.user.is_superuser:
            who.require_member()
        if not current_app.extensions["wardens"].is_enabled(db(), who.station.id, plugin):
            raise NotFound("plugin_disabled", plugin=plugin)
    return None


def _load_person() -> bool:
    """The person of the session cookie, as ``api.auth.current_user`` would give them."""
    sid, uid, seen = session.get("sid"), session.get("uid"), session.get("seen")
    if not isinstance(sid, int) or not isinstance(uid, int) or not isinstance(seen, int):
        return False
    now = clock.now()
    idle = dt.timedelta(minutes=current_app.config["CONSOLE_IDLE_MINUTES"])
    if now - dt.datetime.fromtimestamp(seen, dt.UTC) > idle:
        end()
        session["notice"] = "signed_out_idle"
        return False
    code = (request.view_args or {}).get("station")
    code = code if isinstance(code, str) else None
    found = load_signed_in(db(), sid, code)  # with the page's station: one statement
    if (found is None or found.user.id != uid or found.auth_session.revoked_at is not None
            or found.user.erased_at is not None):
        end()
        return False
    g.user, g.auth_session = found.user, found.auth_session
    if code is not None:
        g.signed_in_at = (code, found)
    session["seen"] = int(now.timestamp())
    return True
