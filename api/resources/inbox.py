"""My inbox and my assignments: notifications rendered in my language, tasks across stations."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from api.auth import current_user
from api.errors import request_locale
from api.fields import NotificationCode, StationRefSchema, TargetSchema, TimeRangeArgsSchema
from api.pagination import QueryPage
from api.positions import Lat, Lon, Positioned
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core import clock, messages, notifications, tasks, today
from core.errors import NotFound
from core.models import Assignment, Notification, Station, Task
from core.models.tasks import AssignmentStatus

blp = Blueprint("inbox", __name__, url_prefix="/api/v1/me",
                description="My notifications and my assignments")


class NotificationQueryArgsSchema(Schema):
    unread = ma.fields.Boolean(metadata={"description": "Only unread (true) or read (false)"})
    code = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=64)),
                          validate=ma.validate.Length(max=20),
                          metadata={"description": "Only these codes; repeat for several"})
    plugin = ma.fields.String(validate=ma.validate.Regexp(r"^[a-z][a-z0-9_]{1,31}$"), metadata={
        "description": "Only those a plugin sent (`core`: the core's own)"})
    since = ma.fields.AwareDateTime(metadata={"description": "Only those sent at or after"})
    station = ma.fields.String(validate=ma.validate.Length(max=32),
                               metadata={"description": "Only those of a station (its code)"})


class NotificationSchema(Schema):
    """Dumps (Notification, Station | None) rows, rendered in the reader's language."""

    id = ma.fields.Integer()
    code = NotificationCode(metadata={
        "description": "Stable code, `core.<event>` or `<plugin>.<event>` (docs/plugins.md)"})
    title = ma.fields.String(allow_none=True, metadata={
        "description": "A heading in my language: the notice's title, else the station's name"})
    text = ma.fields.String(metadata={
        "description": "The message in my language, times in the station's time zone"})
    params = ma.fields.Dict(metadata={
        "description": "What the text is made of, for an app that writes its own text: names, "
                       "titles, ids; times as RFC 3339 in the station's zone"})
    target = ma.fields.Nested(TargetSchema, allow_none=True, metadata={
        "description": "What the app opens for it (a deep link), or null"})
    station = ma.fields.String(allow_none=True, metadata={"description": "Station code"})
    timezone = ma.fields.String(allow_none=True, metadata={
        "description": "The station's time zone, in which the text shows times"})
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)

    @ma.pre_dump
    def _render(self, obj: Any, **_kwargs: Any) -> dict[str, Any]:
        row, station = (obj[0], obj[1]) if isinstance(obj, sa.Row) else (obj, None)
        locale = request_locale()
        timezone = station.timezone if station is not None else None
        return {"id": row.id, "code": row.code, "title": title_of(row, station, locale),
                "text": messages.render(row.code, locale, row.params, timezone=timezone),
                "params": row.params,
                "target": notifications.target_of(row, station.code if station else None),
                "station": station.code if station is not None else None, "timezone": timezone,
                "created_at": row.created_at, "read_at": row.read_at}


def title_of(row: Notification, station: Station | None, locale: str) -> str | None:
    """The notification's own heading (``<code>.title`` in the catalogue), else the station's name."""
    if f"{row.code}.title" in messages.MESSAGES:
        return messages.render(f"{row.code}.title", locale, row.params,
                               timezone=station.timezone if station is not None else None)
    return station.name if station is not None else None


class UnreadSchema(Schema):
    unread = ma.fields.Integer()


class MarkedSchema(Schema):
    marked = ma.fields.Integer(metadata={"description": "How many were unread until now"})


class TaskRefSchema(Positioned):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    title = ma.fields.String()
    starts_at = ma.fields.AwareDateTime()
    ends_at = ma.fields.AwareDateTime()
    lat = Lat(allow_none=True)
    lon = Lon(allow_none=True)
    radius_m = ma.fields.Integer()
    status = ma.fields.String()


