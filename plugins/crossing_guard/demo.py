"""Demo activity at the demo file's school: a term around today, its shifts, sign-ups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import tasks
from core.models import Station, Task
from plugins.crossing_guard import schedule
from plugins.crossing_guard.models import Post, School, Shift, Term

SCHOOL = "demo-primary"  # keys in examples/demo-station.toml
POSTS = ("north-gate", "highway-crossing")


def seed(session: so.Session, station: Station, people: dict[str, Any]) -> None:
    """This term for the school examples/demo-station.toml sets up, its shifts, sign-ups."""
    school = session.scalar(sa.select(School).where(School.station_id == station.id,
                                                    School.key == SCHOOL))
    if school is None:  # a demo file without the school
        return
    gate, crossing = (session.scalars(sa.select(Post).where(
        Post.station_id == station.id, Post.key == key)).one() for key in POSTS)
    today = schedule.today(station)
    term = Term(station_id=station.id, school_id=school.id, name="本学期 This term",
                starts_on=today - dt.timedelta(days=7), ends_on=today + dt.timedelta(days=120))
    session.add(term)
    session.flush()
    schedule.generate(session, station, term, by=people["officer"].id)
    _sign_up(session, station, gate, [people["volunteer1"].id, people["volunteer2"].id])
    _sign_up(session, station, crossing, [people["volunteer3"].id])


def _sign_up(session: so.Session, station: Station, post: Post, user_ids: list[int]) -> None:
    """The next four shifts of the post, for these guards."""
    shifts = session.scalars(sa.select(Shift).where(Shift.station_id == station.id,
                                                    Shift.post_id == post.id)
                             .order_by(Shift.starts_at).limit(4)).all()
    for shift in shifts:
        task = session.get(Task, shift.task_id)
        assert task is not None
        for user_id in user_ids:
            tasks.sign_up(session, task, user_id)
