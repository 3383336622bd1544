"""Records: hours and no-shows per guard per term, fill rate per post per week."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.access import Actor
from core.models import Assignment, AssignmentStatus, Task, TaskStatus, User
from plugins.crossing_guard import team
from plugins.crossing_guard.models import Post, School, Shift, Term

S = AssignmentStatus
# A place was taken on the shift (whether the guard came or not).
TAKEN = (S.SIGNED_UP, S.CHECKED_IN, S.COMPLETED, S.NO_SHOW)


def _hours(delta: dt.timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def guard_hours(session: so.Session, who: Actor, term: Term,
                user_id: int | None = None) -> list[dict[str, Any]]:
    """Per guard in the term: shifts completed, scheduled and on-site hours, no-shows.

    Coordinators see everyone; a guard sees their own line.
    """
    if not team.is_coordinator(session, who, None):
        who.require_member()
        user_id = who.user.id
    query = (sa.select(Assignment, Task, User).join(Task, Task.id == Assignment.task_id)
             .join(Shift, Shift.task_id == Task.id).join(User, User.id == Assignment.user_id)
             .where(Shift.station_id == who.station.id, Shift.term_id == term.id,
                    Assignment.status.in_((S.COMPLETED, S.NO_SHOW, S.CHECKED_IN))))
    if user_id is not None:
        query = query.where(Assignment.user_id == user_id)
    lines: dict[int, dict[str, Any]] = {}
    for assignment, task, user in session.execute(query):
        line = lines.setdefault(user.id, {
            "user_id": user.id, "display_name": user.display_name, "shifts_completed": 0,
            "scheduled_hours": 0.0, "on_site_hours": 0.0, "no_shows": 0})
        if assignment.status == S.NO_SHOW:
            line["no_shows"] += 1
            continue
        if assignment.status == S.COMPLETED:
            line["shifts_completed"] += 1
            line["scheduled_hours"] += _hours(task.ends_at - task.starts_at)
        if assignment.checked_in_at and assignment.checked_out_at:
            line["on_site_hours"] += _hours(assignment.checked_out_at - assignment.checked_in_at)
    for line in lines.values():
        line["scheduled_hours"] = round(line["scheduled_hours"], 2)
        line["on_site_hours"] = round(line["on_site_hours"], 2)
    return sorted(lines.values(), key=lambda line: (-line["scheduled_hours"], line["user_id"]))


def fill_rate(session: so.Session, who: Actor, term: Term,
              school_id: int | None = None) -> list[dict[str, Any]]:
    """Per post and ISO week (local dates): places offered and taken, shifts under the minimum."""
    team.require_coordinator(session, who, None)
    query = (sa.select(Shift, Task, Post, School).join(Task, Task.id == Shift.task_id)
             .join(Post, Post.id == Shift.post_id).join(School, School.id == Post.school_id)
             .where(Shift.station_id == who.station.id, Shift.term_id == term.id,
                    Shift.cancel_reason.is_(None), Task.status != TaskStatus.CANCELLED))
    if school_id is not None:
        query = query.where(School.id == school_id)
    rows = session.execute(query).all()
    counts = _place_counts(session, [task.id for _, task, _, _ in rows])
    weeks: dict[tuple[int, str], dict[str, Any]] = {}
    for shift, task, post, school in rows:
        year, week, _ = shift.local_date.isocalendar()
        key = (post.id, f"{year}-W{week:02d}")
        line = weeks.setdefault(key, {
            "post_id": post.id, "post": post.name, "school": school.name, "week": key[1],
            "shifts": 0, "places": 0, "taken": 0, "attended": 0, "below_minimum": 0})
        taken, attended = counts.get(task.id, (0, 0))
        line["shifts"] += 1
        line["places"] += task.capacity
        line["taken"] += min(taken, task.capacity)
        line["attended"] += attended
        line["below_minimum"] += int(taken < post.min_guards)
    for line in weeks.values():
        line["fill_rate"] = round(line["taken"] / line["places"], 3) if line["places"] else 0.0
    return sorted(weeks.values(), key=lambda line: (line["school"], line["post"], line["week"]))


def _place_counts(session: so.Session, task_ids: list[int]) -> dict[int, tuple[int, int]]:
    result: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    if not task_ids:
        return {}
    rows = session.execute(
        sa.select(Assignment.task_id, Assignment.status, sa.func.count())
        .where(Assignment.task_id.in_(task_ids), Assignment.status.in_(TAKEN))
        .group_by(Assignment.task_id, Assignment.status))
    for task_id, status, count in rows:
        result[task_id][0] += count
        if status in (S.CHECKED_IN, S.COMPLETED):
            result[task_id][1] += count
    return {k: (v[0], v[1]) for k, v in result.items()}
