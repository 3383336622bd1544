"""The shift board: each post's shifts over some days, its guards against its minimum and maximum."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.access import Actor
from core.models import Assignment, User
from plugins.crossing_guard import roster, schedule, team
from plugins.crossing_guard.models import Post, School, Shift, Template


@dataclass(frozen=True)
class BoardShift:
    """One shift on the board: its local times, places taken and who holds them."""

    shift_id: int
    template: str
    starts: str
    ends: str
    filled: int
    guards: tuple[str, ...]
    below_minimum: bool


@dataclass
class BoardPost:
    """A post's line of the board: its shifts by local date."""

    post: Post
    school: School
    days: dict[dt.date, list[BoardShift]] = field(default_factory=lambda: defaultdict(list))

    @property
    def short_days(self) -> int:
        return sum(any(s.below_minimum for s in shifts) for shifts in self.days.values())


def board(session: so.Session, who: Actor, first: dt.date, days: int) -> list[BoardPost]:
    """The station's active posts with their live shifts from ``first`` for ``days`` local
    dates, and the guards holding a place on each (coordinators: the names are theirs to see)."""
    team.require_coordinator(session, who, None)
    last = first + dt.timedelta(days=days - 1)
    lines: dict[int, BoardPost] = {}
    for post, school in session.execute(
            sa.select(Post, School).join(School, School.id == Post.school_id)
            .where(Post.station_id == who.station.id, Post.active.is_(True))
            .order_by(School.name, Post.name, Post.id)):
        lines[post.id] = BoardPost(post, school)
    rows = session.execute(
        roster.shift_query(who.station.id).add_columns(Template.name)
        .join(Template, Template.id == Shift.template_id)
        .where(Shift.cancel_reason.is_(None), Shift.local_date >= first,
               Shift.local_date <= last)
        .order_by(Shift.starts_at, Shift.id)).all()
    holders = _holders(session, [task.id for _s, task, _p, _sc, _n in rows])
    for shift, task, post, school, template in rows:
        line = lines.setdefault(post.id, BoardPost(post, school))  # a post switched off since
        labels = schedule.local_labels(who.station, task)
        line.days[shift.local_date].append(BoardShift(
            shift.id, template, labels["starts"], labels["ends"], task.filled,
            tuple(holders.get(task.id, ())), task.filled < post.min_guards))
    return list(lines.values())


def _holders(session: so.Session, task_ids: list[int]) -> dict[int, list[str]]:
    """The names of the people holding a place on each task, in the order they took it."""
    found: dict[int, list[str]] = defaultdict(list)
    if not task_ids:
        return found
    for task_id, name in session.execute(
            sa.select(Assignment.task_id, User.display_name)
            .join(User, User.id == Assignment.user_id)
            .where(Assignment.task_id.in_(task_ids), Assignment.status.in_(roster.HOLDING))
            .order_by(Assignment.task_id, Assignment.id)):
        found[task_id].append(name)
    return found
