"""Who guards which shift: sign-up (one or a series), withdrawal and its cutoff, release, check-in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, notifications, tasks
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound, PermissionDenied, WardensError
from core.models import Assignment, AssignmentStatus, Membership, Task, TaskStatus, User
from plugins.crossing_guard import schedule, schools, settings, shift_templates, terms
from plugins.crossing_guard.models import CancelReason, Post, School, Shift, Template
from plugins.crossing_guard.team import is_coordinator, is_guard, require_coordinator

S = AssignmentStatus
# Statuses that mean the person is on the shift (a place, or in line for one).
ON_SHIFT = (S.SIGNED_UP, S.WAITLISTED, S.CHECKED_IN, S.COMPLETED)
HOLDING = (S.SIGNED_UP, S.CHECKED_IN, S.COMPLETED)


@dataclass
class ShiftView:
    """A shift with what a reader needs: its task, post, school and their own status."""

    shift: Shift
    task: Task
    post: Post
    school: School
    my_status: str | None = None


def shift_query(station_id: int) -> sa.Select[Shift, Task, Post, School]:
    return (sa.select(Shift, Task, Post, School)
            .join(Task, Task.id == Shift.task_id)
            .join(Post, Post.id == Shift.post_id)
            .join(School, School.id == Post.school_id)
            .where(Shift.station_id == station_id))


def load(session: so.Session, station_id: int, shift_id: int) -> ShiftView:
    query = shift_query(station_id).where(Shift.id == shift_id)
    row = session.execute(query).first()
    if row is None:
        raise NotFound("shift_not_found")
    return ShiftView(*row)


def require_open(view: ShiftView) -> None:
    """409 when the shift is cancelled or has begun: no more changes of hands."""
    if view.shift.cancel_reason is not None or view.task.status == TaskStatus.CANCELLED:
        raise Conflict("shift_cancelled")
    if view.task.starts_at <= clock.now():
        raise Conflict("shift_started")


def overlapping(session: so.Session, station_id: int, user_id: int, task: Task) -> bool:
    """Whether the person holds or waits for another crossing shift at the same time.

    It first locks the person's membership row until the transaction ends, so that two
    requests for overlapping shifts of one person take turns: the second sees the first's
    place (on SQLite the write lock taken at BEGIN already serialises them).
    """
    session.execute(sa.select(Membership.id).where(
        Membership.station_id == station_id, Membership.user_id == user_id).with_for_update())
    other = session.scalar(
        sa.select(Task.id).join(Assignment, Assignment.task_id == Task.id)
        .where(Assignment.station_id == station_id, Assignment.user_id == user_id,
               Assignment.status.in_((S.SIGNED_UP, S.WAITLISTED, S.CHECKED_IN)),
               Task.kind == schedule.TASK_KIND, Task.status == TaskStatus.OPEN,
               Task.id != task.id, Task.starts_at < task.ends_at, Task.ends_at > task.starts_at)
        .limit(1))
    return other is not None


def _check_guard(session: so.Session, view: ShiftView, user_id: int) -> None:
    if not is_guard(session, view.shift.station_id, user_id, view.school):
        raise PermissionDenied("not_eligible")
    if overlapping(session, view.shift.station_id, user_id, view.task):
        raise Conflict("overlapping_shift")


def sign_up(session: so.Session, who: Actor, shift_id: int, *, user_id: int | None = None,
            waitlist: bool = True) -> tuple[ShiftView, Assignment]:
    """Sign up for one shift (or, for a coordinator, put a guard on it).

    A full shift puts the person on its waitlist, unless ``waitlist`` is False (409 task_full).
    """
    who.require_member()
    view = load(session, who.station.id, shift_id)
    target = user_id if user_id is not None else who.user.id
    if target != who.user.id:
        require_coordinator(session, who, view.school)
    require_open(view)
    existing = tasks.find_assignment(session, view.task, target)
    if existing is not None and existing.status != S.WITHDRAWN:
        raise Conflict("already_on_shift", status=str(existing.status))
    _check_guard(session, view, target)
    assignment = tasks.sign_up(session, view.task, target,
                               by=who.user.id if target != who.user.id else None,
                               existing=existing, waitlist=waitlist)
    return view, assignment


def series(session: so.Session, who: Actor, *, template_id: int, term_id: int | None,
           weekdays: list[int] | None, waitlist: bool) -> list[dict[str, Any]]:
    """Sign up for every coming shift of a template in a term (on some weekdays): a result each.

    Each shift is tried on its own, so a full, overlapping or cancelled one does not stop the
    others: the result says ``signed_up``, ``waitlisted`` or the error code that refused it.
    """
    who.require_member()
    template = shift_templates.get_template(session, who.station.id, template_id)
    post = schools.get_post(session, who.station.id, template.post_id)
    term = (terms.get_term(session, who.station.id, term_id) if term_id is not None
            else terms.current_term(session, who, post.school_id))
    for weekday in weekdays or ():
        if weekday not in template.weekdays:
            raise Invalid("weekday_not_in_template", field="weekdays", weekday=weekday)
    wanted = set(weekdays or template.weekdays)
    rows = session.execute(
        sa.select(Shift.id, Shift.local_date, Shift.starts_at).where(
            Shift.station_id == who.station.id, Shift.template_id == template.id,
            Shift.cancel_reason.is_(None), Shift.local_date >= term.starts_on,
            Shift.local_date <= term.ends_on, Shift.starts_at > clock.now())
        .order_by(Shift.starts_at)).all()
    if not is_guard(session, who.station.id, who.user.id,
                    schools.get_school(session, who.station.id, post.school_id)):
        raise PermissionDenied("not_eligible")
    results = []
    for shift_id, local_date, starts_at in rows:
        if local_date.isoweekday() not in wanted:
            continue
        entry: dict[str, Any] = {"shift_id": shift_id, "date": local_date,
                                 "starts_at": starts_at}
        try:
            with session.begin_nested():
                _view, assignment = sign_up(session, who, shift_id, waitlist=waitlist)
            entry["result"] = str(assignment.status)
            if assignment.status == S.WAITLISTED:
                entry["waitlist_position"] = tasks.waitlist_position(session, assignment)
        except WardensError as error:
            entry["result"] = error.code
        results.append(entry)
    audit.record(session, actor=who.user, role=who.role, action="crossing_guard.series_signup",
                 record=template, term_id=term.id,
                 signed_up=sum(r["result"] == "signed_up" for r in results),
                 waitlisted=sum(r["result"] == "waitlisted" for r in results))
    return results


def withdraw(session: so.Session, who: Actor, shift_id: int) -> Assignment:
    """Leave a shift. A place can be given back until the station's cutoff before the start;
    after it only a coordinator can release the guard (or the guard offers a swap). Leaving a
    waitlist is always allowed. The freed place goes to the first in line."""
    who.require_member()
    view = load(session, who.station.id, shift_id)
    require_open(view)
    mine = tasks.find_assignment(session, view.task, who.user.id)
    if mine is None or mine.status not in (S.SIGNED_UP, S.WAITLISTED):
        raise NotFound("not_on_shift")
    rules = settings.for_station(session, who.station.id)
    if mine.status == S.SIGNED_UP and clock.now() > view.task.starts_at - rules.withdrawal_cutoff:
        raise Conflict("withdrawal_cutoff_passed", cutoff_hours=rules.cutoff_hours,
                       cutoff_at=(view.task.starts_at - rules.withdrawal_cutoff).isoformat())
    _void_offers(session, view.shift, who.user.id)
    return tasks.withdraw(session, view.task, who.user.id)


def release(session: so.Session, who: Actor, shift_id: int, user_id: int) -> Assignment:
    """A coordinator takes a guard off a shift, whatever the cutoff; the guard is told."""
    view = load(session, who.station.id, shift_id)
    require_coordinator(session, who, view.school)
    require_open(view)
    assignment = tasks.find_assignment(session, view.task, user_id)
    if assignment is None or assignment.status not in (S.SIGNED_UP, S.WAITLISTED):
        raise NotFound("not_on_shift")
    _void_offers(session, view.shift, user_id)
    assignment = tasks.withdraw(session, view.task, user_id)
    labels = schedule.local_labels(who.station, view.task)
    notifications.notify(session, user_id, "crossing_guard.released", station_id=who.station.id,
                         target=schedule.shift_target(view.shift), shift_id=view.shift.id,
                         post=view.post.name, school=view.school.name, **labels)
    audit.record(session, actor=who.user, role=who.role, action="crossing_guard.released",
                 record=view.shift, user_id=user_id)
    return assignment


def cancel(session: so.Session, who: Actor, shift_id: int, reason: str) -> ShiftView:
    """A coordinator cancels one shift (a school trip, say); its guards are told."""
    view = load(session, who.station.id, shift_id)
    require_coordinator(session, who, view.school)
    require_open(view)
    schedule.cancel(session, view.shift, view.task, CancelReason.MANUAL, reason)
    audit.record(session, actor=who.user, role=who.role, action="crossing_guard.shift_cancelled",
                 record=view.shift, reason=reason)
    return view


def check_in(session: so.Session, who: Actor, shift_id: int, **report: Any) -> Any:
    """Check in or out at the post: the core's geofence around the post, its radius."""
    who.require_member()
    view = load(session, who.station.id, shift_id)
    return tasks.check_in(session, view.task, who.user.id, **report)


