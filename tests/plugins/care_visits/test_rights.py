"""Export returns one recipient's data and nothing of another; erasure leaves no name, phone,
address or ID number anywhere in the database and keeps the yearly counts."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from core import audit, clock, notifications
from core.db import Base
from core.models import AuditEvent, PointsEntry, User
from plugins.care_visits.models import Recipient, SensitiveDetails, Signature, Visit
from tests.plugins.care_visits.conftest import visits_of
from tests.plugins.care_visits.test_visit_flow import PNG

A = {"name": "Liang Xiuying", "address": "No. 18 Plum Blossom Lane, Room 402",
     "id_number": "610103194811230021", "contact": "Liang Haitao"}
B = {"name": "Tang Wenbo", "address": "No. 3 Willow Street, Room 101",
     "id_number": "610104195205150038", "contact": "Tang Meilin"}


def text_columns():
    """Every column of every table that holds text (JSON included)."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, sa.String | sa.Text | sa.JSON) or \
                    column.type.__class__.__name__ == "JSONType":
                yield table, column


def found_anywhere(session, value):
    """(table, column) pairs where ``value`` (or its JSON escaped form) is stored."""
    forms = {value, json.dumps(value)[1:-1]}
    hits = []
    for table, column in text_columns():
        cast = sa.cast(column, sa.Text)
        query = sa.select(sa.func.count()).select_from(table).where(
            sa.or_(*[cast.contains(f, autoescape=True) for f in forms]))
        if session.execute(query).scalar():
            hits.append(f"{table.name}.{column.name}")
    return hits


def make(care, data, key):
    """A recipient with sensitive details and one done visit: supplies, a need, a signature."""
    recipient = care.recipient(name=data["name"], address=data["address"],
                               named_visitor_ids=[care.volunteer_named.id],
                               needs=f"{data['name']} needs rice delivered",
                               emergency_contact={"name": data["contact"],
                                                  "phone": care._next_phone(),
                                                  "relation": "son"},
                               headers={"Idempotency-Key": key})
    rid = recipient["id"]
    put = care.client.put(care.url(f"/recipients/{rid}/sensitive"), headers=care.officer_care.headers,
                          json={"disability_type": "visual", "disability_grade": "1",
                                "health_notes": f"{data['name']} takes insulin",
                                "id_number": data["id_number"]})
    assert put.status_code == 200
    care.get(f"/recipients/{rid}", care.officer_care)
    return recipient


def visit_once(care, session, rid):
    visit = visits_of(session, rid)[0]
    vol = care.volunteer_named
    assert care.checkin(visit.task_id, vol).status_code == 201
    care.post(f"/visits/{visit.id}/supplies", vol,
              json={"items": [{"item": "rice", "quantity": 10, "unit": "kg"}]})
    care.post(f"/visits/{visit.id}/follow-ups", vol,
              json={"needs": [{"need": "Stairs light broken outside the door"}]})
    care.client.patch(care.url(f"/visits/{visit.id}"), headers=vol.headers,
                      json={"observations": "Cheerful; asked about her pension."})
    care.post(f"/visits/{visit.id}/acknowledgement", vol,
              json={"signature": base64.b64encode(PNG).decode()})
    clock.advance(dt.timedelta(minutes=30))
    care.refresh()
    assert care.checkin(visit.task_id, care.volunteer_named, kind="out").status_code == 201
    return visit


@pytest.fixture
def two(care, session):
    a = make(care, A, "create-a")
    b = make(care, B, "create-b")
    care.post("/plan", care.officer_care)
    visit_a = visit_once(care, session, a["id"])
    visit_b = visit_once(care, session, b["id"])
    return a, b, visit_a, visit_b


def test_export_returns_all_of_one_recipient_and_nothing_of_another(care, two, session):
    a, b, visit_a, visit_b = two
    answer = care.get(f"/recipients/{a['id']}/export", care.officer_care)
    assert answer.status_code == 200
    data = answer.json
    text = answer.get_data(as_text=True)
    assert data["recipient"]["name"] == A["name"] and data["recipient"]["phone"] == a["phone"]
    assert data["recipient"]["sensitive"]["id_number"] == A["id_number"]
    assert data["recipient"]["emergency_contact"] == a["emergency_contact"]
    assert [c["version"] for c in data["consents"]] == ["2026-01"]
    assert len(data["visits"]) == 5 and {v["recipient_id"] for v in data["visits"]} == {a["id"]}
    done = next(v for v in data["visits"] if v["id"] == visit_a.id)
    assert done["supplies"][0]["item"] == "rice" and done["follow_ups"][0]["need"]
    assert done["observations"].startswith("Cheerful")
    assert {c["kind"] for c in data["checkins"]} == {"in", "out"}
    assert {c["task_id"] for c in data["checkins"]} == {visit_a.task_id}
    assert base64.b64decode(data["signatures"][0]["data"]) == PNG
    assert any(e["action"] == "care_visits.recipient_read" for e in data["access_log"])
    for value in (B["name"], b["phone"], B["address"], B["id_number"],
                  b["emergency_contact"]["phone"]):
        assert value not in text
    assert visit_b.id not in {v["id"] for v in data["visits"]}
    exported = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "care_visits.recipient_exported")).all()
    assert len(exported) == 1 and exported[0].record_id == str(a["id"])
    assert exported[0].actor_id == care.officer_care.id and "id_number" in \
        exported[0].details["fields"]


