"""Recipient records and visits: validation, changes, visitors, switching off, texts, demo, metrics."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import sqlalchemy as sa

from core import clock, demo, messages
from core.models import AuditEvent, Station, StationPlugin
from plugins.care_visits.models import Recipient, SensitiveDetails, Visit
from tests.plugins.care_visits.conftest import NOW, visits_of

WINDOW = {"starts_at": (NOW + dt.timedelta(hours=1)).isoformat(),
          "ends_at": (NOW + dt.timedelta(days=7)).isoformat()}


def test_a_recipient_is_validated(care):
    base = {"name": "Gao Lan", "address": "Room 1", "lat": 34.2, "lon": 108.9,
            "categories": ["elderly_alone"]}
    cases = [({**base, "phone": "12345"}, "invalid_phone"),
             ({**base, "categories": ["rich"]}, "validation_error"),
             ({**base, "categories": []}, "validation_error"),
             ({**base, "lat": 91}, "validation_error"),
             ({**base, "care_group_id": 99999}, "care_group_invalid"),
             ({**base, "named_visitor_ids": [care.stranger.id]}, "not_a_member"),
             ({**base, "visits_per_year": 100}, "validation_error"),
             ({**base, "nickname": "x"}, "validation_error"),
             ({**base, "name": "Gao\u0000Lan"}, "nul_character")]
    for body, code in cases:
        answer = care.post("/recipients", care.officer_care, json=body)
        assert answer.status_code == 422 and answer.json["code"] == code, (body, answer.json)
    # a group of another kind is not a care team
    patrol = care.client.post(f"/api/v1/stations/{care.station.code}/groups",
                              headers=care.officer_care.headers,
                              json={"kind": "grid", "name": "Night patrol"}).json
    answer = care.post("/recipients", care.officer_care, json={**base,
                                                               "care_group_id": patrol["id"]})
    assert answer.json["code"] == "care_group_invalid"
    made = care.post("/recipients", care.officer_care, json={**base, "phone": "029 8888 6666"})
    assert made.status_code == 201 and made.json["phone"] == "+862988886666"


def test_a_care_officer_changes_a_record_and_the_change_is_audited(care, session):
    recipient = care.recipient(categories=["elderly_alone"])
    changed = care.client.patch(care.url(f"/recipients/{recipient['id']}"),
                                headers=care.officer_care.headers,
                                json={"categories": ["hardship"], "needs": "heating",
                                      "emergency_contact": {"name": "Gao Ping", "phone": None},
                                      "named_visitor_ids": [care.volunteer_named.id]})
    assert changed.status_code == 200, changed.json
    body = changed.json
    assert body["categories"] == ["hardship"] and body["required_visits"] == 12
    assert body["named_visitor_ids"] == [care.volunteer_named.id]
    assert body["emergency_contact"]["name"] == "Gao Ping"
    assert body["emergency_contact"]["phone"] is None
    own = care.client.patch(care.url(f"/recipients/{recipient['id']}"),
                            headers=care.officer_care.headers, json={"visits_per_year": 7})
    assert own.json["required_visits"] == 7
    event = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "care_visits.recipient_updated")).first()
    assert set(event.details["fields"]) == {"categories", "needs", "emergency_contact",
                                            "named_visitor_ids"}
    assert "heating" not in str(event.details)  # audit names fields, never their values


def test_the_station_sets_visits_per_year_per_category(care, session):
    session.execute(sa.update(StationPlugin).where(StationPlugin.station_id == care.station.id)
                    .values(settings={"visits_per_year": {"elderly_alone": 6, "hardship": 24}}))
    session.commit()
    assert care.recipient(categories=["elderly_alone"])["required_visits"] == 6
    assert care.recipient(categories=["hardship", "disabled"])["required_visits"] == 24
    assert care.recipient(categories=["disabled"])["required_visits"] == 5


def test_a_manual_visit_and_its_visitors(care, session):
    rid = care.recipient()["id"]
    made = care.post("/visits", care.officer_care, json={
        "recipient_id": rid, "service_type": "supplies_delivery",
        "visitor_ids": [care.volunteer.id], **WINDOW})
    assert made.status_code == 201, made.json
    visit = made.json
    assert visit["source"] == "manual" and visit["service_type"] == "supplies_delivery"
    assert visit["assignees"] == [{"user_id": care.volunteer.id, "status": "signed_up"}]
    # being on a visit makes one a visitor of that recipient while it is open
    assert set(care.get(f"/recipients/{rid}", care.volunteer).json) == {
        "id", "name", "phone", "address", "needs"}
    # The visitor is told whom they visit, where and when (station time), by whom; nothing of
    # the recipient they may not read (needs, phone, categories).
    told = care.client.get("/api/v1/me/notifications", headers={
        **care.volunteer.headers, "Accept-Language": "en"}).json
    assert [n["code"] for n in told] == ["care_visits.visit_planned"]
    assert told[0]["text"] == ("Care visit to Gao Lan at Building 3, Unit 2, Room 101, Example "
                               "Road 7: Mon 2 Mar 2026, 11:00 to Mon 9 Mar 2026, 10:00.")
    assert told[0]["params"]["by"] == "Officer Care"
    assert told[0]["target"] == {"kind": "care_visits.visit", "station": care.station.code,
                                 "visit_id": visit["id"], "task_id": visit["task_id"]}
    assert not {"needs", "phone", "categories"} & set(told[0]["params"])
    assert "shopping" not in str(told[0])
    added = care.post(f"/visits/{visit['id']}/visitors", care.officer_care,
                      json={"user_id": care.volunteer_named.id})
    assert added.status_code == 201
    assert {a["user_id"] for a in added.json["assignees"]} == {care.volunteer.id,
                                                               care.volunteer_named.id}
    third = care.post(f"/visits/{visit['id']}/visitors", care.officer_care,
                      json={"user_id": care.resident.id})
    assert third.status_code == 201 and len(third.json["assignees"]) == 3  # one more place
    assert care.post(f"/visits/{visit['id']}/visitors", care.volunteer,
                     json={"user_id": care.volunteer.id}).status_code == 403
    removed = care.client.delete(care.url(f"/visits/{visit['id']}/visitors/{care.volunteer.id}"),
                                 headers=care.officer_care.headers)
    assert removed.status_code == 204
    assert care.get(f"/recipients/{rid}", care.volunteer).status_code == 404
    bad = care.post("/visits", care.officer_care, json={
        "recipient_id": rid, "starts_at": WINDOW["ends_at"], "ends_at": WINDOW["starts_at"]})
    assert bad.status_code == 422
    listed = care.get(f"/visits?recipient_id={rid}&status=planned", care.officer_care)
    assert [v["id"] for v in listed.json] == [visit["id"]]
    assert care.get("/visits?status=done", care.officer_care).json == []


def test_a_station_with_the_plugin_off_answers_plugin_disabled(care, session):
    session.execute(sa.update(StationPlugin).where(StationPlugin.station_id == care.station.id)
                    .values(enabled=False))
    session.commit()
    answer = care.get("/recipients", care.officer_care)
    assert answer.status_code == 404 and answer.json["code"] == "plugin_disabled"


def test_every_code_the_plugin_raises_or_sends_has_english_and_chinese_text():
    folder = Path(__file__).resolve().parents[3] / "plugins" / "care_visits"
    source = "\n".join(p.read_text() for p in folder.glob("*.py"))
    raised = set(re.findall(r'(?:Invalid|Conflict|NotFound|PermissionDenied)\("([a-z_]+)"',
                            source))
    sent = {f"care_visits.{kind}" for kind in re.findall(
        r'_send\(\s*session, station, "([a-z_]+)"', source)}
    sent |= {"care_visits.visit_planned", "care_visits.ack_code"}
    assert len(raised) > 25 and len(sent) == 6
    for code in raised | sent:
        assert set(messages.MESSAGES.get(code, {})) >= {"en", "zh-CN"}, code


def test_demo_data_plans_visits_for_fictitious_people(client, session):
    clock.freeze(NOW)
    demo.seed(session)
    session.commit()
    station = session.scalar(sa.select(Station).where(Station.code == demo.DEMO_STATION))
    recipients = session.scalars(sa.select(Recipient).where(
        Recipient.station_id == station.id)).all()
    assert len(recipients) == 3 and all(r.consent_state == "given" for r in recipients)
    assert session.scalar(sa.select(sa.func.count()).select_from(SensitiveDetails)
                          .where(SensitiveDetails.station_id == station.id)) == 2
    planned = [len(visits_of(session, r.id)) for r in recipients]
    assert planned == [6, 6, 13]  # the year's plan and one festival visit each
    # the officer of the demo sees them through the API
    officer = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": "+8613800000002", "password": demo.DEMO_PASSWORD}).json
    listed = client.get("/api/v1/stations/demo/care-visits/recipients",
                        headers={"Authorization": f"Bearer {officer['access_token']}"})
    assert listed.status_code == 200 and len(listed.json) == 3


def test_dashboard_metrics_count_without_naming(care, session):
    rid = care.recipient(named_visitor_ids=[care.volunteer_named.id])["id"]
    care.recipient(consent=None)
    care.post("/plan", care.officer_care)
    visit = visits_of(session, rid)[0]
    care.checkin(visit.task_id, care.volunteer_named)
    care.post(f"/visits/{visit.id}/supplies", care.volunteer_named,
              json={"items": [{"item": "rice", "quantity": 10, "unit": "kg"}]})
    care.post(f"/visits/{visit.id}/follow-ups", care.volunteer_named,
              json={"needs": [{"need": "New glasses"}]})
    clock.advance(dt.timedelta(minutes=30))
    care.refresh()
    care.checkin(visit.task_id, care.volunteer_named, kind="out")
    since = (NOW - dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    board = care.client.get(f"/api/v1/stations/{care.station.code}/dashboard",
                            query_string={"since": since}, headers=care.officer.headers)
    assert board.status_code == 200, board.json
    metrics = board.json["plugins"]["care_visits"]
    assert metrics == {"recipients": 2, "recipients_without_consent": 1, "visits_done": 1,
                       "visits_planned": 4, "visits_missed": 0, "visits_under_review": 0,
                       "visits_done_this_year": 1, "follow_ups_open": 1,
                       "supplies_delivered": 10}
    session.expire_all()
    assert session.get(Visit, visit.id).status == "done"


def test_a_recipient_who_moves_takes_the_planned_visits_fence_along(care, session):
    from core.models import Task

    rid = care.recipient()["id"]
    care.post("/plan", care.officer_care)
    moved = care.client.patch(care.url(f"/recipients/{rid}"), headers=care.officer_care.headers,
                              json={"address": "New flat", "lat": 34.25, "lon": 108.95})
    assert moved.status_code == 200
    session.expire_all()
    fences = {(session.get(Task, v.task_id).lat, session.get(Task, v.task_id).lon)
              for v in visits_of(session, rid)}
    assert fences == {(34.25, 108.95)}


def test_a_manual_visit_needs_members_and_a_window_to_come(care):
    rid = care.recipient()["id"]
    stranger = care.post("/visits", care.officer_care, json={
        "recipient_id": rid, "visitor_ids": [care.stranger.id], **WINDOW})
    assert stranger.status_code == 422 and stranger.json["code"] == "not_a_member"
    past = care.post("/visits", care.officer_care, json={
        "recipient_id": rid, "starts_at": (NOW - dt.timedelta(days=3)).isoformat(),
        "ends_at": (NOW - dt.timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and past.json["code"] == "visit_window_past"
    unseen = care.post("/visits", care.volunteer_team, json={"recipient_id": rid, **WINDOW})
    assert unseen.status_code == 403


def test_reading_the_consent_history_is_audited(care, session):
    rid = care.recipient()["id"]
    history = care.get(f"/recipients/{rid}/consents", care.officer_care)
    assert history.status_code == 200 and len(history.json) == 1
    event = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "care_visits.recipient_read",
        AuditEvent.record_id == str(rid))).one()
    assert event.details["fields"] == ["consents"]


def test_an_admin_sets_the_care_settings_and_a_bad_one_is_refused(care):
    path = f"/api/v1/stations/{care.station.code}/plugins/care_visits"
    bad = care.client.put(path, headers=care.admin.headers, json={
        "enabled": True, "settings": {"min_visit_minutes": -1}})
    assert bad.status_code == 422, bad.json
    good = care.client.put(path, headers=care.admin.headers, json={
        "enabled": True, "settings": {"visits_per_year": {"hardship": 24},
                                      "min_visit_minutes": 20}})
    assert good.status_code == 200, good.json
    assert good.json["settings"]["visits_per_year"] == {
        "disabled": 5, "elderly_alone": 5, "hardship": 24, "other": 5}
    assert care.recipient(categories=["hardship"])["required_visits"] == 24


def test_a_recipient_account_id_of_zero_is_refused_not_a_500(care, session):
    before = session.scalar(sa.select(sa.func.count()).select_from(Recipient))
    body = {"name": "Gao Lan", "phone": "+8613600001111", "address": "Example Road 7",
            "lat": 34.23, "lon": 108.94, "categories": ["elderly_alone"], "user_id": 0,
            "consent": {"basis": "consent", "scope": ["visits"], "version": "2026-01"}}
    answer = care.post("/recipients", care.officer_care, json=body)
    assert answer.status_code == 422, answer.json
    assert answer.json["code"] == "not_a_member"
    assert session.scalar(sa.select(sa.func.count()).select_from(Recipient)) == before
    recipient = care.recipient()
    changed = care.client.patch(care.url(f"/recipients/{recipient['id']}"), json={"user_id": 0},
                                headers=care.officer_care.headers)
    assert changed.status_code == 422, changed.json
