"""The term's shifts: generated from templates in the station's time zone, kept in step with changes."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, local_time, notifications, targets, tasks
from core.models import Assignment, AssignmentStatus, Station, Task, TaskStatus
from plugins.crossing_guard.models import (
    CancelReason,
    Closure,
    Post,
    School,
    Shift,
    Template,
    Term,
)

TASK_KIND = "crossing_shift"
# Told when their shift moves: everyone holding a place or waiting for one.
EXPECTING = (AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED)


def zone(station: Station) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(station.timezone)


def window(day: dt.date, template: Template, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime,
                                                                               dt.datetime]:
    """The template's local times on ``day``, in UTC (wall-clock time, whatever the offset)."""
    starts = dt.datetime.combine(day, template.starts_time, tzinfo=tz).astimezone(dt.UTC)
    ends = dt.datetime.combine(day, template.ends_time, tzinfo=tz).astimezone(dt.UTC)
    return starts, ends


def days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def today(station: Station) -> dt.date:
    return clock.now().astimezone(zone(station)).date()


def closed_days(session: so.Session, station_id: int, first: dt.date,
                last: dt.date) -> dict[int | None, set[dt.date]]:
    """Closed local dates by school id (None: the whole station) within [first, last]."""
    closed: dict[int | None, set[dt.date]] = defaultdict(set)
    rows = session.scalars(sa.select(Closure).where(
        Closure.station_id == station_id, Closure.starts_on <= last, Closure.ends_on >= first))
    for closure in rows:
        closed[closure.school_id].update(
            days(max(first, closure.starts_on), min(last, closure.ends_on)))
    return closed


def is_closed(closed: dict[int | None, set[dt.date]], school_id: int, day: dt.date) -> bool:
    return day in closed.get(None, ()) or day in closed.get(school_id, ())


@dataclass
class Generated:
    """What a generation run did, counted in shifts."""

    created: int = 0
    existing: int = 0
    closed: int = 0
    past: int = 0
    cancelled: int = 0  # cancelled by a coordinator: left cancelled
    shift_ids: list[int] = field(default_factory=list)


def _title(school: School, post: Post, template: Template) -> str:
    return f"{school.name} · {post.name} · {template.name}"[:200]


def generate(session: so.Session, station: Station, term: Term, *,
             by: int | None = None, template_ids: Iterable[int] | None = None) -> Generated:
    """Create the term's shifts from every active template of its schools' active posts.

    Idempotent: a day that already has a live shift of a template is left alone (a unique
    index on live shifts keeps that true when two runs overlap). Closed days and days already
    begun are skipped; a day cancelled by a closure that has gone is generated again; a shift
    a coordinator cancelled stays cancelled.
    """
    result = Generated()
    tz = zone(station)
    now = clock.now()
    query = (sa.select(Template, Post, School)
             .join(Post, Post.id == Template.post_id).join(School, School.id == Post.school_id)
             .where(Template.station_id == station.id, Template.active.is_(True),
                    Post.active.is_(True))
             .order_by(Template.id))
    if term.school_id is not None:
        query = query.where(School.id == term.school_id)
    if template_ids is not None:
        query = query.where(Template.id.in_(list(template_ids)))
    plans = session.execute(query).all()
    if not plans:
        return result
    closed = closed_days(session, station.id, term.starts_on, term.ends_on)
    known: dict[tuple[int, dt.date], list[Shift]] = defaultdict(list)
    for shift in session.scalars(sa.select(Shift).where(
            Shift.station_id == station.id, Shift.template_id.in_([t.id for t, _, _ in plans]),
            Shift.local_date >= term.starts_on, Shift.local_date <= term.ends_on)):
        known[(shift.template_id, shift.local_date)].append(shift)
    for template, post, school in plans:
        for day in days(term.starts_on, term.ends_on):
            if day.isoweekday() not in template.weekdays:
                continue
            if is_closed(closed, school.id, day):
                result.closed += 1
                continue
            rows = known.get((template.id, day), [])
            if any(row.cancel_reason is None for row in rows):
                result.existing += 1
                continue
            if any(row.cancel_reason == CancelReason.MANUAL for row in rows):
                result.cancelled += 1
                continue
            starts_at, ends_at = window(day, template, tz)
            if starts_at <= now:
                result.past += 1
                continue
            created = _create(session, station, term, school, post, template, day, starts_at,
                              ends_at, by)
            if created is None:
                result.existing += 1
            else:
                result.created += 1
                result.shift_ids.append(created.id)
    return result


