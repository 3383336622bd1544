"""Health for load balancers and monitors: /healthz (the process answers), /readyz (its parts)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from core import health

bp = Blueprint("health", __name__)


def _plain(body: dict[str, Any], status: int) -> Any:
    answer = jsonify(body)
    answer.status_code = status
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.route("/healthz", methods=["GET"])
def healthz() -> Any:
    """The process is alive and answering; it reads nothing (a liveness probe)."""
    return _plain({"status": "ok"}, 200)


@bp.route("/readyz", methods=["GET"])
def readyz() -> Any:
    """Ready to serve: the database answers and is migrated to every head (core and each
    plugin), Redis answers when the deployment uses it; 503 naming the failing parts."""
    found = health.readiness(current_app.extensions["wardens"],
                             current_app.config["RATELIMIT_STORAGE_URI"])
    return _plain(found, 503 if found["failing"] else 200)
