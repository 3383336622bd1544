"""Demo data: a fictitious school with two posts, a crossing team, a term, templates, sign-ups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import tasks
from core.models import Group, GroupMember, Station, Task
from plugins.crossing_guard import schedule
from plugins.crossing_guard.models import Post, PostKind, School, Shift, Template, Term

SCHOOL = "示范小学 Demo Primary School"


def seed(session: so.Session, station: Station, people: dict[str, Any]) -> None:
    """Seed once: a later run finds the school and changes nothing."""
    if session.scalar(sa.select(School.id).where(School.station_id == station.id,
                                                 School.name == SCHOOL)) is not None:
        return
    team = Group(station_id=station.id, kind="crossing_team", name="护学岗 Crossing team",
                 description="Monday and Friday, arrival and dismissal")
    session.add(team)
    session.flush()
    guards = [("officer", True), ("volunteer1", False), ("volunteer2", False),
              ("volunteer3", False)]
    for key, leader in guards:
        session.add(GroupMember(station_id=station.id, group_id=team.id,
                                user_id=people[key].id, is_leader=leader))
    school = School(station_id=station.id, name=SCHOOL, address="示范路 1 号 1 Demo Road",
                    lat=35.4150, lon=116.5870, team_group_id=team.id)
    session.add(school)
    session.flush()
    gate = Post(station_id=station.id, school_id=school.id, name="北门 North gate",
                kind=PostKind.GATE, lat=35.4153, lon=116.5870, radius_m=50, min_guards=2,
                max_guards=3)
    crossing = Post(station_id=station.id, school_id=school.id, name="国道路口 Highway crossing",
                    kind=PostKind.CROSSING, lat=35.4147, lon=116.5879, radius_m=60,
                    min_guards=2, max_guards=4)
    session.add_all([gate, crossing])
    session.flush()
    for post in (gate, crossing):
        session.add_all([
            Template(station_id=station.id, post_id=post.id, name="上学 Morning",
                     weekdays=[1, 5], starts_time=dt.time(7, 10), ends_time=dt.time(7, 50)),
            Template(station_id=station.id, post_id=post.id, name="放学 Afternoon",
                     weekdays=[1, 5], starts_time=dt.time(16, 30), ends_time=dt.time(17, 10)),
        ])
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
        for user_id in user_ids:
            tasks.sign_up(session, task, user_id)
