"""The console's blueprint, and its static files (vendored, pinned, served locally)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

HERE = Path(__file__).resolve().parent

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
# Static files on a blueprint of their own: served without signing in (the sign-in page
# needs its CSS) and without the console's gate.
static_bp = Blueprint("console_static", __name__, static_folder="static",
                      static_url_path="/console/static")

from console.views import (  # noqa: E402,F401  (routes on bp)
    audit,
    dashboard,
    groups,
    members,
    plugins,
    points,
    reports,
    signin,
    station_file,
    tasks,
)
