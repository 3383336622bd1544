"""Members: seats by phone with roles, pending and unverified ones, role changes and removal."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for

from api.auth import actor
from api.resources.stations import MemberCreateSchema, MemberUpdateSchema
from api.unit_of_work import db
from console.blueprint import bp
from console.pages import load, paged, refused, render
from core import stations
from core.errors import WardensError

ROLES = ("resident", "volunteer", "merchant", "partner", "officer", "admin")


def _page(station: str, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    role = request.args.get("role") or None
    q = (request.args.get("q") or "").strip()[:50] or None
    rows, page, more = paged(stations.members_query(who, role=role if role in ROLES else None,
                                                    q=q), rows=True)
    return render("console/members.html", status=status, station=station, rows=rows, page=page,
                  more=more, roles=ROLES, role=role, q=q or "", **context)


@bp.route("/<station>/members", methods=["GET"], endpoint="members")
def members(station: str) -> Any:
    return _page(station)


@bp.route("/<station>/members", methods=["POST"], endpoint="members_add")
def members_add(station: str) -> Any:
    """Add a seat by phone (admins): pending until that phone is proven."""
    try:
        body = load(MemberCreateSchema, {"phone": request.form.get("phone", ""),
                                         "roles": request.form.getlist("roles")})
        stations.add_member(db(), actor(station), body["phone"], body["roles"])
    except WardensError as error:
        return refused(lambda **c: _page(station, **c), error)
    return redirect(url_for("console.members", station=station), 303)


@bp.route("/<station>/members/<int:member_id>", methods=["POST"], endpoint="members_update")
def members_update(station: str, member_id: int) -> Any:
    """Change a member's roles, or remove them (``remove``), as admins."""
    who = actor(station)
    try:
        if request.form.get("remove"):
            stations.remove_member(db(), who, member_id)
        else:
            body = load(MemberUpdateSchema, {"roles": request.form.getlist("roles")})
            stations.update_member(db(), who, member_id, body["roles"])
    except WardensError as error:
        return refused(lambda **c: _page(station, **c), error)
    return redirect(url_for("console.members", station=station), 303)
