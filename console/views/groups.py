"""Groups and grid cells: teams, their members and leaders, a grid cell's outline."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for

from api.auth import actor
from api.resources.stations import GroupSchema, GroupUpdateSchema
from api.unit_of_work import db
from console.blueprint import bp
from console.pages import load, paged, refused, render
from core import stations
from core.errors import Invalid, WardensError

KINDS = ("grid", "patrol_team", "crossing_team", "care_team", "shop")


def parse_polygon(text: str) -> list[list[float]] | None:
    """``lat,lon; lat,lon; ...`` as [[lat, lon], ...]; empty: no outline."""
    points = [p.strip() for p in text.replace("\n", ";").split(";") if p.strip()]
    if not points:
        return None
    try:
        pairs = [[float(v) for v in p.split(",")] for p in points]
    except ValueError:
        raise Invalid("validation_error", field="polygon") from None
    if any(len(p) != 2 or not -90 <= p[0] <= 90 or not -180 <= p[1] <= 180 for p in pairs):
        raise Invalid("validation_error", field="polygon")
    return pairs


def _list(station: str, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    groups, page, more = paged(stations.groups_query(who, request.args.get("kind") or None))
    grids = [g for g in groups if g.kind == "grid" and g.polygon]
    return render("console/groups.html", status=status, station=station, groups=groups,
                  page=page, more=more, kinds=KINDS, grids=grids, **context)


@bp.route("/<station>/groups", methods=["GET"], endpoint="groups")
def groups(station: str) -> Any:
    return _list(station)


@bp.route("/<station>/groups", methods=["POST"], endpoint="groups_create")
def groups_create(station: str) -> Any:
    who = actor(station)
    try:
        body = load(GroupSchema, {"kind": (request.form.get("kind") or "").strip(),
                                  "name": request.form.get("name") or "",
                                  "description": request.form.get("description") or "",
                                  "polygon": parse_polygon(request.form.get("polygon", ""))})
        group = stations.create_group(db(), who, **body)
    except WardensError as error:
        return refused(lambda **c: _list(station, **c), error)
    return redirect(url_for("console.group", station=station, group_id=group.id), 303)


def _detail(station: str, group_id: int, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    group = stations.get_group(db(), who, group_id)
    rows = stations.group_members(db(), who, group)
    inside = {m.user_id for m, _u in rows}
    candidates = []
    if who.has_any("officer", "admin"):
        candidates = [(m.user_id, u.display_name) for m, u in
                      db().execute(stations.members_query(who)).all()
                      if u is not None and m.user_id not in inside]
    return render("console/group.html", status=status, station=station, group=group, rows=rows,
                  candidates=candidates, **context)


@bp.route("/<station>/groups/<int:group_id>", methods=["GET"], endpoint="group")
def group(station: str, group_id: int) -> Any:
    return _detail(station, group_id)


@bp.route("/<station>/groups/<int:group_id>", methods=["POST"], endpoint="group_change")
def group_change(station: str, group_id: int) -> Any:
    """Put a member in (``user_id``, ``leader``), take one out (``remove``), edit or delete."""
    who = actor(station)
    form = request.form
    try:
        if form.get("delete"):
            stations.delete_group(db(), who, group_id)
            return redirect(url_for("console.groups", station=station), 303)
        if form.get("remove"):
            stations.remove_group_member(db(), who, group_id, int(form["remove"]))
        elif form.get("user_id"):
            stations.put_group_member(db(), who, group_id, int(form["user_id"]),
                                      bool(form.get("leader")))
        else:
            stations.update_group(db(), who, group_id, load(GroupUpdateSchema, {
                "name": form.get("name") or "", "description": form.get("description") or "",
                "polygon": parse_polygon(form.get("polygon", ""))}))
    except WardensError as error:
        return refused(lambda **c: _detail(station, group_id, **c), error)
    except ValueError:
        return refused(lambda **c: _detail(station, group_id, **c),
                       Invalid("validation_error", field="user_id"))
    return redirect(url_for("console.group", station=station, group_id=group_id), 303)
