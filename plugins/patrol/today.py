"""A patroller's home screen: the patrol under way and the next patrol tasks (wardens_today_cards)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import geofence, targets
from core.hookspecs import TodayCard
from core.models import Assignment, AssignmentStatus, Station, Task, TaskStatus, User
from core.today import HORIZON
from plugins.patrol.checkpoints import TASK_KIND
from plugins.patrol.models import Patrol, PatrolStatus, Route, RouteTask

S = AssignmentStatus
NEXT_TASKS = 3


def cards(session: so.Session, station: Station, user: User, now: dt.datetime) -> list[TodayCard]:
    """The person's active patrols (to finish), then their next scheduled patrols."""
    active = session.execute(
        sa.select(Patrol, Route.name).join(Route, Route.id == Patrol.route_id)
        .where(Patrol.station_id == station.id, Patrol.user_id == user.id,
               Patrol.status == PatrolStatus.ACTIVE)
        .order_by(Patrol.started_at, Patrol.id)).all()
    found = [TodayCard(
        kind="patrol.patrol", title=route_name, starts_at=patrol.started_at, now=True,
        status=str(patrol.status),
        target=targets.target("patrol.patrol", station.code, patrol_id=patrol.id,
                              route_id=patrol.route_id))
        for patrol, route_name in active]
    walking = {patrol.task_id for patrol, _name in active}
    opens = dt.timedelta(minutes=geofence.station_rules(station.settings)["checkin_opens_minutes"])
    for task, status, route_id in session.execute(
            sa.select(Task, Assignment.status, RouteTask.route_id)
            .join(Assignment, sa.and_(Assignment.task_id == Task.id,
                                      Assignment.user_id == user.id))
            .outerjoin(RouteTask, sa.and_(RouteTask.station_id == Task.station_id,
                                          RouteTask.task_id == Task.id))
            .where(Task.station_id == station.id, Task.kind == TASK_KIND,
                   Task.status != TaskStatus.CANCELLED, Task.ends_at > now,
                   Task.starts_at < now + HORIZON,
                   Assignment.status.in_((S.SIGNED_UP, S.WAITLISTED, S.CHECKED_IN)))
            .order_by(Task.starts_at, Task.id).limit(NEXT_TASKS)):
        if task.id in walking:
            continue
        ids = {"task_id": task.id} if route_id is None else {"task_id": task.id,
                                                              "route_id": route_id}
        found.append(TodayCard(
            kind="patrol.task", title=task.title, starts_at=task.starts_at, ends_at=task.ends_at,
            status=str(status), now=status == S.SIGNED_UP and task.starts_at - opens <= now,
            target=targets.target("patrol.task", station.code, **ids)))
    return found
