"""A visitor's home screen: the visits they hold in the next days (wardens_today_cards).

A card names the visit and its time only (the task's title holds no personal data), so no
recipient's record is read; the visit's own page audits its reads as ever.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import geofence, targets
from core.hookspecs import TodayCard
from core.models import Assignment, AssignmentStatus, Station, Task, User
from core.today import HORIZON
from plugins.care_visits.models import Visit, VisitStatus

S = AssignmentStatus
NEXT_VISITS = 5


def cards(session: so.Session, station: Station, user: User, now: dt.datetime) -> list[TodayCard]:
    """Visits planned or under way that the person holds a place on, soonest first."""
    rows = session.execute(
        sa.select(Visit.id, Visit.status, Task, Assignment.status)
        .join(Task, Task.id == Visit.task_id)
        .join(Assignment, sa.and_(Assignment.task_id == Visit.task_id,
                                  Assignment.user_id == user.id))
        .where(Visit.station_id == station.id,
               Visit.status.in_((VisitStatus.PLANNED, VisitStatus.IN_PROGRESS)),
               Assignment.status.in_((S.SIGNED_UP, S.CHECKED_IN)),
               Task.ends_at > now, Task.starts_at < now + HORIZON)
        .order_by(Task.starts_at, Visit.id).limit(NEXT_VISITS)).all()
    opens = dt.timedelta(minutes=geofence.station_rules(station.settings)["checkin_opens_minutes"])
    return [TodayCard(
        kind="care_visits.visit", title=task.title, starts_at=task.starts_at,
        ends_at=task.ends_at, status=str(mine),
        now=mine == S.CHECKED_IN or visit_status == VisitStatus.IN_PROGRESS
        or task.starts_at - opens <= now,
        target=targets.target("care_visits.visit", station.code, visit_id=visit_id,
                              task_id=task.id))
        for visit_id, visit_status, task, mine in rows]


def task_targets(session: so.Session, tasks: list[Task]) -> dict[int, dict[str, Any]]:
    """A visit's task opens the visit."""
    rows = session.execute(sa.select(Visit.task_id, Visit.id).where(
        Visit.task_id.in_([t.id for t in tasks])))
    return {task_id: targets.target("care_visits.visit", visit_id=visit_id, task_id=task_id)
            for task_id, visit_id in rows}
