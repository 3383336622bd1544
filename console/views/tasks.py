"""Tasks: a week's list and calendar, creating one, its sign-ups, waitlist and no-shows."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from flask import redirect, request, url_for

from api.auth import actor
from api.resources.tasks import CancelSchema, SignupCreateSchema, TaskSchema
from api.unit_of_work import db
from console.blueprint import bp
from console.pages import deployment, form_int, load, parse_local, refused, render
from core import stations, task_requests
from core.errors import Invalid, WardensError
from core.models import AssignmentStatus


def _week_start(who: Any) -> dt.date:
    zone = zoneinfo.ZoneInfo(who.station.timezone)
    try:
        day = dt.date.fromisoformat(request.args.get("week", ""))
    except ValueError:
        from core import clock

        day = clock.now().astimezone(zone).date()
    return day - dt.timedelta(days=day.weekday())


def _creatable_kinds(who: Any) -> list[str]:
    """The kinds an officer may post here: the core's, and switched-on plugins' open ones."""
    found = deployment()
    enabled = found.enabled_for(db(), who.station.id)
    return [name for name, kind in found.task_kinds.items()
            if not kind.private and not kind.managed
            and (found.kind_owners.get(name) is None or found.kind_owners[name] in enabled)]


def _list(station: str, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    zone = zoneinfo.ZoneInfo(who.station.timezone)
    monday = _week_start(who)
    since = dt.datetime.combine(monday, dt.time(), zone).astimezone(dt.UTC)
    until = since + dt.timedelta(days=7)
    kind = request.args.get("kind") or None
    rows = db().execute(task_requests.listed(db(), who, since=since, until=until, kind=kind)
                        .limit(500)).all()
    days: list[tuple[dt.date, list[Any]]] = [(monday + dt.timedelta(days=i), []) for i in range(7)]
    for task, _mine in rows:
        local = task.starts_at.astimezone(zone).date()
        index = (local - monday).days
        days[max(0, min(6, index))][1].append(task)
    return render("console/tasks.html", status=status, station=station, rows=rows, days=days,
                  monday=monday, previous=monday - dt.timedelta(days=7),
                  following=monday + dt.timedelta(days=7), kinds=_creatable_kinds(who),
                  view=request.args.get("view", "list"), **context)


@bp.route("/<station>/tasks", methods=["GET"], endpoint="tasks")
def tasks(station: str) -> Any:
    return _list(station)


@bp.route("/<station>/tasks", methods=["POST"], endpoint="tasks_create")
def tasks_create(station: str) -> Any:
    """Post a task through the API's schema and the core's rules (officers and admins)."""
    who = actor(station)
    form = request.form
    try:
        tz = who.station.timezone
        body: dict[str, Any] = {
            "kind": form.get("kind") or "general", "title": form.get("title") or "",
            "description": form.get("description") or "",
            "starts_at": parse_local(form.get("starts_at", ""), tz, "starts_at").isoformat(),
            "ends_at": parse_local(form.get("ends_at", ""), tz, "ends_at").isoformat(),
            "capacity": form_int("capacity"), "waitlist": bool(form.get("waitlist")),
            "visibility": form.get("visibility") or "public",
            "radius_m": form_int("radius_m", required=False) or 100,
        }
        for name in ("lat", "lon"):
            raw = (form.get(name) or "").strip()
            if raw:
                try:
                    body[name] = float(raw)
                except ValueError:
                    raise Invalid("validation_error", field=name) from None
        task = task_requests.create(db(), who, load(TaskSchema, body))
    except WardensError as error:
        return refused(lambda **c: _list(station, **c), error)
    return redirect(url_for("console.task", station=station, task_id=task.id), 303)


def _detail(station: str, task_id: int, status: int = 200, **context: Any) -> Any:
    who = actor(station)
    task, _mine = task_requests.open_task(db(), who, task_id)
    people = db().execute(task_requests.signups(db(), who, task_id)).all()
    line = 0
    positions = {}
    for assignment, _user in people:
        if assignment.status == AssignmentStatus.WAITLISTED:
            line += 1
            positions[assignment.id] = line
    taken = {a.user_id for a, _u in people if a.status != AssignmentStatus.WITHDRAWN}
    candidates = [(m.user_id, u.display_name) for m, u in
                  db().execute(stations.members_query(who)).all()
                  if u is not None and m.user_id not in taken]
    return render("console/task.html", status=status, station=station, task=task,
                  people=people, positions=positions, candidates=candidates, **context)


@bp.route("/<station>/tasks/<int:task_id>", methods=["GET"], endpoint="task")
def task(station: str, task_id: int) -> Any:
    return _detail(station, task_id)


@bp.route("/<station>/tasks/<int:task_id>", methods=["POST"], endpoint="task_change")
def task_change(station: str, task_id: int) -> Any:
    """Assign someone (``user_id``), take someone off (``take_off``) or cancel (``cancel``)."""
    who = actor(station)
    form = request.form
    try:
        if form.get("cancel"):
            body = load(CancelSchema, {"reason": form.get("reason") or ""})
            task_requests.cancel(db(), who, task_id, body["reason"])
        elif form.get("take_off"):
            task_requests.withdraw(db(), who, task_id, form_int("take_off"))
        else:
            body = load(SignupCreateSchema, {"user_id": form_int("user_id")})
            task_requests.sign_up(db(), who, task_id, body["user_id"])
    except WardensError as error:
        return refused(lambda **c: _detail(station, task_id, **c), error)
    return redirect(url_for("console.task", station=station, task_id=task_id), 303)