def _void_offers(session: so.Session, shift: Shift, user_id: int) -> None:
    from plugins.crossing_guard.swaps import void_offers

    void_offers(session, shift, user_id)


# Reading ----------------------------------------------------------------------------------------

def shifts_query(session: so.Session, who: Actor, *, since: dt.datetime | None = None,
                 until: dt.datetime | None = None, school_id: int | None = None,
                 post_id: int | None = None, template_id: int | None = None,
                 mine: bool = False, below_minimum: bool = False, has_places: bool = False,
                 include_cancelled: bool = False) -> sa.Select[Any]:
    """Shifts of the station with the reader's own status, soonest first."""
    who.require_member()
    query = (shift_query(who.station.id)
             .add_columns(Assignment.status.label("my_status"))
             .outerjoin(Assignment, sa.and_(Assignment.task_id == Task.id,
                                            Assignment.user_id == who.user.id))
             .order_by(Shift.starts_at, Shift.id))
    if not include_cancelled:
        query = query.where(Shift.cancel_reason.is_(None))
    if since is not None:
        query = query.where(Task.ends_at > since)
    if until is not None:
        query = query.where(Task.starts_at < until)
    if school_id is not None:
        query = query.where(School.id == school_id)
    if post_id is not None:
        query = query.where(Post.id == post_id)
    if template_id is not None:
        query = query.where(Shift.template_id == template_id)
    if mine:
        query = query.where(Assignment.status.in_(ON_SHIFT + (S.NO_SHOW,)))
    if below_minimum:
        query = query.where(Task.filled < Post.min_guards)
    if has_places:
        query = query.where(Task.status == TaskStatus.OPEN, Task.filled < Task.capacity)
    return query


def roster(session: so.Session, shift: Shift) -> list[tuple[Assignment, User]]:
    """The people on a shift: places first, then the waitlist in order."""
    task = session.get(Task, shift.task_id)
    assert task is not None
    return list(session.execute(tasks.assignments_query(task)))


def can_see_roster(session: so.Session, who: Actor, view: ShiftView) -> bool:
    return is_coordinator(session, who, view.school) or is_guard(
        session, who.station.id, who.user.id, view.school)


def template_of(session: so.Session, shift: Shift) -> Template | None:
    return session.get(Template, shift.template_id)
