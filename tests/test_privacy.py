"""A person's rights over their data: a copy of everything (export) and erasure that leaves
nothing behind (PIPL)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import sqlalchemy as sa

from core import clock
from core.db import Base
from core.models import Assignment, AuditEvent, Checkin

HERE = (31.2304, 121.4737)
NAME = "Zhou Erasable"


def url(station, path=""):
    return f"/api/v1/stations/{station.code}{path}"


def task_body(starts, **fields):
    body = {"title": "Market day", "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(hours=2)).isoformat(), "lat": HERE[0],
            "lon": HERE[1], "radius_m": 100, "capacity": 1, "waitlist": True}
    body.update(fields)
    return body


def checkin_body(kind="in"):
    return {"kind": kind, "lat": HERE[0], "lon": HERE[1], "accuracy_m": 10, "is_mock": False,
            "device_time": clock.now().isoformat(), "client_id": str(uuid.uuid4())}


def a_working_volunteer(client, world):
    """A volunteer who checked in at one task and holds a place on a later one."""
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    person = world.person(NAME, station=east, roles=["volunteer"])
    waiting = world.person("waiting", station=east, roles=["volunteer"])
    now = clock.now()
    today = client.post(url(east, "/tasks"), json=task_body(now + dt.timedelta(minutes=5)),
                        headers=officer.headers).json
    later = client.post(url(east, "/tasks"), json=task_body(now + dt.timedelta(days=2)),
                        headers=officer.headers).json
    for task in (today, later):
        signed = client.post(url(east, f"/tasks/{task['id']}/signups"), json={},
                             headers=person.headers)
        assert signed.status_code == 201, signed.json
    assert client.post(url(east, f"/tasks/{later['id']}/signups"), json={},
                       headers=waiting.headers).json["status"] == "waitlisted"
    came = client.post(url(east, f"/tasks/{today['id']}/checkins"), json=checkin_body(),
                       headers=person.headers)
    assert came.status_code == 201, came.json
    return east, person, waiting, today, later


def test_erasure_leaves_no_position_no_place_and_no_name(client, world, session):
    east, person, waiting, today, later = a_working_volunteer(client, world)
    phone = person.phone
    assert client.delete("/api/v1/me", headers=person.headers).status_code == 204

    session.expire_all()
    positions = session.execute(sa.select(Checkin.lat, Checkin.lon).where(
        Checkin.user_id == person.id)).all()
    assert positions == [(None, None)]  # the check-in stays, the place it was made goes
    held = dict(session.execute(sa.select(Assignment.user_id, Assignment.status).where(
        Assignment.task_id == later["id"])).all())
    assert held == {person.id: "withdrawn", waiting.id: "signed_up"}
    # no row of any table still carries their name or phone
    found = []
    for table in Base.metadata.sorted_tables:
        for values in session.execute(sa.select(table)).all():
            text = json.dumps([str(v) for v in values], ensure_ascii=False)
            if NAME in text or phone in text:
                found.append((table.name, values))
    assert found == []


def test_my_export_holds_my_records_and_no_one_elses(client, world, session):
    east, person, waiting, today, later = a_working_volunteer(client, world)
    answer = client.get("/api/v1/me/export", headers=person.headers)
    assert answer.status_code == 200, answer.json
    data = answer.json
    assert data["account"]["phone"] == person.phone and data["account"]["display_name"] == NAME
    assert "password_hash" not in data["account"]
    assert [m["station_id"] for m in data["memberships"]] == [east.id]
    assert {a["task_id"] for a in data["assignments"]} == {today["id"], later["id"]}
    assert [(c["lat"], c["lon"]) for c in data["checkins"]] == [HERE]
    assert data["sessions"] and all("refresh_hash" not in s for s in data["sessions"])
    assert {"anti_fraud", "care_visits", "crossing_guard", "patrol"} <= set(data["plugins"])
    assert waiting.phone not in answer.get_data(as_text=True)
    exported = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "user.exported")).all()
    assert [e.actor_id for e in exported] == [person.id]


def test_exports_are_limited_to_a_few_a_day(client, world):
    person = world.person("someone")
    for _ in range(3):
        assert client.get("/api/v1/me/export", headers=person.headers).status_code == 200
    refused = client.get("/api/v1/me/export", headers=person.headers)
    assert refused.status_code == 429 and refused.json["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 3600
    clock.freeze(clock.now() + dt.timedelta(hours=25))
    fresh = world.sign_in(person.user, person.phone)
    assert client.get("/api/v1/me/export", headers=fresh.headers).status_code == 200


def test_the_export_is_declared_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").json
    operation = spec["paths"]["/api/v1/me/export"]["get"]
    assert operation["operationId"] == "me_export"
    assert {"200", "429"} <= set(operation["responses"])
