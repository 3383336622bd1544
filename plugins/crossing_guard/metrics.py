"""The crossing-guard plugin's dashboard figures: the coming week, and what happened since."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.models import Assignment, AssignmentStatus, Station, Task, TaskStatus
from plugins.crossing_guard.models import Post, Shift

S = AssignmentStatus


def dashboard(session: so.Session, station: Station, since: dt.datetime) -> dict[str, Any]:
    """Figures for the station dashboard: the coming week, and what happened since ``since``."""
    now = clock.now()
    week = now + dt.timedelta(days=7)
    coming = session.execute(
        sa.select(Task.capacity, Task.filled, Post.min_guards)
        .select_from(Shift).join(Task, Task.id == Shift.task_id)
        .join(Post, Post.id == Shift.post_id)
        .where(Shift.station_id == station.id, Shift.cancel_reason.is_(None),
               Task.status == TaskStatus.OPEN, Shift.starts_at > now, Shift.starts_at <= week)
    ).all()
    places = sum(row.capacity for row in coming)
    past = dict(session.execute(
        sa.select(Assignment.status, sa.func.count()).select_from(Shift)
        .join(Assignment, Assignment.task_id == Shift.task_id)
        .where(Shift.station_id == station.id, Shift.starts_at >= since, Shift.starts_at <= now,
               Assignment.status.in_((S.COMPLETED, S.NO_SHOW)))
        .group_by(Assignment.status)).all())
    return {
        "shifts_next_7_days": len(coming),
        "shifts_below_minimum_next_7_days": sum(row.filled < row.min_guards for row in coming),
        "fill_rate_next_7_days": round(sum(row.filled for row in coming) / places, 3)
        if places else 0.0,
        "shifts_completed": int(past.get(S.COMPLETED, 0)),
        "no_shows": int(past.get(S.NO_SHOW, 0)),
    }
