"""The patrol plugin's console pages: routes on a map, the tag sheet, coverage, incidents, roster."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, request, send_file, url_for
from markupsafe import Markup
from sqlalchemy import orm as so

from api.auth import actor
from api.unit_of_work import db
from console import maps
from console.pages import form_float, form_int, load, paged, parse_local, plugin_labels, refused, render
from core import clock, stations
from core.access import Actor
from core.errors import Invalid, WardensError
from core.hookspecs import ConsoleNav, ConsolePages, ConsolePanel
from core.models import User
from core.storage import default_storage
from plugins.patrol import checkpoints, coverage, incidents, roster, tags
from plugins.patrol import schemas as s
from plugins.patrol.models import (
    Incident,
    IncidentCategory,
    IncidentStatus,
    Patrol,
    PatrolStatus,
)

bp = Blueprint("patrol_console", __name__, template_folder="templates")
STAFF = ("officer", "admin")
PAGES = ConsolePages(bp, nav=(
    ConsoleNav("patrol_console.routes", {"en": "Patrol routes", "zh-CN": "巡逻路线"}, STAFF),
    ConsoleNav("patrol_console.incidents", {"en": "Incidents", "zh-CN": "警情上报"}, STAFF),
    ConsoleNav("patrol_console.coverage", {"en": "Coverage", "zh-CN": "巡逻覆盖"},
               (*STAFF, "partner")),
    ConsoleNav("patrol_console.roster", {"en": "Duty roster", "zh-CN": "值班表"},
               (*STAFF, "partner")),
))


#: the pages' own words; errors show the core's and the plugin's messages (the API's texts)
LABELS: dict[str, dict[str, str]] = {
    "routes": {"en": "Patrol routes", "zh-CN": "巡逻路线"},
    "new_route": {"en": "New route", "zh-CN": "新建路线"},
    "no_routes": {"en": "No routes yet. Create one, then place its checkpoints on the map.",
                  "zh-CN": "还没有巡逻路线。请先新建路线，再在地图上放置巡逻点。"},
    "ordered": {"en": "Walked in order", "zh-CN": "按顺序巡逻"},
    "team": {"en": "Team", "zh-CN": "队伍"},
    "checkpoints": {"en": "Checkpoints", "zh-CN": "巡逻点"},
    "no_checkpoints": {"en": "No checkpoints yet: click the map where the first one goes.",
                       "zh-CN": "还没有巡逻点：请在地图上点击第一个巡逻点的位置。"},
    "add_checkpoint": {"en": "Place a checkpoint (click the map)",
                       "zh-CN": "放置巡逻点（点击地图）"},
    "grid": {"en": "Grid cell", "zh-CN": "网格"},
    "map_grid": {"en": "No map tiles are set for this deployment: a plain grid to scale.",
                 "zh-CN": "本部署未配置地图底图：按比例显示的网格。"},
    "tag_sheet": {"en": "Printable tag sheet", "zh-CN": "打印巡逻点标签"},
    "print": {"en": "Print", "zh-CN": "打印"},
    "static_code": {"en": "Printed code", "zh-CN": "备用码"},
    "coverage": {"en": "Coverage", "zh-CN": "巡逻覆盖"},
    "coverage_heat": {"en": "Visits per grid cell and hour, last {days} days",
                      "zh-CN": "近 {days} 天各网格每小时巡逻次数"},
    "no_cells": {"en": "No checkpoint is in a grid cell yet: give checkpoints their cell.",
                 "zh-CN": "还没有巡逻点属于网格：请为巡逻点设置所属网格。"},
    "last_day": {"en": "The last 24 hours", "zh-CN": "最近 24 小时"},
    "visits": {"en": "Visits", "zh-CN": "巡逻次数"},
    "last_visit": {"en": "Last visit", "zh-CN": "最近巡逻"},
    "longest_gap": {"en": "Longest gap (h)", "zh-CN": "最长间隔（小时）"},
    "incidents": {"en": "Incidents", "zh-CN": "警情上报"},
    "no_incidents": {"en": "No incident matches. Volunteers report them from the app.",
                     "zh-CN": "没有符合条件的警情。志愿者通过手机应用上报。"},
    "category": {"en": "Category", "zh-CN": "类别"},
    "reported": {"en": "Reported", "zh-CN": "上报时间"},
    "reporter": {"en": "Reporter", "zh-CN": "上报人"},
    "photos": {"en": "Photos", "zh-CN": "照片"},
    "no_photos": {"en": "No photos.", "zh-CN": "没有照片。"},
    "acknowledge": {"en": "Acknowledge", "zh-CN": "受理"},
    "resolve": {"en": "Resolve", "zh-CN": "处理完毕"},
    "note": {"en": "Note", "zh-CN": "备注"},
    "roster": {"en": "Duty roster", "zh-CN": "值班表"},
    "no_shifts": {"en": "Nobody is on the roster this week. Put an officer on duty below.",
                  "zh-CN": "本周值班表为空。可在下方安排民警值班。"},
    "officer": {"en": "Officer", "zh-CN": "民警"},
    "add_shift": {"en": "Put an officer on duty", "zh-CN": "安排值班"},
    "open_incidents": {"en": "Open incidents", "zh-CN": "未处理警情"},
    "patrols_out": {"en": "Patrols out now", "zh-CN": "正在巡逻"},
    "all": {"en": "All", "zh-CN": "全部"},
    # an incident's category and status, by their stored values
    "suspicious_person": {"en": "Suspicious person", "zh-CN": "可疑人员"},
    "theft": {"en": "Theft", "zh-CN": "盗窃"},
    "fire": {"en": "Fire", "zh-CN": "火情"},
    "hazard": {"en": "Hazard", "zh-CN": "安全隐患"},
    "lost_person": {"en": "Lost person", "zh-CN": "走失人员"},
    "dispute": {"en": "Dispute", "zh-CN": "纠纷"},
    "medical": {"en": "Medical", "zh-CN": "急救"},
    "other": {"en": "Other", "zh-CN": "其他"},
    "status_reported": {"en": "Reported", "zh-CN": "已上报"},
    "status_acknowledged": {"en": "Acknowledged", "zh-CN": "已受理"},
    "status_resolved": {"en": "Resolved", "zh-CN": "已处理"},
}


def _labels() -> Any:
    return plugin_labels(LABELS)


def _render(template: str, **context: Any) -> Any:
    return render(template, pt=_labels(), **context)


def panels(session: so.Session, who: Actor) -> list[ConsolePanel]:
    """The dashboard's patrol panel: incidents still open, patrols out now."""
    if not who.has_any(*STAFF):
        return []
    open_incidents = list(session.scalars(
        incidents.incidents_query(who).where(Incident.status != IncidentStatus.RESOLVED)
        .limit(5)))
    active = session.scalar(sa.select(sa.func.count()).select_from(Patrol).where(
        Patrol.station_id == who.station.id, Patrol.status == PatrolStatus.ACTIVE)) or 0
    return [ConsolePanel({"en": "Patrols and incidents", "zh-CN": "巡逻与警情"},
                         "patrol/panel.html",
                         {"incidents": open_incidents, "active": active,
                          "station": who.station.code, "pt": _labels()}, order=10)]


