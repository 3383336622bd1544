"""Visit records hold health observations: every read is audited, and a visitor reads a visit's
record only while they hold it and for a day after it ended."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock
from core.models import AuditEvent
from tests.plugins.care_visits.conftest import HOME, north_of


def reads(session, **where):
    query = sa.select(AuditEvent).where(AuditEvent.action == "care_visits.visit_read")
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return session.scalars(query.order_by(AuditEvent.id)).all()


def test_each_visit_record_read_writes_one_audit_event(care, session):
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    listed = care.get("/visits?page_size=20", care.officer_care)
    assert listed.status_code == 200 and len(listed.json) == 5
    events = reads(session, actor_id=care.officer_care.id)
    assert sorted(int(e.record_id) for e in events) == sorted(v["id"] for v in listed.json)
    assert {e.details["recipient_id"] for e in events} == {recipient["id"]}
    assert {e.station_id for e in events} == {care.station.id}
    one = care.get(f"/visits/{listed.json[0]['id']}", care.volunteer_named)
    assert one.status_code == 200
    mine = reads(session, actor_id=care.volunteer_named.id)
    assert [(e.record_id, e.actor_role) for e in mine] == [(str(listed.json[0]["id"]),
                                                            "volunteer")]
    # a refused read reads nothing and records nothing
    assert care.get(f"/visits/{listed.json[0]['id']}", care.volunteer).status_code == 404
    assert reads(session, actor_id=care.volunteer.id) == []


def test_a_visitor_reads_a_visit_they_made_for_a_day_then_no_more(care, session):
    care.recipient(named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    vol = care.volunteer_named
    visit = care.get("/visits?page_size=20", vol).json[0]
    assert care.checkin(visit["task_id"], vol, at=north_of(HOME, 40)).status_code == 201
    assert care.client.patch(care.url(f"/visits/{visit['id']}"), headers=vol.headers,
                             json={"observations": "Diabetic; short of insulin."}
                             ).status_code == 200
    clock.advance(dt.timedelta(minutes=40))
    care.refresh()
    vol = care.volunteer_named
    assert care.checkin(visit["task_id"], vol, kind="out", at=HOME).status_code == 201

    clock.advance(dt.timedelta(hours=20))  # the same day: the record can still be finished
    care.refresh()
    vol = care.volunteer_named
    assert care.get(f"/visits/{visit['id']}", vol).json["observations"] == (
        "Diabetic; short of insulin.")

    clock.advance(dt.timedelta(hours=5))  # more than a day after it ended
    care.refresh()
    vol = care.volunteer_named
    gone = care.get(f"/visits/{visit['id']}", vol)
    assert gone.status_code == 404 and gone.json["code"] == "visit_not_found"
    assert visit["id"] not in [v["id"] for v in care.get("/visits?page_size=20", vol).json]
    assert "insulin" not in care.get("/visits?page_size=20", vol).get_data(as_text=True)
    # the care officers keep the record
    kept = care.get(f"/visits/{visit['id']}", care.officer_care)
    assert kept.status_code == 200 and kept.json["observations"].startswith("Diabetic")