def _create(session: so.Session, station: Station, term: Term, school: School, post: Post,
            template: Template, day: dt.date, starts_at: dt.datetime, ends_at: dt.datetime,
            by: int | None) -> Shift | None:
    try:
        with session.begin_nested():
            task = tasks.create_task(
                session, station.id, kind=TASK_KIND, title=_title(school, post, template),
                starts_at=starts_at, ends_at=ends_at, lat=post.lat, lon=post.lon,
                radius_m=post.radius_m, capacity=post.max_guards, waitlist=True, created_by=by)
            shift = Shift(station_id=station.id, task_id=task.id, post_id=post.id,
                          template_id=template.id, term_id=term.id, local_date=day,
                          starts_at=starts_at)
            session.add(shift)
            session.flush()
    except sa.exc.IntegrityError:
        return None  # a concurrent run made this day's shift first
    return shift


def terms_ahead(session: so.Session, station: Station,
                school_id: int | None = None) -> list[Term]:
    """Terms not over yet, for the school (or every school when None)."""
    query = sa.select(Term).where(Term.station_id == station.id, Term.ends_on >= today(station))
    if school_id is not None:
        query = query.where(sa.or_(Term.school_id.is_(None), Term.school_id == school_id))
    return list(session.scalars(query.order_by(Term.starts_on, Term.id)))


def future_shifts(session: so.Session, station_id: int, *, template_id: int | None = None,
                  post_id: int | None = None) -> list[tuple[Shift, Task]]:
    """Live shifts not started yet, with their tasks."""
    query = (sa.select(Shift, Task).join(Task, Task.id == Shift.task_id)
             .where(Shift.station_id == station_id, Shift.cancel_reason.is_(None),
                    Shift.starts_at > clock.now(), Task.status == TaskStatus.OPEN)
             .order_by(Shift.starts_at))
    if template_id is not None:
        query = query.where(Shift.template_id == template_id)
    if post_id is not None:
        query = query.where(Shift.post_id == post_id)
    return list(session.execute(query))


def cancel(session: so.Session, shift: Shift, task: Task, reason: CancelReason,
           text: str) -> list[int]:
    """Cancel one shift; the core tells everyone who expected to guard it."""
    shift.cancel_reason = reason
    people = tasks.cancel_task(session, task, reason=text) if task.status == TaskStatus.OPEN else []
    session.flush()
    return people


def covered_shifts(session: so.Session, station: Station, starts_on: dt.date, ends_on: dt.date,
                   school_id: int | None) -> list[tuple[Shift, Task]]:
    """The live, future shifts a closure of these days (one school, or all) would cancel."""
    query = (sa.select(Shift, Task).join(Task, Task.id == Shift.task_id)
             .join(Post, Post.id == Shift.post_id)
             .where(Shift.station_id == station.id, Shift.cancel_reason.is_(None),
                    Shift.local_date >= starts_on, Shift.local_date <= ends_on,
                    Shift.starts_at > clock.now(), Task.status == TaskStatus.OPEN))
    if school_id is not None:
        query = query.where(Post.school_id == school_id)
    return list(session.execute(query).all())  # type: ignore[arg-type]


def apply_closure(session: so.Session, station: Station, closure: Closure) -> int:
    """Cancel the live, future shifts a new closure covers; return how many."""
    count = 0
    for shift, task in covered_shifts(session, station, closure.starts_on, closure.ends_on,
                                      closure.school_id):
        cancel(session, shift, task, CancelReason.CLOSURE, closure.reason or str(closure.kind))
        count += 1
    return count


def regenerate(session: so.Session, station: Station, *, school_id: int | None = None,
               template_ids: Iterable[int] | None = None, by: int | None = None) -> int:
    """Generate again in every term not over yet (after a closure went or a template grew)."""
    created = 0
    ids = list(template_ids) if template_ids is not None else None
    for term in terms_ahead(session, station, school_id):
        created += generate(session, station, term, by=by, template_ids=ids).created
    return created


