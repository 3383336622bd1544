"""Demo data (a fictitious school with two posts, a term, templates, sign-ups) and dashboard figures."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock, demo, events
from core.models import Assignment, AssignmentStatus, Station, Task
from plugins.crossing_guard.models import Post, School, Shift, Template, Term


def test_the_demo_station_has_a_school_with_two_posts_and_sign_ups(session, client):
    clock.freeze(dt.datetime(2026, 3, 4, 1, 0, tzinfo=dt.UTC))
    people = demo.seed(session)
    session.commit()
    station = session.scalar(sa.select(Station).where(Station.code == demo.DEMO_STATION))
    school = session.scalar(sa.select(School).where(School.station_id == station.id))
    assert school is not None and "Demo" in school.name
    posts = session.scalars(sa.select(Post).where(Post.school_id == school.id)).all()
    assert {p.kind for p in posts} == {"gate", "crossing"}
    assert session.scalar(sa.select(sa.func.count()).select_from(Template).where(
        Template.station_id == station.id)) == 4
    assert session.scalar(sa.select(sa.func.count()).select_from(Term).where(
        Term.station_id == station.id)) == 1
    shifts = session.scalar(sa.select(sa.func.count()).select_from(Shift).where(
        Shift.station_id == station.id))
    assert shifts > 20
    signed = session.scalars(sa.select(Assignment.user_id)
                             .join(Task, Task.id == Assignment.task_id).where(
        Assignment.station_id == station.id, Task.kind == "crossing_shift",
        Assignment.status == AssignmentStatus.SIGNED_UP)).all()
    assert set(signed) == {people["volunteer1"].id, people["volunteer2"].id,
                           people["volunteer3"].id}

    login = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": people["volunteer1"].phone,
        "password": demo.DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    mine = client.get("/api/v1/stations/demo/crossing-guard/shifts?mine=true", headers=headers)
    assert mine.status_code == 200 and len(mine.json) == 4

    metrics = events.deployment(session).hooks_for(session, station.id) \
        .wardens_dashboard_metrics(session=session, station=station,
                                   since=clock.now() - dt.timedelta(days=30))
    figures = next(m for m in metrics if "shifts_next_7_days" in m)
    assert figures["shifts_next_7_days"] == 8
    assert figures["shifts_below_minimum_next_7_days"] >= 1
    assert 0 < figures["fill_rate_next_7_days"] < 1
    assert figures["no_shows"] == 0
