"""A guard's home screen: the next shifts (wardens_today_cards); a shift task opens the shift."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import geofence, targets
from core.hookspecs import TodayCard
from core.models import Assignment, AssignmentStatus, Station, Task, TaskStatus, User
from core.today import HORIZON
from plugins.crossing_guard.models import Post, Shift

S = AssignmentStatus
NEXT_SHIFTS = 3


def cards(session: so.Session, station: Station, user: User, now: dt.datetime) -> list[TodayCard]:
    """The person's next shifts (under way, then the next days), each opening the shift."""
    rows = session.execute(
        sa.select(Shift, Task, Post.name, Assignment.status)
        .join(Task, Task.id == Shift.task_id)
        .join(Post, Post.id == Shift.post_id)
        .join(Assignment, sa.and_(Assignment.task_id == Task.id, Assignment.user_id == user.id))
        .where(Shift.station_id == station.id, Shift.cancel_reason.is_(None),
               Task.status != TaskStatus.CANCELLED, Task.ends_at > now,
               Task.starts_at < now + HORIZON,
               Assignment.status.in_((S.SIGNED_UP, S.WAITLISTED, S.CHECKED_IN)))
        .order_by(Task.starts_at, Shift.id).limit(NEXT_SHIFTS)).all()
    opens = dt.timedelta(minutes=geofence.station_rules(station.settings)["checkin_opens_minutes"])
    return [TodayCard(
        kind="crossing_guard.shift", title=task.title, starts_at=task.starts_at,
        ends_at=task.ends_at, status=str(status),
        now=status == S.CHECKED_IN or (status == S.SIGNED_UP and task.starts_at - opens <= now),
        details={"post": post, "date": shift.local_date.isoformat()},
        target=targets.target("crossing_guard.shift", station.code, shift_id=shift.id,
                              task_id=task.id))
        for shift, task, post, status in rows]


def task_targets(session: so.Session, tasks: list[Task]) -> dict[int, dict[str, Any]]:
    """A shift's task opens the shift: its check-in and sign-up take the shift's id."""
    rows = session.execute(sa.select(Shift.task_id, Shift.id).where(
        Shift.task_id.in_([t.id for t in tasks])))
    return {task_id: targets.target("crossing_guard.shift", shift_id=shift_id, task_id=task_id)
            for task_id, shift_id in rows}
