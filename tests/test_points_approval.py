"""Officers never adjust their own points; large adjustments wait for a second officer."""

from __future__ import annotations

import sqlalchemy as sa

from core import ledger, point_requests
from core.models import AuditEvent, PendingAdjustment


def url(station, path: str) -> str:
    return f"/api/v1/stations/{station.code}{path}"


def test_an_officer_cannot_credit_themselves(client, world, session):
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    admin = world.person("admin", station=east, roles=["admin"])
    for who in (officer, admin):
        mine = client.post(url(east, "/points/adjustments"), headers=who.headers,
                           json={"user_id": who.id, "amount": 5, "reason": "me"})
        assert mine.status_code == 403 and mine.json["code"] == "points_self_adjustment"
    assert ledger.balance(session, east.id, officer.id) == 0


def test_a_large_adjustment_waits_for_a_second_officer(client, world, session):
    east = world.station("east")
    first = world.person("first officer", station=east, roles=["officer"])
    second = world.person("second officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    admin = world.person("admin", station=east, roles=["admin"])
    settings = client.get(url(east, "/points/settings"), headers=first.headers)
    assert settings.json == {"approval_threshold": point_requests.DEFAULT_APPROVAL_THRESHOLD}
    assert client.put(url(east, "/points/settings"), headers=first.headers,
                      json={"approval_threshold": 50}).status_code == 403
    changed = client.put(url(east, "/points/settings"), headers=admin.headers,
                         json={"approval_threshold": 50})
    assert changed.status_code == 200 and changed.json == {"approval_threshold": 50}

    small = client.post(url(east, "/points/adjustments"), headers=first.headers,
                        json={"user_id": vol.id, "amount": 50, "reason": "Fair"})
    assert small.status_code == 201 and small.json["amount"] == 50
    large = client.post(url(east, "/points/adjustments"), headers=first.headers,
                        json={"user_id": vol.id, "amount": 500, "reason": "Flood week"})
    assert large.status_code == 202 and large.json["status"] == "pending"
    assert ledger.balance(session, east.id, vol.id) == 50  # nothing booked yet
    pending = client.get(url(east, "/points/adjustments/pending"), headers=second.headers)
    assert [p["id"] for p in pending.json] == [large.json["id"]]
    assert client.get(url(east, "/points/adjustments/pending"),
                      headers=vol.headers).status_code == 403

    approve = url(east, f"/points/adjustments/{large.json['id']}/approval")
    own = client.post(approve, headers=first.headers)
    assert own.status_code == 403 and own.json["code"] == "points_second_officer_required"
    assert client.post(approve, headers=vol.headers).status_code == 403
    approved = client.post(approve, headers=second.headers)
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved" and approved.json["decided_by"] == second.id
    assert ledger.balance(session, east.id, vol.id) == 550
    again = client.post(approve, headers=admin.headers)
    assert again.status_code == 409 and again.json["code"] == "adjustment_already_decided"

    # A rejected one books nothing; the pending adjustment of a person is never theirs to decide.
    other = client.post(url(east, "/points/adjustments"), headers=first.headers,
                        json={"user_id": second.id, "amount": -60, "reason": "Double count"})
    assert other.status_code == 202
    theirs = client.post(url(east, f"/points/adjustments/{other.json['id']}/rejection"),
                         headers=second.headers)
    assert theirs.status_code == 403 and theirs.json["code"] == "points_self_adjustment"
    rejected = client.post(url(east, f"/points/adjustments/{other.json['id']}/rejection"),
                           headers=admin.headers)
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert ledger.balance(session, east.id, second.id) == 0
    actions = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.station_id == east.id, AuditEvent.action.like("points.%"))
        .order_by(AuditEvent.id)).all()
    assert actions == ["points.settings_changed", "points.adjusted",
                       "points.adjustment_requested", "points.adjusted",
                       "points.adjustment_requested", "points.adjustment_rejected"]
    assert session.scalar(sa.select(sa.func.count()).select_from(PendingAdjustment)) == 2


def test_another_stations_pending_adjustment_is_not_found(client, world):
    east, west = world.station("east"), world.station("west")
    first = world.person("first", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    west_officer = world.person("w", station=west, roles=["officer"])
    large = client.post(url(east, "/points/adjustments"), headers=first.headers,
                        json={"user_id": vol.id, "amount": 5000, "reason": "Big"})
    answer = client.post(url(west, f"/points/adjustments/{large.json['id']}/approval"),
                         headers=west_officer.headers)
    assert answer.status_code == 404 and answer.json["code"] == "adjustment_not_found"