# Routes and checkpoints -------------------------------------------------------------------------

def _routes(station: str, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    routes, page, more = paged(checkpoints.routes_query(who))
    teams = db().scalars(stations.groups_query(who, "patrol_team")).all()
    return _render("patrol/routes.html", status=status, station=station, routes=routes,
                  page=page, more=more, teams=teams, **context)


@bp.route("/routes", methods=["GET"], endpoint="routes")
def routes_page(station: str) -> Any:
    return _routes(station)


@bp.route("/routes", methods=["POST"], endpoint="routes_create")
def routes_create(station: str) -> Any:
    who = actor(station)
    form = request.form
    try:
        body = load(s.RouteCreateSchema, {
            "name": form.get("name") or "", "description": form.get("description") or "",
            "ordered": bool(form.get("ordered")),
            "team_group_id": form_int("team_group_id", required=False)})
        route = checkpoints.create_route(db(), who, **body)
    except WardensError as error:
        return refused(lambda **c: _routes(station, **c), error)
    return redirect(url_for("patrol_console.route", station=station, route_id=route.id), 303)


def _route(station: str, route_id: int, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    route = checkpoints.get_route(db(), who, route_id)
    points = checkpoints.route_checkpoints(db(), route)
    grids = db().scalars(stations.groups_query(who, "grid")).all()
    grid_names = {g.id: g.name for g in grids}
    shown = []
    for c in points:
        lat, lon = maps.for_display(c.lat, c.lon)
        shown.append({"lat": lat, "lon": lon, "label": f"{c.sequence}. {c.name}"})
    return _render("patrol/route.html", status=status, station=station, route=route,
                  points=points, shown=shown, grids=grids, grid_names=grid_names,
                  map=maps.settings(), **context)


@bp.route("/routes/<int:route_id>", methods=["GET"], endpoint="route")
def route_page(station: str, route_id: int) -> Any:
    return _route(station, route_id)


@bp.route("/routes/<int:route_id>/checkpoints", methods=["POST"], endpoint="checkpoints_add")
def checkpoints_add(station: str, route_id: int) -> Any:
    """Place a checkpoint where the map was clicked (or at the typed position)."""
    who = actor(station)
    form = request.form
    try:
        lat, lon = form_float("lat"), form_float("lon")
        if lat is None or lon is None:
            raise Invalid("validation_error", field="lat" if lat is None else "lon")
        # Picked on the map: in the datum its tiles are drawn in; the API's schema converts.
        body = load(s.CheckpointCreateSchema, {
            "name": form.get("name") or "", "lat": lat, "lon": lon,
            "crs": maps.settings()["datum"],
            "radius_m": form_int("radius_m", required=False) or 30,
            "grid_group_id": form_int("grid_group_id", required=False)})
        route = checkpoints.get_route(db(), who, route_id)
        checkpoints.add_checkpoint(db(), who, route, **body)
    except WardensError as error:
        return refused(lambda **c: _route(station, route_id, **c), error)
    return redirect(url_for("patrol_console.route", station=station, route_id=route_id), 303)


@bp.route("/checkpoints/<int:checkpoint_id>", methods=["POST"], endpoint="checkpoint_archive")
def checkpoint_archive(station: str, checkpoint_id: int) -> Any:
    """Take a checkpoint off its route (its scans are kept)."""
    who = actor(station)
    checkpoint = checkpoints.get_checkpoint(db(), who, checkpoint_id)
    checkpoints.archive_checkpoint(db(), who, checkpoint_id)
    return redirect(url_for("patrol_console.route", station=station,
                            route_id=checkpoint.route_id), 303)


@bp.route("/routes/<int:route_id>/tags", methods=["GET"], endpoint="tags")
def tag_sheet(station: str, route_id: int) -> Any:
    """The printable sheet of a route's checkpoint tags (officers; reading it is audited)."""
    who = actor(station)
    route = checkpoints.get_route(db(), who, route_id)
    rows = checkpoints.code_sheet(db(), who, route_id)
    for row in rows:
        # The printed tag: the static URI as a QR code (the same SVG as GET .../tag.svg).
        row["qr_svg"] = Markup(tags.svg(tags.parse(row["tag_uri"]), title=row["name"]))
    return _render("patrol/tags.html", station=station, route=route, rows=rows)


# Coverage --------------------------------------------------------------------------------------

@bp.route("/coverage", methods=["GET"], endpoint="coverage")
def coverage_page(station: str) -> Any:
    """Visits per grid cell and hour over the last days (a heat map), and the last day's gaps."""
    from console import charts

    who = actor(station)
    try:
        days = max(1, min(31, int(request.args.get("days", "7"))))
    except ValueError:
        days = 7
    until = clock.now()
    heat = coverage.by_hour(db(), who, until - dt.timedelta(days=days), until)
    report = coverage.report(db(), who, until - dt.timedelta(hours=24), until)
    chart = charts.heat_map([(c["name"], c["hours"]) for c in heat["cells"]],
                            title=_labels()("coverage_heat", days=days),
                            columns=[f"{h:02d}" for h in range(24)])
    return _render("patrol/coverage.html", station=station, heat=heat, report=report,
                  chart=chart, days=days)


# Incidents -------------------------------------------------------------------------------------

@bp.route("/incidents", methods=["GET"], endpoint="incidents")
def incidents_page(station: str) -> Any:
    who = actor(station)
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    rows, page, more = paged(incidents.incidents_query(
        who, status=status if status in IncidentStatus.__members__.values() else None,
        category=category if category in IncidentCategory.__members__.values() else None))
    return _render("patrol/incidents.html", station=station, rows=rows, page=page, more=more,
                  statuses=[s.value for s in IncidentStatus],
                  categories=[c.value for c in IncidentCategory], status=status,
                  category=category)


def _incident(station: str, incident_id: int, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    incident = incidents.get(db(), who, incident_id)
    reporter = db().get(User, incident.reporter_id)
    return _render("patrol/incident.html", status=status, station=station, incident=incident,
                  photos=incidents.photos_of(db(), incident),
                  reporter=reporter.display_name if reporter else "", **context)


@bp.route("/incidents/<int:incident_id>", methods=["GET"], endpoint="incident")
def incident_page(station: str, incident_id: int) -> Any:
    return _incident(station, incident_id)


@bp.route("/incidents/<int:incident_id>", methods=["POST"], endpoint="incident_change")
def incident_change(station: str, incident_id: int) -> Any:
    """Acknowledge (``acknowledge``) or resolve with a note, as the API's endpoints do."""
    who = actor(station)
    form = request.form
    try:
        if form.get("resolve"):
            body = load(s.ResolveSchema, {"note": form.get("note") or ""})
            incidents.resolve(db(), who, incident_id, body["note"])
        else:
            body = load(s.AcknowledgeSchema, {"note": form.get("note") or ""})
            incidents.acknowledge(db(), who, incident_id, body["note"])
    except WardensError as error:
        return refused(lambda **c: _incident(station, incident_id, **c), error)
    return redirect(url_for("patrol_console.incident", station=station,
                            incident_id=incident_id), 303)


@bp.route("/incidents/<int:incident_id>/photos/<int:photo_id>", methods=["GET"],
          endpoint="photo")
def photo(station: str, incident_id: int, photo_id: int) -> Any:
    """A photo of an incident, for the station's officers and its reporter (reads audited)."""
    found, handle = incidents.open_photo(db(), actor(station), incident_id, photo_id,
                                         default_storage())
    response = send_file(handle, mimetype=found.content_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# Duty roster -----------------------------------------------------------------------------------

def _roster(station: str, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    zone = zoneinfo.ZoneInfo(who.station.timezone)
    try:
        day = dt.date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        day = clock.now().astimezone(zone).date()
    since, _ = roster.local_day(who, day)
    rows = db().execute(roster.shifts_query(db(), who, since, since + dt.timedelta(days=7))).all()
    officers = []
    if who.has_any(*STAFF):
        officers = [(m.user_id, u.display_name) for m, u in
                    db().execute(stations.members_query(who, role="officer")).all() if u]
    return _render("patrol/roster.html", status=status, station=station, rows=rows, day=day,
                  previous=day - dt.timedelta(days=7), following=day + dt.timedelta(days=7),
                  officers=officers, **context)


@bp.route("/roster", methods=["GET"], endpoint="roster")
def roster_page(station: str) -> Any:
    return _roster(station)


@bp.route("/roster", methods=["POST"], endpoint="roster_change")
def roster_change(station: str) -> Any:
    """Put an officer on duty, or take a shift off (``delete``)."""
    who = actor(station)
    form = request.form
    try:
        if form.get("delete"):
            roster.delete_shift(db(), who, form_int("delete") or 0)
        else:
            tz = who.station.timezone
            body = load(s.ShiftCreateSchema, {
                "officer_id": form_int("officer_id"),
                "starts_at": parse_local(form.get("starts_at", ""), tz, "starts_at").isoformat(),
                "ends_at": parse_local(form.get("ends_at", ""), tz, "ends_at").isoformat(),
                "note": form.get("note") or ""})
            roster.add_shift(db(), who, **body)
    except WardensError as error:
        return refused(lambda **c: _roster(station, **c), error)
    return redirect(url_for("patrol_console.roster", station=station,
                            date=request.args.get("date")), 303)
