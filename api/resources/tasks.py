"""Tasks of a station: scheduling, sign-ups and the waitlist, check-ins, check-in settings."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from api.auth import actor
from api.fields import Name, NearArgsSchema, Text, TimeRangeArgsSchema, near_args
from api.pagination import QueryPage
from api.positions import Lat, Lon, Positioned
from api.smorest import Blueprint, Schema
from api.task_schemas import (
    ASSIGNMENT_FIELDS,
    AssignmentSchema,
    CheckinCreateSchema,
    CheckinResultSchema,
    CheckinSchema,
    SignupCreateSchema,
    assignment_view,
    checkin_answer,
)
from api.unit_of_work import db
from core import task_requests
from core.models import Task
from core.models.tasks import TaskStatus, Visibility

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/stations",
                description="Tasks, sign-ups, waitlists and geofenced check-ins")



class TaskSchema(Positioned):
    id = ma.fields.Integer(dump_only=True)
    kind = ma.fields.String(load_default="general", validate=ma.validate.Length(max=48))
    title = Name(max_length=200, required=True)
    description = Text(max_length=4000, load_default="")
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    lat = Lat(allow_none=True, load_default=None)
    lon = Lon(allow_none=True, load_default=None)
    radius_m = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=10000),
                                 metadata={"description": "Geofence radius in metres"})
    capacity = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1000))
    filled = ma.fields.Integer(dump_only=True, metadata={"description": "Places taken"})
    waitlist = ma.fields.Boolean(load_default=False,
                                 metadata={"description": "Queue people once the task is full"})
    visibility = ma.fields.String(load_default="public",
                                  validate=ma.validate.OneOf([v.value for v in Visibility]))
    status = ma.fields.String(dump_only=True)
    created_by = ma.fields.Integer(dump_only=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)
    my_status = ma.fields.String(dump_only=True, allow_none=True,
                                 metadata={"description": "My assignment's status, if any"})

    @ma.pre_dump
    def _row(self, obj: Any, **_kwargs: Any) -> Any:
        # List rows are (Task, my_status); a single task comes with my assignment's status.
        if isinstance(obj, sa.Row):
            task, status = obj
            return _task_view(task, status)
        return obj


def _task_view(task: Task, my_status: str | None) -> dict[str, Any]:
    fields = ("id", "kind", "title", "description", "starts_at", "ends_at", "lat", "lon",
              "radius_m", "capacity", "filled", "waitlist", "visibility", "status", "created_by",
              "created_at", "updated_at")
    return {**{f: getattr(task, f) for f in fields}, "my_status": my_status}


class TaskUpdateSchema(Positioned):
    title = Name(max_length=200)
    description = Text(max_length=4000)
    starts_at = ma.fields.AwareDateTime()
    ends_at = ma.fields.AwareDateTime()
    lat = Lat(allow_none=True)
    lon = Lon(allow_none=True)
    radius_m = ma.fields.Integer(validate=ma.validate.Range(min=1, max=10000))
    capacity = ma.fields.Integer(validate=ma.validate.Range(min=1, max=1000))
    waitlist = ma.fields.Boolean()
    visibility = ma.fields.String(validate=ma.validate.OneOf([v.value for v in Visibility]))


class TaskQueryArgsSchema(NearArgsSchema, TimeRangeArgsSchema):
    kind = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=48)),
                          validate=ma.validate.Length(max=20),
                          metadata={"description": "Repeat to keep several kinds"})
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in TaskStatus]))
    mine = ma.fields.Boolean(load_default=False,
                             metadata={"description": "Only tasks I am signed up or waiting for"})
    has_places = ma.fields.Boolean(load_default=False, metadata={
        "description": "Only open tasks with a free place"})
    can_sign_up = ma.fields.Boolean(load_default=False, metadata={
        "description": "Only tasks I can sign up for here: open, not over, of a kind whose "
                       "sign-up goes through /tasks, and not mine yet (a full one with a "
                       "waitlist included; add has_places for a free place)"})


class CancelSchema(Schema):
    reason = Text(max_length=500, load_default="")


class SignupSchema(AssignmentSchema):
    """Dumps (Assignment, User) rows: a task's people, for its officers."""

    display_name = ma.fields.String()

    @ma.pre_dump
    def _row(self, obj: Any, **_kwargs: Any) -> Any:
        assignment, user = obj
        return {**{f: getattr(assignment, f) for f in ASSIGNMENT_FIELDS},
                "waitlist_position": None, "display_name": user.display_name}


