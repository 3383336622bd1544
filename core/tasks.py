"""Tasks: scheduling, sign-ups with a waitlist, geofenced check-ins, cancellation, visibility.

Plugins build on these services (a patrol, a crossing shift, a care visit are tasks of their
kind). Services take a session and never commit; a raised error means the caller's unit of
work is rolled back. Places are counted in ``task.filled`` and moved only by conditional
UPDATEs, so concurrent sign-ups never overfill a task on either database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, events, geofence, ledger, notifications, targets
from core.access import Actor
from core.db import dialect_insert
from core.errors import Conflict, Invalid, NotFound
from core.hookspecs import TaskKind
from core.models import (
    Assignment,
    AssignmentStatus,
    Checkin,
    Membership,
    Station,
    StationPlugin,
    Task,
    TaskStatus,
    User,
)
from core.models.tasks import CheckinKind, Visibility

# Told when their task is cancelled: everyone still expecting to take part.
EXPECTING = (AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED,
             AssignmentStatus.CHECKED_IN)
EDITABLE = frozenset({"title", "description", "starts_at", "ends_at", "lat", "lon", "radius_m",
                      "capacity", "waitlist", "visibility"})

S = AssignmentStatus
#: ledger sources of a completed assignment: the event its kind pays, and the generic
#: ``core.task_completed`` where the station pays it besides (earn-once keeps each once)
COMPLETION_SOURCE = "assignment"
ALSO_COMPLETED_SOURCE = "assignment_task_completed"


@dataclass
class CheckinResult:
    """What a check-in or check-out did."""

    checkin: Checkin
    assignment: Assignment
    #: the client_id was seen before: nothing new was recorded
    duplicate: bool
    #: points booked by this check-out (0 for a check-in, a duplicate, or an earlier award)
    points: int = 0


def _now_iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def task_target(task: Task) -> dict[str, Any]:
    """What the app opens for a notification about ``task``."""
    return targets.target("core.task", task_id=task.id)


# Kinds and visibility ---------------------------------------------------------------------------

def private_kinds(session: so.Session) -> set[str]:
    """Task kinds that plugins declared private (e.g. care visits)."""
    deployment = session.info.get("deployment")
    kinds = deployment.task_kinds if deployment else {}
    return {name for name, kind in kinds.items() if kind.private}


def kind_owner(session: so.Session, kind: str) -> str | None:
    """The plugin that owns ``kind`` (None for the core's own); 422 ``unknown_task_kind``."""
    deployment = session.info.get("deployment")
    owners = deployment.kind_owners if deployment else {"general": None}
    if kind not in owners:
        raise Invalid("unknown_task_kind", field="kind", kind=kind)
    return owners[kind]


def kind_policy(session: so.Session, kind: str) -> TaskKind:
    """The policy of ``kind``; a kind no installed plugin declares has the core's defaults."""
    deployment = session.info.get("deployment")
    found = deployment.task_kinds.get(kind) if deployment else None
    return found if found is not None else TaskKind(kind)


def _kinds(session: so.Session) -> dict[str, TaskKind]:
    deployment = session.info.get("deployment")
    return dict(deployment.task_kinds) if deployment else {"general": TaskKind("general")}


def _switched_off_kinds(session: so.Session, station_id: int) -> set[str]:
    deployment = session.info.get("deployment")
    return deployment.disabled_kinds(session, station_id) if deployment else set()


def kind_switched_on(session: so.Session) -> sa.ColumnElement[bool]:
    """SQL: the task's kind belongs to the core or to a plugin its station has switched on."""
    deployment = session.info.get("deployment")
    owned = {k: o for k, o in (deployment.kind_owners if deployment else {}).items() if o}
    if not owned:
        return sa.true()
    switched_on = sa.exists().where(StationPlugin.station_id == Task.station_id,
                                    StationPlugin.name == sa.case(owned, value=Task.kind),
                                    StationPlugin.enabled.is_(True))
    return sa.or_(Task.kind.not_in(list(owned)), switched_on)


def can_see(who: Actor, task: Task, assignment: Assignment | None,
            private: set[str], duty_kinds: Iterable[str] = ()) -> bool:
    """Whether ``who`` may see ``task``.

    Assignees always see their task. A private kind is otherwise seen only by staff whose
    duty the owning plugin checked (``duty_kinds``); a private task by officers and admins; a
    public task by the station's volunteers and staff.
    """
    if assignment is not None and assignment.status != S.WITHDRAWN:
        return True
    if task.kind in private:
        return who.is_staff and task.kind in set(duty_kinds)
    if task.visibility == Visibility.PRIVATE:
        return who.is_staff
    return who.has_any("volunteer", "officer", "admin")


def visible_tasks(session: so.Session, who: Actor, *, duty_kinds: Iterable[str] = (),
                  kind: str | list[str] | None = None, status: str | None = None,
                  since: dt.datetime | None = None, until: dt.datetime | None = None,
                  mine: bool = False, has_places: bool = False, can_sign_up: bool = False,
                  near: tuple[float, float, float] | None = None,
                  ) -> sa.Select[Task, AssignmentStatus]:
    """Tasks of the actor's station that ``who`` may see, as (Task, my_status) rows.

    ``since``/``until`` keep tasks whose window overlaps that range; ``mine`` keeps tasks the
    person is assigned to (waitlisted included, withdrawn not); ``has_places`` open tasks
    with a free place; ``can_sign_up`` open tasks not yet over that the person may sign up
    for through the generic endpoints (their kind allows it, their role too) and holds no
    place on; ``near`` (lat, lon, metres) tasks whose position lies that close. Ordered by
    start time.
    """
    private = private_kinds(session)
    staff_private = private & set(duty_kinds)
    switched_off = _switched_off_kinds(session, who.station.id)
    assignee = sa.and_(Assignment.id.is_not(None), Assignment.status != S.WITHDRAWN)
    query = (
        sa.select(Task, Assignment.status.label("my_status"))
        .outerjoin(Assignment, sa.and_(Assignment.task_id == Task.id,
                                       Assignment.user_id == who.user.id))
        .where(Task.station_id == who.station.id)
        .order_by(Task.starts_at, Task.id)
    )
    if switched_off:  # a switched-off plugin's tasks are out of reach, so out of the list
        query = query.where(Task.kind.not_in(switched_off))
    if mine:
        query = query.where(assignee)
    else:
        seen: list[Any] = [assignee]
        if who.is_staff:
            seen.append(Task.kind.not_in(private - staff_private) if private - staff_private
                        else sa.true())
        elif who.has_any("volunteer"):
            seen.append(sa.and_(Task.visibility == Visibility.PUBLIC,
                                Task.kind.not_in(private) if private else sa.true()))
        query = query.where(sa.or_(*seen))
    if kind:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        query = query.where(Task.kind.in_(kinds))
    if status:
        query = query.where(Task.status == status)
    if has_places:
        query = query.where(Task.status == TaskStatus.OPEN, Task.filled < Task.capacity)
    if can_sign_up:
        signable = sorted(name for name, policy in _kinds(session).items()
                          if policy.generic_sign_up and name not in switched_off)
        if not who.has_any("volunteer", "officer", "admin"):
            signable = []
        query = query.where(Task.status == TaskStatus.OPEN, Task.ends_at > clock.now(),
                            Task.kind.in_(signable),
                            sa.or_(Assignment.id.is_(None), Assignment.status == S.WITHDRAWN))
    if near is not None:
        query = query.where(geofence.within(Task.lat, Task.lon, *near))
    if since:
        query = query.where(Task.ends_at > since)
    if until:
        query = query.where(Task.starts_at < until)
    return query


def get_visible_task(session: so.Session, who: Actor, task_id: int, *,
                     duty_kinds: Iterable[str] = ()) -> tuple[Task, Assignment | None]:
    """The task with the person's own assignment, in one query; 404 ``task_not_found``."""
    row = session.execute(
        sa.select(Task, Assignment)
        .outerjoin(Assignment, sa.and_(Assignment.task_id == Task.id,
                                       Assignment.user_id == who.user.id))
        .where(Task.id == task_id, Task.station_id == who.station.id)
    ).first()
    if row is None or not can_see(who, row[0], row[1], private_kinds(session), duty_kinds):
        raise NotFound("task_not_found")
    return row[0], row[1]


# Creating and changing tasks ----------------------------------------------------------------------

def _validate_shape(starts_at: dt.datetime, ends_at: dt.datetime, lat: float | None,
                    lon: float | None, radius_m: int, capacity: int) -> None:
    if ends_at <= starts_at:
        raise Invalid("task_window_invalid", field="ends_at")
    if (lat is None) != (lon is None):
        raise Invalid("position_incomplete", field="lat" if lat is None else "lon")
    if lat is not None and not -90 <= lat <= 90:
        raise Invalid("validation_error", field="lat")
    if lon is not None and not -180 <= lon <= 180:
        raise Invalid("validation_error", field="lon")
    if radius_m < 1:
        raise Invalid("validation_error", field="radius_m")
    if capacity < 1:
        raise Invalid("validation_error", field="capacity")


def create_task(session: so.Session, station_id: int, *, title: str, starts_at: dt.datetime,
                ends_at: dt.datetime, kind: str = "general", lat: float | None = None,
                lon: float | None = None, radius_m: int = 100, capacity: int = 1,
                waitlist: bool = False, visibility: str = Visibility.PUBLIC,
                created_by: int | None = None, description: str = "") -> Task:
    """Create an open task of ``kind`` (the core's ``general`` or a plugin's own kind).

    :param lat, lon, radius_m: the geofence; without a position check-ins are not fenced.
    :param capacity: places; ``waitlist`` keeps a queue once they are taken.
    :param visibility: ``public`` (the station's volunteers) or ``private`` (assignees and
        staff); a private *kind* is private whatever this says.
    :raises Invalid: ``task_window_invalid``, ``position_incomplete``, ``unknown_task_kind``.
    """
    kind_owner(session, kind)
    _validate_shape(starts_at, ends_at, lat, lon, radius_m, capacity)
    now = clock.now()
    task = Task(station_id=station_id, kind=kind, title=title, description=description,
                starts_at=starts_at, ends_at=ends_at, lat=lat, lon=lon, radius_m=radius_m,
                capacity=capacity, filled=0, waitlist=waitlist,
                visibility=Visibility(visibility), status=TaskStatus.OPEN,
                created_by=created_by, created_at=now, updated_at=now)
    session.add(task)
    session.flush()
    return task


def update_task(session: so.Session, task: Task, changes: dict[str, Any]) -> Task:
    """Change an open task's fields (:data:`EDITABLE`).

    Capacity may not drop below the places taken (409 ``capacity_below_filled``); raising it
    promotes waitlisted people in order.
    """
    _require_open(task)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise Invalid("validation_error", field=sorted(unknown)[0])
    merged = {k: changes.get(k, getattr(task, k)) for k in
              ("starts_at", "ends_at", "lat", "lon", "radius_m", "capacity")}
    _validate_shape(**merged)
    if "capacity" in changes and changes["capacity"] != task.capacity:
        _set_capacity(session, task, changes["capacity"])
    for key, value in changes.items():
        if key == "capacity":
            continue
        setattr(task, key, Visibility(value) if key == "visibility" else value)
    task.updated_at = clock.now()
    session.flush()
    # Also when the waitlist was just switched off: those already waiting keep their turn.
    promote_waitlisted(session, task)
    return task


def _set_capacity(session: so.Session, task: Task, capacity: int) -> None:
    # Conditional, so a sign-up committed meanwhile cannot end up beyond the new capacity.
    row = session.execute(
        sa.update(Task).where(Task.id == task.id, Task.filled <= capacity)
        .values(capacity=capacity).returning(Task.filled)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        raise Conflict("capacity_below_filled", filled=task.filled, capacity=capacity)
    so.attributes.set_committed_value(task, "capacity", capacity)
    so.attributes.set_committed_value(task, "filled", row[0])


def cancel_task(session: so.Session, task: Task, *, reason: str = "") -> list[int]:
    """Cancel an open task and notify everyone still expecting to take part.

    Assignments keep their status (history); the task takes no more sign-ups or check-ins.
    :return: the ids of the people notified.
    """
    _require_open(task)
    task.status = TaskStatus.CANCELLED
    task.updated_at = clock.now()
    people = session.scalars(
        sa.select(Assignment.user_id).where(Assignment.task_id == task.id,
                                            Assignment.status.in_(EXPECTING))
        .order_by(Assignment.id)
    ).all()
    for user_id in people:
        notifications.notify(session, user_id, "core.task_cancelled", station_id=task.station_id,
                             target=task_target(task), task_id=task.id, title=task.title,
                             starts_at=task.starts_at, ends_at=task.ends_at, reason=reason)
    session.flush()
    return list(people)


def finish_task(session: so.Session, task: Task) -> None:
    """Mark an open task done: no more sign-ups; late check-outs are still accepted."""
    _require_open(task)
    task.status = TaskStatus.DONE
    task.updated_at = clock.now()
    session.flush()


def _require_open(task: Task) -> None:
    if task.status != TaskStatus.OPEN:
        raise Conflict("task_not_open", status=str(task.status))


# Places: sign-up, waitlist, withdrawal ---------------------------------------------------------

def _take_place(session: so.Session, task: Task) -> bool:
    """Take one place with a conditional UPDATE: concurrent takers never overfill."""
    row = session.execute(
        sa.update(Task)
        .where(Task.id == task.id, Task.status == TaskStatus.OPEN, Task.filled < Task.capacity)
        .values(filled=Task.filled + 1).returning(Task.filled)
        .execution_options(synchronize_session=False)
    ).first()
    if row is not None:
        so.attributes.set_committed_value(task, "filled", row[0])
    return row is not None


def _free_place(session: so.Session, task: Task) -> None:
    row = session.execute(
        sa.update(Task).where(Task.id == task.id, Task.filled > 0)
        .values(filled=Task.filled - 1).returning(Task.filled)
        .execution_options(synchronize_session=False)
    ).first()
    if row is not None:
        so.attributes.set_committed_value(task, "filled", row[0])


def _move(session: so.Session, assignment: Assignment, previous: AssignmentStatus,
          status: AssignmentStatus, **values: Any) -> bool:
    """Move an assignment from ``previous`` to ``status`` unless someone else moved it first."""
    values = {"status": status, "updated_at": clock.now(), **values}
    result: sa.CursorResult[Any] = session.execute(  # type: ignore[assignment]
        sa.update(Assignment).where(Assignment.id == assignment.id,
                                    Assignment.status == previous)
        .values(**values).execution_options(synchronize_session=False))
    moved = result.rowcount
    if moved == 1:
        for key, value in values.items():
            so.attributes.set_committed_value(assignment, key, value)
    return moved == 1


def find_assignment(session: so.Session, task: Task, user_id: int) -> Assignment | None:
    return session.scalar(sa.select(Assignment).where(
        Assignment.station_id == task.station_id, Assignment.task_id == task.id,
        Assignment.user_id == user_id))


class _LookUp:
    """Marks an argument the service should look up itself."""


LOOK_UP = _LookUp()


def sign_up(session: so.Session, task: Task, user_id: int, *, by: int | None = None,
            existing: Assignment | None | _LookUp = LOOK_UP, waitlist: bool = True,
            tell: bool = True) -> Assignment:
    """Give ``user_id`` a place on ``task``, or a place in its waitlist.

    :param by: the officer who assigned the person (None when they signed up themselves);
        the person is notified (``core.task_assigned``) unless ``tell`` is False, for a
        plugin that tells them in its own words.
    :param existing: the person's assignment when the caller already loaded it (None for
        none), which saves a query; leave it out to have it looked up.
    :param waitlist: False: no place is no sign-up (``task_full``), even where the task
        keeps a waitlist (the person asked not to wait).
    :return: the assignment, ``signed_up`` or ``waitlisted``.
    :raises Conflict: ``task_not_open``, ``task_ended``, ``already_signed_up``, ``task_full``
        (no place, and no waitlist kept or wanted).
    """
    _require_open(task)
    if clock.now() >= task.ends_at:
        raise Conflict("task_ended")
    if isinstance(existing, _LookUp):
        existing = find_assignment(session, task, user_id)
    if existing is not None and existing.status != S.WITHDRAWN:
        raise Conflict("already_signed_up", status=str(existing.status))
    took = _take_place(session, task)
    if not took and not (task.waitlist and waitlist):
        raise Conflict("task_full", capacity=task.capacity)
    status = S.SIGNED_UP if took else S.WAITLISTED
    now = clock.now()
    if existing is None:
        assignment = session.scalars(
            dialect_insert(session, Assignment)
            .values(station_id=task.station_id, task_id=task.id, user_id=user_id, status=status,
                    assigned_by=by, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["station_id", "task_id", "user_id"])
            .returning(Assignment)
        ).first()
        previous = None
    else:
        previous = S.WITHDRAWN
        assignment = existing if _move(session, existing, S.WITHDRAWN, status, assigned_by=by,
                                       checked_in_at=None, checked_out_at=None) else None
    if assignment is None:  # the same person signing up twice at once
        if took:
            _free_place(session, task)
        raise Conflict("already_signed_up")
    if by is not None and by != user_id and tell:
        notifications.notify(session, user_id, "core.task_assigned", station_id=task.station_id,
                             target=task_target(task), task_id=task.id, title=task.title,
                             starts_at=task.starts_at, ends_at=task.ends_at, status=str(status),
                             **notifications.named(session, "by", by))
    events.assignment_changed(session, task, assignment, previous)
    return assignment


def waitlist_position(session: so.Session, assignment: Assignment) -> int | None:
    """1 for the first in line; None when not waitlisted."""
    if assignment.status != S.WAITLISTED:
        return None
    ahead = session.scalar(
        sa.select(sa.func.count()).select_from(Assignment).where(
            Assignment.task_id == assignment.task_id, Assignment.status == S.WAITLISTED,
            sa.or_(Assignment.updated_at < assignment.updated_at,
                   sa.and_(Assignment.updated_at == assignment.updated_at,
                           Assignment.id < assignment.id))))
    return int(ahead or 0) + 1


def withdraw(session: so.Session, task: Task, user_id: int) -> Assignment:
    """Take ``user_id`` off ``task`` (a place or the waitlist).

    A freed place goes to the first waitlisted person, who is notified.
    :raises NotFound: ``assignment_not_found``.
    :raises Conflict: ``cannot_withdraw`` once checked in, completed or marked no-show.
    """
    _require_open(task)
    assignment = find_assignment(session, task, user_id)
    if assignment is None or assignment.status == S.WITHDRAWN:
        raise NotFound("assignment_not_found")
    previous = assignment.status
    if previous not in (S.SIGNED_UP, S.WAITLISTED):
        raise Conflict("cannot_withdraw", status=str(previous))
    if not _move(session, assignment, previous, S.WITHDRAWN):
        raise Conflict("conflict")
    events.assignment_changed(session, task, assignment, previous)
    if previous == S.SIGNED_UP:
        _free_place(session, task)
        promote_waitlisted(session, task)
    return assignment


def promote_waitlisted(session: so.Session, task: Task) -> list[Assignment]:
    """Give free places to waitlisted people, first come first served, and notify them."""
    promoted: list[Assignment] = []
    while task.filled < task.capacity:
        # SKIP LOCKED on PostgreSQL: two promoters never wait on, or pick, the same person.
        candidate = session.scalar(
            sa.select(Assignment)
            .where(Assignment.task_id == task.id, Assignment.status == S.WAITLISTED)
            .order_by(Assignment.updated_at, Assignment.id).limit(1)
            .with_for_update(skip_locked=True)
        )
        if candidate is None or not _take_place(session, task):
            break
        if not _move(session, candidate, S.WAITLISTED, S.SIGNED_UP):
            _free_place(session, task)
            continue
        notifications.notify(session, candidate.user_id, "core.waitlist_promoted",
                             station_id=task.station_id, target=task_target(task),
                             task_id=task.id, title=task.title, starts_at=task.starts_at,
                             ends_at=task.ends_at)
        events.assignment_changed(session, task, candidate, S.WAITLISTED)
        promoted.append(candidate)
    return promoted


def transfer_place(session: so.Session, task: Task, from_user_id: int,
                   to_user_id: int) -> Assignment:
    """Hand ``from_user_id``'s place to ``to_user_id`` in one step (a swap between two people).

    The place never goes back to the pool, so nobody in the waitlist can take it meanwhile;
    ``filled`` does not move. The receiver may have been waitlisted or withdrawn before.
    :raises Conflict: ``not_assigned`` when the giver no longer holds a place,
        ``already_signed_up`` when the receiver holds one.
    """
    _require_open(task)
    giver = find_assignment(session, task, from_user_id)
    if giver is None or not _move(session, giver, S.SIGNED_UP, S.WITHDRAWN):
        raise Conflict("not_assigned", status=str(giver.status) if giver else None)
    receiver = find_assignment(session, task, to_user_id)
    now = clock.now()
    if receiver is None:
        previous = None
        receiver = session.scalars(
            dialect_insert(session, Assignment)
            .values(station_id=task.station_id, task_id=task.id, user_id=to_user_id,
                    status=S.SIGNED_UP, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["station_id", "task_id", "user_id"])
            .returning(Assignment)
        ).first()
    else:
        previous = receiver.status
        if previous not in (S.WAITLISTED, S.WITHDRAWN) or not _move(
                session, receiver, previous, S.SIGNED_UP, checked_in_at=None,
                checked_out_at=None):
            receiver = None
    if receiver is None:
        raise Conflict("already_signed_up")
    events.assignment_changed(session, task, giver, S.SIGNED_UP)
    events.assignment_changed(session, task, receiver, previous)
    return receiver


def mark_no_show(session: so.Session, task: Task, assignment: Assignment,
                 now: dt.datetime | None = None) -> bool:
    """Record that a signed-up person never checked in; False if someone moved it first.

    The place is freed and goes to the first in the waitlist, who is notified.
    """
    if not _move(session, assignment, S.SIGNED_UP, S.NO_SHOW, updated_at=now or clock.now()):
        return False
    events.assignment_changed(session, task, assignment, S.SIGNED_UP)
    _free_place(session, task)
    promote_waitlisted(session, task)
    return True


def no_show_grace(session: so.Session, station: Station, kind: TaskKind) -> dt.timedelta:
    """The kind's grace: its plugin's setting when it names one, else the station's."""
    if kind.no_show_grace_setting is not None:
        deployment = events.deployment(session)
        owner = deployment.kind_owners[kind.name]
        if owner is not None:
            values = deployment.station_settings(session, station.id, owner)
            return dt.timedelta(minutes=int(values[kind.no_show_grace_setting]))
    minutes = geofence.station_rules(station.settings)["no_show_grace_minutes"]
    return dt.timedelta(minutes=int(minutes))


def no_show_due(session: so.Session, station: Station, now: dt.datetime) -> sa.ColumnElement[bool]:
    """SQL: a signed-up assignment whose kind's grace has run out, from the kind's anchor.

    The grace also runs from when the person got the place (a promotion after the start
    gives the newcomer the whole grace to arrive).
    """
    deployment = session.info.get("deployment")
    kinds = dict(deployment.task_kinds) if deployment else {"general": TaskKind("general")}
    switched_off = _switched_off_kinds(session, station.id)
    due = []
    for name, kind in kinds.items():
        if name in switched_off:
            continue  # its plugin's rules would not run: left alone while it is off
        cutoff = now - no_show_grace(session, station, kind)
        anchor = Task.starts_at if kind.no_show_from == "start" else Task.ends_at
        due.append(sa.and_(Task.kind == name, anchor <= cutoff, Assignment.updated_at <= cutoff))
    return sa.and_(Assignment.status == S.SIGNED_UP, Task.status != TaskStatus.CANCELLED,
                   sa.or_(*due) if due else sa.false())


# Check-in and check-out ------------------------------------------------------------------------

def check_in(session: so.Session, task: Task, user_id: int, *, kind: str, lat: float,
             lon: float, accuracy_m: float, device_time: dt.datetime, client_id: str,
             is_mock: bool = False,
             assignment: Assignment | None | _LookUp = LOOK_UP) -> CheckinResult:
    """Record a check-in (``kind="in"``) or check-out (``"out"``) reported by a phone.

    Rules (ENGINEERING.md, station settings in ``Station.settings["tasks"]``): the fix must be
    within the station's accuracy limit (422 ``position_inaccurate``) and inside the fence
    (422 ``outside_geofence`` with distance and radius); check-in opens
    ``checkin_opens_minutes`` before the window and closes at its end, check-out closes
    ``checkout_grace_minutes`` after it (422 ``checkin_not_open`` / ``checkin_closed``). The
    window is judged on the device time, so a check-in sent late from a phone that was offline
    still counts, within ``max_offline_minutes``; both times are recorded, with ``is_mock``.

    A check-out after a check-in completes the assignment, books ``core.task_completed``
    (earn-once per assignment) and tells the plugins. A ``client_id`` seen before returns
    the first record with ``duplicate=True`` and changes nothing.

    :param assignment: the person's assignment when the caller already loaded it (None for
        none), which saves a query.
    """
    kind = CheckinKind(kind)
    if isinstance(assignment, _LookUp):
        assignment = find_assignment(session, task, user_id)
    try:
        return _record_checkin(session, task, user_id, assignment, kind=kind, lat=lat, lon=lon,
                               accuracy_m=accuracy_m, device_time=device_time,
                               client_id=client_id, is_mock=is_mock)
    except _RaceLost as lost:
        raise lost.error from None
    except (Conflict, Invalid):
        # A re-sent check-in is always refused as new (the first one moved the assignment
        # on): only then is it worth looking for its client_id.
        existing = _by_client_id(session, task.station_id, client_id)
        if existing is None:
            raise
        return _duplicate(existing, task, user_id, kind, assignment)


class _RaceLost(Exception):
    """Carries a refusal that must not be taken for a re-sent check-in."""

    def __init__(self, error: Conflict | Invalid) -> None:
        super().__init__(error.code)
        self.error = error


def _record_checkin(session: so.Session, task: Task, user_id: int,
                    assignment: Assignment | None, *, kind: CheckinKind, lat: float, lon: float,
                    accuracy_m: float, device_time: dt.datetime, client_id: str,
                    is_mock: bool) -> CheckinResult:
    if assignment is None or assignment.status in (S.WAITLISTED, S.WITHDRAWN, S.NO_SHOW):
        raise Conflict("not_assigned", status=str(assignment.status) if assignment else None)
    # A task closed as done still takes the check-outs of people who were there.
    if task.status == TaskStatus.CANCELLED or (task.status == TaskStatus.DONE
                                               and kind == CheckinKind.IN):
        raise Conflict("task_not_open", status=str(task.status))
    station = session.get(Station, task.station_id)
    rules = geofence.station_rules(station.settings if station else None)
    now = clock.now()
    clock.check_device_time(device_time, rules, server_time=now)
    if is_mock and rules["refuse_mock_locations"]:
        raise Invalid("mock_location_refused")
    previous = assignment.status
    if kind == CheckinKind.IN:
        target, stamp = S.CHECKED_IN, "checked_in_at"
        if previous != S.SIGNED_UP:
            raise Conflict("already_checked_in" if previous == S.CHECKED_IN
                           else "already_completed")
        opens = task.starts_at - dt.timedelta(minutes=rules["checkin_opens_minutes"])
        if device_time < opens:
            raise Invalid("checkin_not_open", opens_at=_now_iso(opens))
        if device_time > task.ends_at:
            raise Invalid("checkin_closed", closed_at=_now_iso(task.ends_at))
    else:
        target, stamp = S.COMPLETED, "checked_out_at"
        if previous != S.CHECKED_IN:
            raise Conflict("already_completed" if previous == S.COMPLETED else "not_checked_in")
        closes = task.ends_at + dt.timedelta(minutes=rules["checkout_grace_minutes"])
        if device_time > closes:
            raise Invalid("checkin_closed", closed_at=_now_iso(closes))
        _require_completion(session, task, assignment, device_time)
    distance = geofence.check_position(
        centre=(task.lat, task.lon) if task.lat is not None and task.lon is not None else None,
        radius_m=task.radius_m, lat=lat, lon=lon, accuracy_m=accuracy_m,
        accuracy_limit_m=rules["accuracy_limit_m"])
    # The record first: a concurrent request with the same client_id waits here on the unique
    # index and, once the first commits, finds it (a duplicate) before changing anything.
    checkin = session.scalars(
        dialect_insert(session, Checkin)
        .values(station_id=task.station_id, task_id=task.id, assignment_id=assignment.id,
                user_id=user_id, kind=kind, lat=lat, lon=lon, accuracy_m=accuracy_m,
                is_mock=is_mock, distance_m=distance, device_time=device_time,
                server_time=now, client_id=client_id)
        .on_conflict_do_nothing(index_elements=["station_id", "client_id"])
        .returning(Checkin)
    ).first()
    if checkin is None:
        raced = _by_client_id(session, task.station_id, client_id)
        if raced is not None:
            session.refresh(assignment)
            return _duplicate(raced, task, user_id, kind, assignment)
        raise Conflict("client_id_reused", client_id=client_id)
    # The assignment keeps when it happened (the device time); the record keeps both times.
    if not _move(session, assignment, previous, target, **{stamp: device_time}):
        # Another check-in of this person, with another client_id, won the race; ours is
        # refused as it stands (our record is in the transaction the caller rolls back).
        raise _RaceLost(Conflict("already_checked_in" if kind == CheckinKind.IN
                                 else "already_completed"))
    try:
        events.assignment_changed(session, task, assignment, previous)
        points = 0
        if target == S.COMPLETED:
            needs_acceptance = kind_policy(session, task.kind).needs_acceptance
            if not needs_acceptance:
                points = pay_completion(session, task, assignment)
            events.task_completed(session, task, assignment)
            if needs_acceptance:
                # The plugin may accept it at once (a visit with nothing to review): the answer
                # says what it booked.
                points = completion_points(session, task, assignment)
    except (Conflict, Invalid) as refused:
        # A plugin refused the check-in (e.g. care visits after a withdrawn consent): our own
        # record is in this transaction, so it must not be taken for a re-sent check-in.
        raise _RaceLost(refused) from None
    return CheckinResult(checkin, assignment, duplicate=False, points=points)


def _require_completion(session: so.Session, task: Task, assignment: Assignment,
                        device_time: dt.datetime) -> None:
    """What the kind's completion needs, judged on the phone's times, before anything moves."""
    policy = kind_policy(session, task.kind)
    if policy.complete_not_before_start and device_time < task.starts_at:
        raise Invalid("checkout_before_start", starts_at=_now_iso(task.starts_at))
    if policy.min_minutes:
        came = session.scalar(sa.select(Checkin.device_time).where(
            Checkin.assignment_id == assignment.id, Checkin.kind == CheckinKind.IN)
            .order_by(Checkin.id.desc()).limit(1))
        if came is not None and device_time - came < dt.timedelta(minutes=policy.min_minutes):
            raise Invalid("checkout_too_soon", min_minutes=policy.min_minutes)


def pay_completion(session: so.Session, task: Task, assignment: Assignment) -> int:
    """Book what a completed assignment pays, each event once; the points booked.

    The event the task's kind names (``TaskKind.pays``), and ``core.task_completed`` besides
    it only where the station's points rules list the kind
    (:func:`core.ledger.task_completed_also_for`). Called by the check-out, or by the plugin
    when its officer accepts a completion that needed acceptance (never for a rejected one).
    """
    if assignment.status != S.COMPLETED:
        return 0
    event = kind_policy(session, task.kind).pays
    paid = []
    if event is not None:
        paid.append((event, COMPLETION_SOURCE))
    if event != ledger.TASK_COMPLETED and task.kind in ledger.task_completed_also_for(
            session.get(Station, task.station_id)):
        paid.append((ledger.TASK_COMPLETED, ALSO_COMPLETED_SOURCE))
    booked = 0
    for code, source_type in paid:
        entry = ledger.award(session, station_id=task.station_id, user_id=assignment.user_id,
                             event_code=code, source_type=source_type, source_id=assignment.id)
        booked += entry.amount if entry is not None else 0
    return booked


def completion_points(session: so.Session, task: Task, assignment: Assignment) -> int:
    """The points booked so far for the completion of ``assignment`` (both its sources)."""
    return ledger.booked_for(session, station_id=task.station_id, user_id=assignment.user_id,
                             source_types=(COMPLETION_SOURCE, ALSO_COMPLETED_SOURCE),
                             source_id=assignment.id)


def _by_client_id(session: so.Session, station_id: int, client_id: str) -> Checkin | None:
    return session.scalar(sa.select(Checkin).where(Checkin.station_id == station_id,
                                                   Checkin.client_id == client_id))


def _duplicate(existing: Checkin, task: Task, user_id: int, kind: CheckinKind,
               assignment: Assignment | None) -> CheckinResult:
    if (existing.task_id != task.id or existing.user_id != user_id or existing.kind != kind
            or assignment is None):
        raise Conflict("client_id_reused", client_id=existing.client_id)
    return CheckinResult(existing, assignment, duplicate=True)


def checkins_query(task: Task) -> sa.Select[Checkin]:
    """A task's check-ins and check-outs, oldest first."""
    return (sa.select(Checkin).where(Checkin.station_id == task.station_id,
                                     Checkin.task_id == task.id)
            .order_by(Checkin.server_time, Checkin.id))


def assignments_query(task: Task) -> sa.Select[Assignment, User]:
    """A task's assignments with the people, places first then the waitlist in order."""
    waiting = sa.case((Assignment.status == S.WAITLISTED, 1), else_=0)
    return (sa.select(Assignment, User).join(User, User.id == Assignment.user_id)
            .where(Assignment.station_id == task.station_id, Assignment.task_id == task.id)
            .order_by(waiting, Assignment.updated_at, Assignment.id))


def my_assignments(session: so.Session, user_id: int) -> sa.Select[Assignment, Task, Station]:
    """A person's assignments across stations with their tasks, soonest task first.

    Tasks of a plugin its station has switched off are left out.
    """
    return (sa.select(Assignment, Task, Station)
            .join(Task, Task.id == Assignment.task_id)
            .join(Station, Station.id == Assignment.station_id)
            # Tasks of a station the person left (their places there withdrawn) are not
            # theirs to see any more: a care visit's task carries a home's position.
            .join(Membership, sa.and_(Membership.station_id == Assignment.station_id,
                                      Membership.user_id == Assignment.user_id))
            .where(Assignment.user_id == user_id, kind_switched_on(session),
                   # as can_see: a withdrawn place on a private task (a home's position) is
                   # no longer the person's to see
                   sa.or_(Assignment.status != S.WITHDRAWN,
                          Task.kind.not_in(sorted(private_kinds(session)))))
            .order_by(Task.starts_at, Task.id))
