"""The audit log with filters: time, who and what (admins)."""

from __future__ import annotations

from typing import Any

from flask import request

from api.auth import actor
from console.blueprint import bp
from console.pages import paged, parse_local, render
from core import audit
from core.errors import WardensError


@bp.route("/<station>/audit", methods=["GET"], endpoint="audit")
def audit_page(station: str) -> Any:
    who = actor(station)
    args = request.args
    filters: dict[str, Any] = {}
    problem = None
    try:
        for key in ("since", "until"):
            if args.get(key):
                filters[key] = parse_local(args[key], who.station.timezone, key)
        if args.get("actor_id"):
            if not args["actor_id"].isdigit():
                from core.errors import Invalid

                raise Invalid("validation_error", field="actor_id")
            filters["actor_id"] = int(args["actor_id"])
        if args.get("action"):
            filters["action"] = args["action"][:64]
    except WardensError as error:
        problem = error
        filters = {}
    events, page, more = paged(audit.station_events(who, **filters))
    return render("console/audit.html", status=422 if problem else 200, station=station,
                  events=events, page=page, more=more, args=args,
                  problem=problem.details.get("field") if problem else None)