class TaskSettingsSchema(Schema):
    accuracy_limit_m = ma.fields.Integer(validate=ma.validate.Range(min=5, max=1000))
    checkin_opens_minutes = ma.fields.Integer(validate=ma.validate.Range(min=0, max=1440))
    checkout_grace_minutes = ma.fields.Integer(validate=ma.validate.Range(min=0, max=1440))
    max_offline_minutes = ma.fields.Integer(validate=ma.validate.Range(min=0, max=10080),
                                            metadata={"description": (
        "A device time (check-in, scan, patrol start) uploaded later than this is refused")})
    device_clock_ahead_seconds = ma.fields.Integer(
        validate=ma.validate.Range(min=0, max=3600),
        metadata={"description": "A device time further ahead of the server is refused"})
    refuse_mock_locations = ma.fields.Boolean()
    no_show_grace_minutes = ma.fields.Integer(validate=ma.validate.Range(min=0, max=1440))
    position_retention_days = ma.fields.Integer(validate=ma.validate.Range(min=1, max=3650))


# Tasks ----------------------------------------------------------------------------------------

@blp.route("/<station>/tasks", methods=["POST"])
@blp.arguments(TaskSchema)
@blp.response(201, TaskSchema)
def tasks_create(body: dict[str, Any], station: str) -> dict[str, Any]:
    """Post a task with a place, a window and a number of places (officers and admins)."""
    task = task_requests.create(db(), actor(station), body)
    return _task_view(task, None)


@blp.route("/<station>/tasks", methods=["GET"])
@blp.arguments(TaskQueryArgsSchema, location="query")
@blp.response(200, TaskSchema(many=True))
@blp.paginate(QueryPage)
def tasks_list(args: dict[str, Any], station: str) -> Any:
    """Tasks I may see, by start time; filter by kind, status, time range, mine, free places,
    what I can sign up for, or near a position.

    Tasks of a plugin the station has switched off are left out.
    """
    return task_requests.listed(db(), actor(station), **near_args(args))


@blp.route("/<station>/tasks/<int:task_id>", methods=["GET"])
@blp.response(200, TaskSchema)
def tasks_get(station: str, task_id: int) -> dict[str, Any]:
    """A task, with my assignment's status."""
    task, mine = task_requests.open_task(db(), actor(station), task_id)
    return _task_view(task, mine.status if mine else None)


@blp.route("/<station>/tasks/<int:task_id>", methods=["PATCH"])
@blp.arguments(TaskUpdateSchema)
@blp.response(200, TaskSchema)
def tasks_update(changes: dict[str, Any], station: str, task_id: int) -> dict[str, Any]:
    """Change an open task (officers and admins); more places go to the waitlist in order.

    A task whose kind's plugin keeps edits to itself answers 403 ``task_managed_by_plugin``.
    """
    task, mine = task_requests.update(db(), actor(station), task_id, changes)
    return _task_view(task, mine.status if mine else None)


@blp.route("/<station>/tasks/<int:task_id>/cancel", methods=["POST"])
@blp.arguments(CancelSchema)
@blp.response(200, TaskSchema)
def tasks_cancel(body: dict[str, Any], station: str, task_id: int) -> dict[str, Any]:
    """Cancel a task; everyone signed up or waiting is notified (officers and admins)."""
    task, mine = task_requests.cancel(db(), actor(station), task_id, body["reason"])
    return _task_view(task, mine.status if mine else None)