def apply_template_change(session: so.Session, station: Station, template: Template,
                          post: Post, school: School, *, by: int | None = None) -> dict[str, int]:
    """Bring future shifts in line with a changed template; tell the people concerned.

    Days the template no longer covers are cancelled; new times move the shift (its task and
    calendar entry) and notify the people on it; new days are generated.
    """
    tz = zone(station)
    moved = cancelled = 0
    for shift, task in future_shifts(session, station.id, template_id=template.id):
        if not template.active or not post.active or \
                shift.local_date.isoweekday() not in template.weekdays:
            cancel(session, shift, task, CancelReason.TEMPLATE, template.name)
            cancelled += 1
            continue
        starts_at, ends_at = window(shift.local_date, template, tz)
        title = _title(school, post, template)
        if (starts_at, ends_at, title) == (task.starts_at, task.ends_at, task.title):
            continue
        retimed = (starts_at, ends_at) != (task.starts_at, task.ends_at)
        tasks.update_task(session, task, {"starts_at": starts_at, "ends_at": ends_at,
                                          "title": title})
        shift.starts_at = starts_at
        shift.sequence += 1
        if retimed:
            # The reminders were about the old time: the new one deserves its own.
            _forget_reminders(session, shift)
            notify_people(session, shift, task, "crossing_guard.shift_changed", post=post.name,
                          school=school.name)
            moved += 1
    created = 0
    if template.active and post.active:
        created = regenerate(session, station, school_id=school.id, template_ids=[template.id],
                             by=by)
    return {"moved": moved, "cancelled": cancelled, "created": created}


def apply_post_change(session: so.Session, station: Station, post: Post,
                      school: School) -> dict[str, int]:
    """Carry a post's new place, radius or maximum onto its future shifts."""
    changed = cancelled = 0
    for shift, task in future_shifts(session, station.id, post_id=post.id):
        if not post.active:
            cancel(session, shift, task, CancelReason.TEMPLATE, post.name)
            cancelled += 1
            continue
        changes: dict[str, object] = {}
        for field_name, value in (("lat", post.lat), ("lon", post.lon),
                                  ("radius_m", post.radius_m)):
            if getattr(task, field_name) != value:
                changes[field_name] = value
        # Never below the places already taken: nobody loses a confirmed shift.
        capacity = max(post.max_guards, task.filled)
        if capacity != task.capacity:
            changes["capacity"] = capacity
        if changes:
            tasks.update_task(session, task, changes)
            if {"lat", "lon"} & set(changes):
                shift.sequence += 1
            changed += 1
    return {"changed": changed, "cancelled": cancelled}


def _forget_reminders(session: so.Session, shift: Shift) -> None:
    from plugins.crossing_guard.models import Reminder

    session.execute(sa.delete(Reminder).where(Reminder.station_id == shift.station_id,
                                              Reminder.shift_id == shift.id))


def local_labels(station: Station, task: Task) -> dict[str, str]:
    """Date and times of a shift as the guards read them (station time zone)."""
    tz = zone(station)
    starts, ends = task.starts_at.astimezone(tz), task.ends_at.astimezone(tz)
    return {"date": starts.date().isoformat(), "starts": starts.strftime("%H:%M"),
            "ends": ends.strftime("%H:%M"), "starts_at": local_time.rfc3339(starts, station.timezone),
            "ends_at": local_time.rfc3339(ends, station.timezone)}


def shift_target(shift: Shift) -> dict[str, Any]:
    """What the app opens for a notification about ``shift`` (the shape of today.py's cards)."""
    return targets.target("crossing_guard.shift", shift_id=shift.id, task_id=shift.task_id)


def notify_people(session: so.Session, shift: Shift, task: Task, code: str,
                  statuses: tuple[AssignmentStatus, ...] = EXPECTING, **params: object) -> int:
    """Notify everyone on the shift with one of ``statuses``; return how many."""
    station = session.get(Station, shift.station_id)
    assert station is not None
    labels = local_labels(station, task)
    people = session.scalars(sa.select(Assignment.user_id).where(
        Assignment.station_id == shift.station_id, Assignment.task_id == task.id,
        Assignment.status.in_(statuses)).order_by(Assignment.id)).all()
    for user_id in people:
        notifications.notify(session, user_id, code, station_id=shift.station_id,
                             target=shift_target(shift), shift_id=shift.id, task_id=task.id,
                             **labels, **params)
    return len(people)
