"""A whole visit through HTTP: plan, check in at home, supplies, needs, acknowledgement, check out;
the report and the points agree."""

from __future__ import annotations

import base64
import datetime as dt

import sqlalchemy as sa

from core import clock, ledger
from core.models import PointsEntry, StationPlugin, Task
from plugins.care_visits.models import FollowUp, SupplyDelivery, Visit
from tests.plugins.care_visits.conftest import HOME, north_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def first_visit(care, recipient_id, who):
    answer = care.get(f"/visits?recipient_id={recipient_id}&page_size=20", who)
    assert answer.status_code == 200, answer.json
    return answer.json[0]


def test_a_full_visit_through_http(care, session, texts):
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    rid = recipient["id"]
    assert recipient["required_visits"] == 5 and recipient["consent"]["state"] == "given"

    planned = care.post("/plan", care.officer_care)
    assert planned.status_code == 200 and planned.json == {"created": 5}
    visits = care.get(f"/visits?recipient_id={rid}&page_size=20", care.officer_care).json
    assert len(visits) == 5 and {v["status"] for v in visits} == {"planned"}
    visit = visits[0]
    task = session.get(Task, visit["task_id"])
    # the private task carries no personal data: no name, address or phone in its title
    assert task.kind == "care_visit" and task.title == "Care visit" and task.description == ""
    assert (task.lat, task.lon) == HOME

    # the named visitor comes first, then the care team member with the fewest visits
    mine = care.get("/visits?page_size=20", care.volunteer_named).json
    assert [v["id"] for v in mine] == [v["id"] for v in visits]
    card = care.get(f"/recipients/{rid}", care.volunteer_named).json
    assert set(card) == {"id", "name", "phone", "address", "needs"}

    # check in at home (40 m from the door)
    vol = care.volunteer_named
    inside = care.checkin(visit["task_id"], vol, at=north_of(HOME, 40))
    assert inside.status_code == 201, inside.json
    shown = care.get(f"/visits/{visit['id']}", vol).json
    assert shown["status"] == "in_progress" and shown["began_at"] is not None
    assert shown["location"]["distance_m"] == inside.json["distance_m"]

    supplies = care.post(f"/visits/{visit['id']}/supplies", vol, json={"items": [
        {"item": "rice", "quantity": 10, "unit": "kg", "client_id": "s-1"},
        {"item": "flour", "quantity": 5, "unit": "kg", "client_id": "s-2"},
        {"item": "oil", "quantity": 5, "unit": "L", "client_id": "s-3"}]})
    assert supplies.status_code == 201, supplies.json
    again = care.post(f"/visits/{visit['id']}/supplies", vol, json={"items": [
        {"item": "rice", "quantity": 10, "unit": "kg", "client_id": "s-1"}]})
    assert again.json["duplicates"] == ["s-1"]
    needs = care.post(f"/visits/{visit['id']}/follow-ups", vol, json={"needs": [
        {"need": "The wheelchair's brake is broken", "category": "equipment"}]})
    assert needs.status_code == 201 and len(needs.json["visit"]["follow_ups"]) == 1
    notes = care.client.patch(care.url(f"/visits/{visit['id']}"), headers=vol.headers,
                              json={"observations": "In good spirits; fridge nearly empty."})
    assert notes.status_code == 200

    # the recipient acknowledges with the code texted to their phone
    sent = care.post(f"/visits/{visit['id']}/acknowledgement/code", vol, json={})
    assert sent.status_code == 200, sent.json
    assert texts.sent[-1]["phone"] == recipient["phone"]
    code = texts.sent[-1]["params"]["pin"]
    wrong = care.post(f"/visits/{visit['id']}/acknowledgement", vol,
                      json={"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 422 and wrong.json["details"]["attempts_left"] == 4
    ok = care.post(f"/visits/{visit['id']}/acknowledgement", vol, json={"code": code})
    assert ok.status_code == 200 and ok.json["acknowledgement"]["method"] == "code"

    clock.advance(dt.timedelta(minutes=40))
    care.refresh()
    vol = care.volunteer_named
    out = care.checkin(visit["task_id"], vol, kind="out", at=HOME)
    assert out.status_code == 201, out.json
    done = care.get(f"/visits/{visit['id']}", care.officer_care).json
    # the six facts of electronic visit verification
    assert done["service_type"] == "home_visit" and done["recipient_id"] == rid
    assert done["date"] == "2026-03-02" and done["location"]["lat"] is not None
    assert done["visitor_ids"] == [vol.id]
    assert done["began_at"] < done["ended_at"]
    assert done["status"] == "done" and done["review"] == "not_needed" and done["flags"] == []
    assert [(s["item"], s["quantity"]) for s in done["supplies"]] == [
        ("rice", 10), ("flour", 5), ("oil", 5)]

    # points follow the station's rules: the visit pays its own event, once, and the core's
    # generic completion pays nothing more for it
    entries = session.scalars(sa.select(PointsEntry).where(PointsEntry.user_id == vol.id)).all()
    expected = {"care_visits.visit_completed": ledger.amount_for(session, care.station.id,
                                                                 "care_visits.visit_completed")}
    assert {e.event_code: e.amount for e in entries} == expected
    assert expected["care_visits.visit_completed"] == 5
    balance = care.client.get(f"/api/v1/stations/{care.station.code}/points/balance",
                              headers=vol.headers).json["balance"]
    assert balance == sum(expected.values())

    # the report agrees: one made, four planned, five required
    report = care.get("/reports/coverage", care.officer_care).json
    row = next(r for r in report["recipients"] if r["recipient_id"] == rid)
    assert (row["done"], row["planned"], row["required"]) == (1, 4, 5)
    assert report["totals"]["done"] == 1
    supplies_report = care.get("/reports/supplies", care.officer_care).json
    outside = next(c for c in supplies_report["campaigns"] if c["campaign_id"] is None)
    assert {(i["item"], i["quantity"]) for i in outside["items"]} == {
        ("rice", 10), ("flour", 5), ("oil", 5)}
    assert outside["households_visited"] == 1

    # the need found is an item an officer must close
    open_items = care.get("/follow-ups?status=open", care.officer_care).json
    assert [f["need"] for f in open_items] == ["The wheelchair's brake is broken"]
    assert care.post(f"/follow-ups/{open_items[0]['id']}/close", vol,
                     json={"resolution": "x"}).status_code == 403
    closed = care.post(f"/follow-ups/{open_items[0]['id']}/close", care.officer_care,
                       json={"resolution": "Repaired by the street office"})
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert session.scalar(sa.select(sa.func.count()).select_from(SupplyDelivery)) == 3
    assert session.scalar(sa.select(sa.func.count()).select_from(FollowUp)) == 1


def test_a_far_or_short_visit_is_flagged_and_counts_only_once_accepted(care, session):
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    visit = first_visit(care, recipient["id"], care.officer_care)
    vol = care.volunteer_named
    # 180 m away with a 50 m fix: let in by the accuracy credit, but outside the home's circle
    far = north_of(HOME, 190)
    assert care.checkin(visit["task_id"], vol, at=far, accuracy=50).status_code == 201
    clock.advance(dt.timedelta(minutes=3))
    assert care.checkin(visit["task_id"], vol, kind="out", at=HOME).status_code == 201
    shown = care.get(f"/visits/{visit['id']}", care.officer_care).json
    assert shown["flags"] == ["far_from_home", "too_short"] and shown["review"] == "pending"
    award = sa.select(PointsEntry).where(PointsEntry.user_id == vol.id,
                                         PointsEntry.event_code == "care_visits.visit_completed")
    assert session.scalars(award).first() is None
    row = care.get("/reports/coverage", care.officer_care).json["recipients"][0]
    assert (row["done"], row["under_review"]) == (0, 1)
    assert care.post(f"/visits/{visit['id']}/review", vol,
                     json={"decision": "accept"}).status_code == 403
    accepted = care.post(f"/visits/{visit['id']}/review", care.officer_care,
                         json={"decision": "accept", "note": "Met at the gate"})
    assert accepted.status_code == 200 and accepted.json["review"] == "accepted"
    assert session.scalars(award).first().amount == 5
    again = care.post(f"/visits/{visit['id']}/review", care.officer_care,
                      json={"decision": "reject"})
    assert again.status_code == 409 and again.json["code"] == "visit_not_under_review"


def test_acknowledgement_by_signature_and_recording_rules(care, session):
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    visit = first_visit(care, recipient["id"], care.officer_care)
    vol = care.volunteer_named
    # nothing is recorded before the visit begins
    early = care.post(f"/visits/{visit['id']}/supplies", vol,
                      json={"items": [{"item": "rice", "quantity": 1}]})
    assert early.status_code == 403 and early.json["code"] == "not_checked_in_here"
    by_officer = care.post(f"/visits/{visit['id']}/supplies", care.officer_care,
                           json={"items": [{"item": "rice", "quantity": 1}]})
    assert by_officer.status_code == 409 and by_officer.json["code"] == "visit_not_started"
    # someone not on the visit does not see it
    assert care.get(f"/visits/{visit['id']}", care.volunteer).status_code == 404
    assert care.checkin(visit["task_id"], vol).status_code == 201
    not_image = care.post(f"/visits/{visit['id']}/acknowledgement", vol,
                          json={"signature": base64.b64encode(b"hello").decode()})
    assert not_image.status_code == 422 and not_image.json["code"] == "signature_not_an_image"
    both = care.post(f"/visits/{visit['id']}/acknowledgement", vol,
                     json={"signature": base64.b64encode(PNG).decode(), "code": "123456"})
    assert both.status_code == 422
    signed = care.post(f"/visits/{visit['id']}/acknowledgement", vol,
                       json={"signature": base64.b64encode(PNG).decode()})
    assert signed.status_code == 200, signed.json
    assert signed.json["acknowledgement"]["method"] == "signature"
    assert signed.json["acknowledgement"]["signature"] is True
    twice = care.post(f"/visits/{visit['id']}/acknowledgement/code", vol, json={})
    assert twice.status_code == 409 and twice.json["code"] == "visit_acknowledged"
    stored = session.scalar(sa.select(Visit).where(Visit.id == visit["id"]))
    assert stored.ack_method == "signature"


def test_wrong_codes_lock_after_five_and_a_new_code_never_gives_more_tries(care, session, texts):
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    visit = first_visit(care, recipient["id"], care.officer_care)
    vol = care.volunteer_named
    care.checkin(visit["task_id"], vol)
    to_family = care.post(f"/visits/{visit['id']}/acknowledgement/code", vol,
                          json={"to": "emergency_contact"})
    assert to_family.status_code == 200
    assert texts.sent[-1]["phone"] == recipient["emergency_contact"]["phone"]
    # an expired code is refused and costs no try
    clock.advance(dt.timedelta(minutes=31))
    care.refresh()
    vol = care.volunteer_named
    late = care.post(f"/visits/{visit['id']}/acknowledgement", vol,
                     json={"code": texts.sent[-1]["params"]["pin"]})
    assert late.status_code == 422 and late.json["code"] == "ack_code_expired"

    care.post(f"/visits/{visit['id']}/acknowledgement/code", vol, json={})
    code = texts.sent[-1]["params"]["pin"]
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2):
        answer = care.post(f"/visits/{visit['id']}/acknowledgement", vol, json={"code": wrong})
        assert answer.status_code == 422 and answer.json["details"]["attempts_left"] == left
    # a re-sent code replaces the old one but keeps the count of tries
    assert care.post(f"/visits/{visit['id']}/acknowledgement/code", vol, json={}).status_code == 200
    code = texts.sent[-1]["params"]["pin"]
    wrong = "000000" if code != "000000" else "111111"
    for left in (1, 0):
        answer = care.post(f"/visits/{visit['id']}/acknowledgement", vol, json={"code": wrong})
        assert answer.status_code == 422 and answer.json["details"]["attempts_left"] == left
    locked = care.post(f"/visits/{visit['id']}/acknowledgement", vol, json={"code": code})
    assert locked.status_code == 409 and locked.json["code"] == "ack_code_locked"
    sent = len(texts.sent)
    again = care.post(f"/visits/{visit['id']}/acknowledgement/code", vol, json={})
    assert again.status_code == 409 and again.json["code"] == "ack_code_locked"
    assert len(texts.sent) == sent
    stored = session.scalar(sa.select(Visit).where(Visit.id == visit["id"]))
    session.refresh(stored)
    assert (stored.ack_attempts, stored.acknowledged_at) == (5, None)
    # the recipient can still sign
    signed = care.post(f"/visits/{visit['id']}/acknowledgement", vol,
                       json={"signature": base64.b64encode(PNG).decode()})
    assert signed.status_code == 200


def test_codes_are_limited_per_visit_and_per_phone_a_day(care, session, texts):
    session.execute(sa.update(StationPlugin).where(StationPlugin.station_id == care.station.id)
                    .values(settings={"ack_code_texts_per_phone_per_day": 2}))
    session.commit()
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    visit = first_visit(care, recipient["id"], care.officer_care)
    vol = care.volunteer_named
    care.checkin(visit["task_id"], vol)
    path = f"/visits/{visit['id']}/acknowledgement/code"
    assert [care.post(path, vol, json={}).status_code for _ in range(2)] == [200, 200]
    spent = care.post(path, vol, json={})
    assert spent.status_code == 429 and spent.json["code"] == "ack_phone_text_limit"
    assert spent.json["details"]["max"] == 2 and int(spent.headers["Retry-After"]) > 0
    # another phone has its own budget; the visit's third code is its last
    family = care.post(path, vol, json={"to": "emergency_contact"})
    assert family.status_code == 200
    clock.advance(dt.timedelta(days=1))
    care.refresh()
    vol = care.volunteer_named
    fourth = care.post(path, vol, json={})
    assert fourth.status_code == 409 and fourth.json["code"] == "ack_code_send_limit"
    assert fourth.json["details"]["max"] == 3
    assert [t["phone"] for t in texts.sent] == [recipient["phone"]] * 2 + [
        recipient["emergency_contact"]["phone"]]


def test_officers_on_a_visit_earn_no_volunteer_points(care, session):
    recipient = care.recipient(named_visitor_ids=[care.officer_care.id, care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    visit = first_visit(care, recipient["id"], care.officer_care)
    for who in (care.officer_care, care.volunteer_named):
        assert care.checkin(visit["task_id"], who).status_code == 201
    clock.advance(dt.timedelta(minutes=45))
    care.refresh()
    assert care.checkin(visit["task_id"], care.officer_care, kind="out").status_code == 201
    # the visit closes when the last visitor checks out
    assert care.get(f"/visits/{visit['id']}", care.officer_care).json["status"] == "in_progress"
    assert care.checkin(visit["task_id"], care.volunteer_named, kind="out").status_code == 201
    done = care.get(f"/visits/{visit['id']}", care.officer_care).json
    assert done["status"] == "done"
    assert done["visitor_ids"] == sorted([care.officer_care.id, care.volunteer_named.id])
    awarded = session.scalars(sa.select(PointsEntry.user_id).where(
        PointsEntry.event_code == "care_visits.visit_completed")).all()
    assert awarded == [care.volunteer_named.id]


def test_a_visit_uploaded_late_keeps_the_phone_times(care):
    """Electronic visit verification records when the visit happened, not when the phone
    found a network: a 25-minute visit uploaded hours later is not too short."""
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    visit = first_visit(care, recipient["id"], care.officer_care)
    came = clock.now()
    left = came + dt.timedelta(minutes=25)
    clock.advance(dt.timedelta(hours=3))
    care.refresh()
    vol = care.volunteer_named
    for kind, at in (("in", came), ("out", left)):
        answer = care.checkin(visit["task_id"], vol, kind=kind, device_time=at.isoformat())
        assert answer.status_code == 201, answer.json
    shown = care.get(f"/visits/{visit['id']}", care.officer_care).json
    assert dt.datetime.fromisoformat(shown["began_at"]) == came
    assert dt.datetime.fromisoformat(shown["ended_at"]) == left
    assert shown["flags"] == [] and shown["review"] == "not_needed"