# Sign-ups -------------------------------------------------------------------------------------

@blp.route("/<station>/tasks/<int:task_id>/signups", methods=["GET"])
@blp.response(200, SignupSchema(many=True))
@blp.paginate(QueryPage)
def signups_list(station: str, task_id: int) -> Any:
    """A task's people: places first, then the waitlist in order (officers and admins)."""
    return task_requests.signups(db(), actor(station), task_id)


@blp.route("/<station>/tasks/<int:task_id>/signups", methods=["POST"])
@blp.arguments(SignupCreateSchema)
@blp.response(201, AssignmentSchema)
def signups_create(body: dict[str, Any], station: str, task_id: int) -> dict[str, Any]:
    """Sign up for a task, or join its waitlist; officers may assign someone (``user_id``).

    409 ``task_full`` when no place is left and the task keeps no waitlist (or the request
    says ``waitlist: false``).
    """
    session = db()
    assignment = task_requests.sign_up(session, actor(station), task_id, body.get("user_id"),
                                       waitlist=body["waitlist"])
    return assignment_view(session, assignment)


@blp.route("/<station>/tasks/<int:task_id>/signups/me", methods=["DELETE"])
@blp.response(204)
def signups_delete_mine(station: str, task_id: int) -> None:
    """Withdraw from a task or its waitlist; my place goes to the first in line."""
    task_requests.withdraw(db(), actor(station), task_id)


@blp.route("/<station>/tasks/<int:task_id>/signups/<int:user_id>", methods=["DELETE"])
@blp.response(204)
def signups_delete(station: str, task_id: int, user_id: int) -> None:
    """Take someone off a task (officers and admins); the place goes to the first in line."""
    task_requests.withdraw(db(), actor(station), task_id, user_id)


# Check-ins ------------------------------------------------------------------------------------

@blp.route("/<station>/tasks/<int:task_id>/checkins", methods=["POST"])
@blp.arguments(CheckinCreateSchema)
@blp.response(201, CheckinResultSchema)
@blp.alt_response(200, schema=CheckinResultSchema, description="A re-sent client_id")
def checkins_create(body: dict[str, Any], station: str, task_id: int) -> Any:
    """Check in (``kind: in``) or out (``out``) on the spot; check-out completes the task.

    422 ``outside_geofence`` carries ``distance_m`` and ``radius_m``; a re-sent ``client_id``
    answers 200 with ``duplicate: true`` and records nothing. ``status`` is my assignment's
    status after it and ``points`` what the ledger booked (``assignment_status`` and
    ``points_awarded`` are their deprecated names). A crossing shift's check-in at
    ``.../crossing-guard/shifts/<shift_id>/checkins`` answers the same.
    """
    return checkin_answer(task_requests.check_in(db(), actor(station), task_id, **body))


@blp.route("/<station>/tasks/<int:task_id>/checkins", methods=["GET"])
@blp.response(200, CheckinSchema(many=True))
@blp.paginate(QueryPage)
def checkins_list(station: str, task_id: int) -> Any:
    """A task's check-ins and check-outs: all for officers and admins, my own for others."""
    return task_requests.checkins(db(), actor(station), task_id)


# Settings -------------------------------------------------------------------------------------

@blp.route("/<station>/task-settings", methods=["GET"])
@blp.response(200, TaskSettingsSchema)
def task_settings_get(station: str) -> dict[str, Any]:
    """The station's check-in rules: accuracy limit, when check-in opens and closes."""
    return task_requests.check_in_rules(actor(station))


@blp.route("/<station>/task-settings", methods=["PUT"])
@blp.arguments(TaskSettingsSchema)
@blp.response(200, TaskSettingsSchema)
def task_settings_put(body: dict[str, Any], station: str) -> dict[str, Any]:
    """Change the station's check-in rules (admins); fields left out keep their value."""
    return task_requests.change_check_in_rules(db(), actor(station), body)