def test_erasure_leaves_no_name_phone_address_or_id_anywhere_and_keeps_counts(
        care, two, session):
    a, b, visit_a, _ = two
    before = care.get("/reports/coverage", care.officer_care).json
    row_before = next(r for r in before["recipients"] if r["recipient_id"] == a["id"])
    points_before = session.scalar(sa.select(sa.func.sum(PointsEntry.amount)))
    # copies outside the plugin: a notification and an audit detail that quote the person
    notifications.notify(session, care.officer_care.id, "care_visits.visit_missed",
                         station_id=care.station.id, visit_id=visit_a.id,
                         note=f"call {a['phone']} about {A['name']}")
    audit.record(session, actor=care.officer_care.user, action="care_visits.note",
                 station_id=care.station.id, text=f"{A['address']} / {A['id_number']}")
    session.commit()
    a_values = [A["name"], a["phone"], A["address"], A["id_number"],
                a["emergency_contact"]["name"], a["emergency_contact"]["phone"]]
    for value in a_values:
        assert found_anywhere(session, value), value  # the scan does find them before
    assert {"idempotency_key.body", "notification.params", "care_visits_recipient.name"} <= \
        set(found_anywhere(session, A["name"]))
    assert "audit_event.details" in found_anywhere(session, A["address"])
    assert "care_visits_sensitive.id_number" in found_anywhere(session, A["id_number"])

    erased = care.post(f"/recipients/{a['id']}/erase", care.officer_care)
    assert erased.status_code == 200, erased.json
    assert erased.json["erased"] is True and erased.json["name"] == f"erased-{a['id']}"
    session.expire_all()
    for value in a_values:
        assert found_anywhere(session, value) == [], value
    assert session.scalar(sa.select(SensitiveDetails).where(
        SensitiveDetails.recipient_id == a["id"])) is None
    assert session.scalar(sa.select(Signature).where(Signature.visit_id == visit_a.id)) is None
    stored = session.get(Recipient, a["id"])
    assert (stored.phone, stored.lat, stored.lon) == (None, None, None)
    # the other recipient is untouched
    for value in (B["name"], b["phone"], B["address"], B["id_number"]):
        assert found_anywhere(session, value)

    # the yearly counts, supplies and ledger stay
    after = care.get("/reports/coverage", care.officer_care).json
    row_after = next(r for r in after["recipients"] if r["recipient_id"] == a["id"])
    assert row_after["done"] == row_before["done"] == 1 and row_after["erased"] is True
    assert after["totals"]["done"] == before["totals"]["done"]
    supplies = care.get("/reports/supplies", care.officer_care).json["campaigns"][0]["items"]
    assert supplies == [{"item": "rice", "unit": "kg", "quantity": 20, "households": 2,
                         "planned": 0}]
    assert session.scalar(sa.select(sa.func.sum(PointsEntry.amount))) == points_before
    assert session.get(Visit, visit_a.id).status == "done"
    again = care.post(f"/recipients/{a['id']}/erase", care.officer_care)
    assert again.status_code == 409 and again.json["code"] == "recipient_erased"
    assert care.get(f"/recipients/{a['id']}", care.volunteer_named).status_code == 404
    assert care.post("/visits", care.officer_care, json={
        "recipient_id": a["id"], "starts_at": clock.now().isoformat(),
        "ends_at": (clock.now() + dt.timedelta(days=3)).isoformat()}).status_code == 409


def test_an_erased_app_account_takes_its_recipient_record_and_named_visits_with_it(
        care, session):
    own = care.world.person("Wu Fang", station=care.station, roles=["resident"])
    recipient = care.recipient(name="Wu Fang", user_id=own.id,
                               named_visitor_ids=[care.volunteer_named.id])
    deleted = care.client.delete("/api/v1/me", headers=own.headers)
    assert deleted.status_code == 204
    session.expire_all()
    stored = session.get(Recipient, recipient["id"])
    assert stored.erased_at is not None and stored.name == f"erased-{recipient['id']}"
    assert session.get(User, own.id).display_name == f"erased-{own.id}"
    assert found_anywhere(session, recipient["address"]) == []
    # a visitor's account erased: no more named-visitor rows
    care.client.delete("/api/v1/me", headers=care.volunteer_named.headers)
    from plugins.care_visits.models import NamedVisitor

    assert session.scalar(sa.select(NamedVisitor).where(
        NamedVisitor.user_id == care.volunteer_named.id)) is None
