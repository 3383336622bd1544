"""A station's dashboard: the core's metrics and those of every plugin switched on there."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, events, tasks
from core.access import Actor
from core.models import Assignment, AssignmentStatus, Membership, PointsEntry, Role, Task, User
from core.models.tasks import TaskStatus

DEFAULT_PERIOD = dt.timedelta(days=30)


def station_dashboard(session: so.Session, actor: Actor,
                      since: dt.datetime | None = None) -> dict[str, Any]:
    """Metrics since ``since`` (default: the last 30 days), for officers and admins."""
    actor.require("officer", "admin")
    now = clock.now()
    since = since or now - DEFAULT_PERIOD
    station = actor.station
    plugins = events.deployment(session).results_by_plugin(
        session, station.id, "wardens_dashboard_metrics", session=session, station=station,
        since=since)
    return {
        "since": since,
        "generated_at": now,
        "core": core_metrics(session, station.id, since, now),
        "plugins": {name: dict(metrics or {}) for name, metrics in plugins.items()},
    }


def core_metrics(session: so.Session, station_id: int, since: dt.datetime,
                 now: dt.datetime) -> dict[str, Any]:
    # Roles are a short JSON list; a text match is portable across both databases.
    roles_text = sa.cast(Membership.roles, sa.String)
    member_row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(Membership.pending_phone),
            *[sa.func.sum(sa.case((roles_text.like(f'%"{role.value}"%'), 1), else_=0))
              for role in Role],
        ).where(Membership.station_id == station_id)
    ).one()
    done_at = sa.func.coalesce(Assignment.checked_out_at, Assignment.updated_at)
    # A switched-off plugin's tasks are out of every count, as they are out of every list.
    switched_off = sorted(events.deployment(session).disabled_kinds(session, station_id))
    kinds_on = Task.kind.not_in(switched_off) if switched_off else sa.true()
    assignment_row = session.execute(
        sa.select(
            sa.func.sum(sa.case((sa.and_(Assignment.status == AssignmentStatus.COMPLETED,
                                         done_at >= since), 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(Assignment.status == AssignmentStatus.NO_SHOW,
                                         Assignment.updated_at >= since), 1), else_=0)),
        ).join(Task, Task.id == Assignment.task_id)
        .where(Assignment.station_id == station_id, kinds_on)
    ).one()
    open_tasks = session.scalar(
        sa.select(sa.func.count()).select_from(Task)
        .where(Task.station_id == station_id, Task.status == TaskStatus.OPEN, Task.ends_at >= now,
               kinds_on)
    )
    awarded = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PointsEntry.amount), 0))
        .where(PointsEntry.station_id == station_id, PointsEntry.amount > 0,
               PointsEntry.created_at >= since)
    )
    return {
        "members": int(member_row[0]),
        "pending_members": int(member_row[1]),
        "members_by_role": {role.value: int(count or 0)
                            for role, count in zip(Role, member_row[2:], strict=True)},
        "open_tasks": int(open_tasks or 0),
        "completions": int(assignment_row[0] or 0),
        "no_shows": int(assignment_row[1] or 0),
        "points_awarded": int(awarded or 0),
    }


def today(session: so.Session, actor: Actor, *, short_days: int = 7) -> dict[str, Any]:
    """Today at a glance (officers and admins): who is out now, and the tasks of the next
    ``short_days`` days short of people; only tasks the person may see."""
    actor.require("officer", "admin")
    now = clock.now()
    visible = tasks.visible_tasks(session, actor, status=TaskStatus.OPEN, since=now,
                                  until=now + dt.timedelta(days=short_days))
    short = [task for task, _mine in session.execute(visible.limit(200))
             if task.filled < task.capacity][:20]
    happening = [task.id for task, _mine in session.execute(
        tasks.visible_tasks(session, actor, since=now, until=now + dt.timedelta(seconds=1)))]
    out = session.execute(
        sa.select(Assignment, Task, User).join(Task, Task.id == Assignment.task_id)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.station_id == actor.station.id,
               Assignment.status == AssignmentStatus.CHECKED_IN,
               Assignment.task_id.in_(happening or [-1]))
        .order_by(Assignment.checked_in_at)).all() if happening else []
    return {"now": now, "out": [{"name": user.display_name, "task": task.title,
                                 "task_id": task.id, "since": assignment.checked_in_at}
                                for assignment, task, user in out],
            "short": [{"task_id": t.id, "title": t.title, "starts_at": t.starts_at,
                       "filled": t.filled, "capacity": t.capacity} for t in short]}


def weekly(session: so.Session, actor: Actor, weeks: int = 8) -> list[dict[str, Any]]:
    """Completions, points earned and points spent per week (Monday, the station's time zone),
    oldest first (officers and admins)."""
    actor.require("officer", "admin")
    zone = zoneinfo.ZoneInfo(actor.station.timezone)
    local_today = clock.now().astimezone(zone).date()
    first = local_today - dt.timedelta(days=local_today.weekday() + 7 * (weeks - 1))
    since = dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC)
    rows = [{"week": first + dt.timedelta(days=7 * i), "completions": 0, "earned": 0,
             "spent": 0} for i in range(weeks)]

    def bucket(at: dt.datetime) -> dict[str, Any] | None:
        index = (at.astimezone(zone).date() - first).days // 7
        return rows[index] if 0 <= index < weeks else None

    station_id = actor.station.id
    switched_off = sorted(events.deployment(session).disabled_kinds(session, station_id))
    done_at = sa.func.coalesce(Assignment.checked_out_at, Assignment.updated_at)
    for (at,) in session.execute(
            sa.select(done_at).join(Task, Task.id == Assignment.task_id)
            .where(Assignment.station_id == station_id,
                   Assignment.status == AssignmentStatus.COMPLETED, done_at >= since,
                   Task.kind.not_in(switched_off) if switched_off else sa.true())):
        found = bucket(_aware(at))
        if found is not None:
            found["completions"] += 1
    for at, amount in session.execute(
            sa.select(PointsEntry.created_at, PointsEntry.amount)
            .where(PointsEntry.station_id == station_id, PointsEntry.created_at >= since)):
        found = bucket(_aware(at))
        if found is not None:
            found["earned" if amount > 0 else "spent"] += abs(amount)
    return rows


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
