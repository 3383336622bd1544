"""Signing in (password or texted code), signing out, the station picker and the language."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, redirect, request, session, url_for

from api.auth import actor
from api.unit_of_work import begin_writing, db, reads_first
from console import gate
from console.blueprint import bp
from console.pages import error_text, field_errors, render
from core import accounts, metrics, phones, stations
from core.errors import Invalid, WardensError
from core.models import CodePurpose


def _throttle() -> Any:
    return current_app.extensions["wardens.throttle"]


def _next_url() -> str:
    wanted = request.values.get("next") or ""
    # Only a path of the console itself: never an address elsewhere.
    if wanted.startswith("/console/") and not wanted.startswith("//"):
        return wanted
    return url_for("console.picker")


def _sign_in_page(status: int = 200, **context: Any) -> Any:
    notice = session.pop("notice", None)
    context.setdefault("mode", "password")
    return render("console/sign_in.html", status=status, notice=notice,
                  phone=request.form.get("phone", ""), next=request.values.get("next", ""),
                  idle_minutes=current_app.config["CONSOLE_IDLE_MINUTES"], **context)


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
@reads_first
def sign_in() -> Any:
    """Phone and password; the API's limits per number and per address count every try."""
    if request.method == "GET":
        return _sign_in_page()
    phone, password = request.form.get("phone", ""), request.form.get("password", "")
    try:
        with metrics.sign_in_attempt("password"):
            _throttle().check("token", phone)
            _throttle().hit("token", phone)
            user = accounts.authenticate_password(db(), phone, password)
            issued = accounts.start_session(begin_writing(), user, provider="console")
    except WardensError as error:
        return _sign_in_page(422 if error.code != "rate_limited" else 429,
                             error=error_text(error))
    gate.start(issued.session, user)
    g.user = user
    return redirect(_next_url(), 303)


@bp.route("/sign-in/code", methods=["POST"], endpoint="sign_in_code")
def sign_in_code() -> Any:
    """Step one texts a code to the number (the same answer for any number); step two signs
    in with it. The API's limits apply to both."""
    phone, code = request.form.get("phone", ""), request.form.get("code", "").strip()
    session_ = db()
    try:
        if not code:
            _throttle().check("phone-code", phone)
            _throttle().hit("phone-code", phone)
            valid_for = accounts.send_sign_in_code(
                session_, phone, CodePurpose.SIGN_IN, current_app.config["SECRET_KEY"],
                session.get("locale") or "zh-CN")
            return _sign_in_page(mode="code", sent=True, phone_shown=phones.mask(
                phones.normalize(phone)), minutes=int(valid_for.total_seconds()) // 60)
        with metrics.sign_in_attempt("phone_code"):
            _throttle().check("token", phone)
            _throttle().hit("token", phone)
            if not code.isdigit() or len(code) != 6:
                raise Invalid("verification_code_invalid", field="code")
            user, issued = accounts.sign_in_with_code(session_, phone, code,
                                                      current_app.config["SECRET_KEY"])
    except WardensError as error:
        # A wrong guess stays counted (the code's own rule), though the page is refused.
        status = {"rate_limited": 429}.get(error.code, 422)
        return _sign_in_page(status, mode="code", sent=bool(code), error=error_text(error),
                             errors=field_errors(error))
    gate.start(issued.session, user)
    return redirect(_next_url(), 303)


@bp.route("/sign-out", methods=["POST"], endpoint="sign_out")
def sign_out() -> Any:
    accounts.end_session(db(), g.auth_session.id)
    gate.end()
    session["notice"] = "signed_out"
    return redirect(url_for("console.sign_in"), 303)


@bp.route("/language/<code>", methods=["GET"], endpoint="language")
def language(code: str) -> Any:
    """Switch the console's language (zh-CN or en) for this browser."""
    if code in ("zh-CN", "en"):
        session["locale"] = code
    back = request.args.get("next") or ""
    return redirect(back if back.startswith("/console/") else url_for("console.picker"))


@bp.route("/", methods=["GET"], endpoint="picker")
def picker() -> Any:
    """The stations the person holds a seat in; one seat goes straight there."""
    rows = db().execute(stations.my_memberships(g.user)).all()
    if len(rows) == 1 and not g.user.is_superuser:
        return redirect(url_for("console.home", station=rows[0].Station.code))
    return render("console/picker.html", rows=rows)


@bp.route("/<station>/", methods=["GET"], endpoint="home")
def home(station: str) -> Any:
    """Officers and admins land on the dashboard; other members see the pages they may open."""
    who = actor(station)
    who.require_member() if not who.user.is_superuser else None
    if who.has_any("officer", "admin"):
        return redirect(url_for("console.dashboard", station=station))
    return render("console/home.html", station=station)
