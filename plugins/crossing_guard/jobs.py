"""On the day: no-shows told to the coordinators, reminders, and calls for cover (each once)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import notifications, tasks
from core.db import dialect_insert
from core.jobs import Job
from core.models import Assignment, AssignmentStatus, Station, Task, TaskStatus, User
from plugins.crossing_guard import roster, schedule, settings, swaps, team
from plugins.crossing_guard.models import Post, Reminder, ReminderKind, School, Shift

EVERY = dt.timedelta(minutes=5)
# Reminders look this far ahead: the evening before is at most ~36 hours before a shift.
LOOK_AHEAD = dt.timedelta(hours=40)
# No-shows are judged for shifts that started within this long (a worker down for a while
# catches up; older shifts are left to the core's own no-show job).
LOOK_BACK = dt.timedelta(days=1)


def _live(station_id: int) -> sa.Select[Shift, Task, Post, School]:
    return (sa.select(Shift, Task, Post, School)
            .join(Task, Task.id == Shift.task_id).join(Post, Post.id == Shift.post_id)
            .join(School, School.id == Post.school_id)
            .where(Shift.station_id == station_id, Shift.cancel_reason.is_(None),
                   Task.status == TaskStatus.OPEN))


def mark_no_shows(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    """Guards not checked in by start + grace become no-shows; coordinators are told once.

    The marking is the core's one :func:`core.tasks.mark_no_show` (the place goes to the
    waitlist); the core's no-show job may have marked some already: they are told too.
    """
    assert station is not None
    rules = settings.for_station(session, station.id)
    due = session.execute(
        _live(station.id).where(Shift.no_shows_marked_at.is_(None),
                                Shift.starts_at <= now - rules.no_show_grace,
                                Shift.starts_at > now - LOOK_BACK)
        .order_by(Shift.starts_at)).all()
    marked = 0
    for shift, task, post, school in due:
        # Claimed first, so two runs never judge (and report) the same shift twice.
        claimed = cast(sa.CursorResult[Any], session.execute(
            sa.update(Shift).where(Shift.id == shift.id, Shift.no_shows_marked_at.is_(None))
            .values(no_shows_marked_at=now).execution_options(synchronize_session=False)
        )).rowcount
        if claimed != 1:
            continue
        missing = session.execute(
            sa.select(Assignment, User).join(User, User.id == Assignment.user_id)
            .join(Task, Task.id == Assignment.task_id)
            .where(Assignment.task_id == task.id, tasks.no_show_due(session, station, now))
            .order_by(Assignment.id)).all()
        for assignment, _user in missing:
            tasks.mark_no_show(session, task, assignment, now)
        names = list(session.scalars(
            sa.select(User.display_name).join(Assignment, Assignment.user_id == User.id)
            .where(Assignment.task_id == task.id, Assignment.status == AssignmentStatus.NO_SHOW)
            .order_by(Assignment.id)))
        if not names:
            continue
        marked += len(names)
        labels = schedule.local_labels(station, task)
        for coordinator in team.coordinators(session, station.id, school):
            notifications.notify(session, coordinator, "crossing_guard.no_show",
                                 station_id=station.id, target=schedule.shift_target(shift),
                                 shift_id=shift.id, post=post.name,
                                 school=school.name, names=", ".join(names), count=len(names),
                                 **labels)
    return marked


def send_reminders(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    """The evening before (from the station's hour) and an hour before: once each per guard."""
    assert station is not None
    rules = settings.for_station(session, station.id)
    tz = schedule.zone(station)
    coming = session.execute(
        _live(station.id).where(Shift.starts_at > now, Shift.starts_at <= now + LOOK_AHEAD)
        .order_by(Shift.starts_at)).all()
    sent = 0
    for shift, task, post, school in coming:
        if task.starts_at - now <= rules.hour_reminder:
            kind = ReminderKind.HOUR
        else:
            evening = dt.datetime.combine(shift.local_date - dt.timedelta(days=1),
                                          rules.evening_reminder_at, tzinfo=tz)
            if now < evening:
                continue
            kind = ReminderKind.EVENING
        people = session.scalars(sa.select(Assignment.user_id).where(
            Assignment.task_id == task.id, Assignment.status == AssignmentStatus.SIGNED_UP)
            .order_by(Assignment.id)).all()
        labels = schedule.local_labels(station, task)
        for user_id in people:
            # The row is the proof it went out: a conflict means it already did.
            inserted = session.execute(
                dialect_insert(session, Reminder).values(station_id=station.id, shift_id=shift.id,
                                        user_id=user_id, kind=kind, sent_at=now)
                .on_conflict_do_nothing(
                    index_elements=["station_id", "shift_id", "user_id", "kind"])
                .returning(Reminder.id)
            ).first()
            if inserted is None:
                continue
            notifications.notify(session, user_id, f"crossing_guard.reminder_{kind}",
                                 station_id=station.id, target=schedule.shift_target(shift),
                                 shift_id=shift.id, post=post.name,
                                 school=school.name, **labels)
            sent += 1
    return sent


def request_cover(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    """A post below its minimum N hours before the start asks its free guards, once."""
    assert station is not None
    rules = settings.for_station(session, station.id)
    short = session.execute(
        _live(station.id).where(Shift.cover_requested_at.is_(None), Shift.starts_at > now,
                                Shift.starts_at <= now + rules.cover_alert,
                                Task.filled < Post.min_guards)
        .order_by(Shift.starts_at)).all()
    told = 0
    for shift, task, post, school in short:
        claimed = cast(sa.CursorResult[Any], session.execute(
            sa.update(Shift).where(Shift.id == shift.id, Shift.cover_requested_at.is_(None))
            .values(cover_requested_at=now).execution_options(synchronize_session=False)
        )).rowcount
        if claimed != 1:
            continue
        view = roster.ShiftView(shift, task, post, school)
        labels = schedule.local_labels(station, task)
        for user_id in swaps.free_guards(session, view):
            notifications.notify(session, user_id, "crossing_guard.needs_cover",
                                 station_id=station.id, target=schedule.shift_target(shift),
                                 shift_id=shift.id, post=post.name,
                                 school=school.name, filled=task.filled,
                                 min_guards=post.min_guards, **labels)
            told += 1
    return told


JOBS = [
    Job("no_shows", EVERY, mark_no_shows),
    Job("reminders", EVERY, send_reminders),
    Job("needs_cover", EVERY, request_cover),
]
