"""A person who leaves a station, or is removed, keeps no access, duty or place there."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import clock
from core.models import Assignment, AuditEvent, GroupMember

HERE = (34.2652, 108.9531)


def url(station, path=""):
    return f"/api/v1/stations/{station.code}{path}"


def task_body(**fields):
    starts = clock.now() + dt.timedelta(days=1)
    body = {"title": "Market day", "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(hours=2)).isoformat(), "lat": HERE[0],
            "lon": HERE[1], "radius_m": 100, "capacity": 1, "waitlist": True}
    body.update(fields)
    return body


def membership_id(client, station, admin, person):
    members = client.get(url(station, "/members?page_size=100"), headers=admin.headers).json
    return next(m["id"] for m in members if m["user_id"] == person.id)


@pytest.fixture
def east(world):
    return world.station("east")


@pytest.mark.parametrize("how", ["removed", "left"])
def test_leaving_gives_places_back_and_leaves_every_group(client, world, session, east, how):
    admin = world.person("admin", station=east, roles=["admin"])
    officer = world.person("officer", station=east, roles=["officer"])
    leaver = world.person("leaver", station=east, roles=["volunteer"])
    waiting = world.person("waiting", station=east, roles=["volunteer"])
    task = client.post(url(east, "/tasks"), json=task_body(), headers=officer.headers).json
    signups = url(east, f"/tasks/{task['id']}/signups")
    assert client.post(signups, json={}, headers=leaver.headers).json["status"] == "signed_up"
    assert client.post(signups, json={}, headers=waiting.headers).json["status"] == "waitlisted"
    grid = client.post(url(east, "/groups"), json={"kind": "grid", "name": "North"},
                       headers=officer.headers).json
    client.put(url(east, f"/groups/{grid['id']}/members/{leaver.id}"),
               json={"leader": True}, headers=officer.headers)
    team = client.post(url(east, "/groups"), json={"kind": "patrol_team", "name": "Night"},
                       headers=admin.headers).json
    for person in (leaver, officer):
        client.put(url(east, f"/groups/{team['id']}/members/{person.id}"),
                   json={"leader": False}, headers=admin.headers)

    if how == "removed":
        gone = client.delete(url(east, f"/members/{membership_id(client, east, admin, leaver)}"),
                             headers=admin.headers)
    else:
        gone = client.delete("/api/v1/me/memberships/east", headers=leaver.headers)
    assert gone.status_code == 204

    session.expire_all()
    statuses = dict(session.execute(sa.select(Assignment.user_id, Assignment.status).where(
        Assignment.task_id == task["id"])).all())
    assert statuses == {leaver.id: "withdrawn", waiting.id: "signed_up"}
    inbox = client.get("/api/v1/me/notifications", headers=waiting.headers).json
    assert "core.waitlist_promoted" in [n["code"] for n in inbox]
    assert session.scalars(sa.select(GroupMember).where(
        GroupMember.user_id == leaver.id)).all() == []
    # the patrol team's officer hears that their team changed; the leaver is not told
    told = client.get("/api/v1/me/notifications", headers=officer.headers).json
    assert "core.duty_group_member_removed" in [n["code"] for n in told]
    action = "member.removed" if how == "removed" else "member.left"
    event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).one()
    assert event.details["withdrawn"] == [task["id"]]
    # their list of assignments no longer carries the station's tasks
    assert client.get("/api/v1/me/assignments", headers=leaver.headers).json == []