class MyAssignmentSchema(Schema):
    """Dumps (Assignment, Task, Station) rows, each with what the app opens for its task."""

    id = ma.fields.Integer()
    status = ma.fields.String()
    station = ma.fields.Nested(StationRefSchema)
    task = ma.fields.Nested(TaskRefSchema)
    created_at = ma.fields.AwareDateTime()
    checked_in_at = ma.fields.AwareDateTime(allow_none=True)
    checked_out_at = ma.fields.AwareDateTime(allow_none=True)
    target = ma.fields.Nested(TargetSchema, metadata={
        "description": "What the app opens: a crossing shift (with the shift_id its check-in "
                       "needs), a care visit, or the task"})

    @ma.pre_dump(pass_collection=True)
    def _with_targets(self, rows: Any, many: bool, **_kwargs: Any) -> Any:
        listed = list(rows) if many else [rows]
        found = today.task_targets(db(), [(row.Task, row.Station) for row in listed])
        views = [{"id": row.Assignment.id, "status": row.Assignment.status,
                  "station": row.Station, "task": row.Task,
                  "created_at": row.Assignment.created_at,
                  "checked_in_at": row.Assignment.checked_in_at,
                  "checked_out_at": row.Assignment.checked_out_at,
                  "target": found[row.Task.id]} for row in listed]
        return views if many else views[0]


class MyAssignmentQueryArgsSchema(TimeRangeArgsSchema):
    status = ma.fields.List(ma.fields.String(
        validate=ma.validate.OneOf([s.value for s in AssignmentStatus])),
        metadata={"description": "Repeat to keep several statuses"})
    station = ma.fields.String(validate=ma.validate.Length(max=32),
                               metadata={"description": "A station code"})


def _mine() -> sa.Select[Notification, Station]:
    return (sa.select(Notification, Station)
            .outerjoin(Station, Station.id == Notification.station_id)
            .where(Notification.user_id == current_user().id))


@blp.route("/notifications", methods=["GET"])
@blp.arguments(NotificationQueryArgsSchema, location="query")
@blp.response(200, NotificationSchema(many=True))
@blp.paginate(QueryPage)
def notifications_list(args: dict[str, Any]) -> Any:
    """My notifications, newest first, each rendered in my language; filter by read state,
    code, plugin, station, and since when."""
    query = _mine().order_by(Notification.created_at.desc(), Notification.id.desc())
    if "unread" in args:
        query = query.where(Notification.read_at.is_(None) if args["unread"]
                            else Notification.read_at.is_not(None))
    if args.get("code"):
        query = query.where(Notification.code.in_(args["code"]))
    if "plugin" in args:  # every code is <plugin>.<event> (core.<event> for the core's)
        query = query.where(Notification.code.startswith(f"{args['plugin']}.", autoescape=True))
    if "since" in args:
        query = query.where(Notification.created_at >= args["since"])
    if "station" in args:
        query = query.where(Station.code == args["station"])
    return query


@blp.route("/notifications/unread-count", methods=["GET"])
@blp.response(200, UnreadSchema)
def notifications_unread_count() -> dict[str, int]:
    """How many of my notifications are unread (for the app's badge)."""
    count = db().scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == current_user().id, Notification.read_at.is_(None)))
    return {"unread": int(count or 0)}


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NotificationSchema)
def notifications_read(notification_id: int) -> Any:
    """Mark one of my notifications read (again is harmless)."""
    session = db()
    row = session.execute(_mine().where(Notification.id == notification_id)).first()
    if row is None:
        raise NotFound("notification_not_found")
    if row[0].read_at is None:
        row[0].read_at = clock.now()
    return row


@blp.route("/notifications/read-all", methods=["POST"])
@blp.response(200, MarkedSchema)
def notifications_read_all() -> dict[str, int]:
    """Mark all my notifications read."""
    result: sa.CursorResult[Any] = db().execute(  # type: ignore[assignment]
        sa.update(Notification)
        .where(Notification.user_id == current_user().id, Notification.read_at.is_(None))
        .values(read_at=clock.now()).execution_options(synchronize_session=False))
    return {"marked": result.rowcount}


@blp.route("/assignments", methods=["GET"])
@blp.arguments(MyAssignmentQueryArgsSchema, location="query")
@blp.response(200, MyAssignmentSchema(many=True))
@blp.paginate(QueryPage)
def me_assignments(args: dict[str, Any]) -> Any:
    """My sign-ups in every station, soonest task first; filter by status, station, time.

    Each carries the ``target`` the app opens: a crossing shift's carries the ``shift_id``
    that its check-in (``.../crossing-guard/shifts/<shift_id>/checkins``) needs.
    """
    query = tasks.my_assignments(db(), current_user().id)
    if args.get("status"):
        query = query.where(Assignment.status.in_(args["status"]))
    if args.get("station"):
        query = query.where(Station.code == args["station"])
    if "since" in args:
        query = query.where(Task.ends_at > args["since"])
    if "until" in args:
        query = query.where(Task.starts_at < args["until"])
    return query
