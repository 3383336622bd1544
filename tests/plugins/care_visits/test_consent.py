"""Consent: without one nothing is recorded (422); withdrawn, further visits are refused (409)
while the records stay."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock
from core.models import Task
from plugins.care_visits.models import Consent, Visit
from tests.plugins.care_visits.conftest import CONSENT, NOW, visits_of

SENSITIVE = {"disability_type": "visual", "disability_grade": "1", "health_notes": "",
             "id_number": "610102195003030000"}
WINDOW = {"starts_at": (NOW + dt.timedelta(days=1)).isoformat(),
          "ends_at": (NOW + dt.timedelta(days=8)).isoformat()}


def put_sensitive(care, rid, who=None):
    return care.client.put(care.url(f"/recipients/{rid}/sensitive"), json=SENSITIVE,
                           headers=(who or care.officer_care).headers)


def test_without_consent_visits_and_sensitive_details_are_refused(care, session):
    recipient = care.recipient(consent=None)
    rid = recipient["id"]
    assert recipient["consent"] == {"state": "none", "scope": []}
    visit = care.post("/visits", care.officer_care, json={"recipient_id": rid, **WINDOW})
    assert visit.status_code == 422 and visit.json["code"] == "consent_required"
    assert visit.json["details"]["scope"] == "visits"
    sensitive = put_sensitive(care, rid)
    assert sensitive.status_code == 422 and sensitive.json["code"] == "consent_required"
    assert care.post("/plan", care.officer_care).json == {"created": 0}
    campaign = care.post("/campaigns", care.officer_care, json={"name": "Spring Festival",
                                                               **WINDOW})
    assert campaign.json["visits"] == {"created": 0, "already_planned": 0,
                                       "without_consent": 1, "consent_withdrawn": 0}
    assert visits_of(session, rid) == []
    # nor can a visitor see the recipient before visits are agreed to
    assert care.get(f"/recipients/{rid}", care.volunteer_team).status_code == 404


def test_consent_covers_only_its_scope_and_is_recorded_with_who_when_version(care, session):
    rid = care.recipient(consent=None)["id"]
    recorded = care.post(f"/recipients/{rid}/consents", care.officer_care, json={
        "basis": "guardian_consent", "scope": ["visits"], "version": "2026-02",
        "given_by": "Gao Ming (son, guardian)"})
    assert recorded.status_code == 201, recorded.json
    body = recorded.json
    assert (body["basis"], body["scope"], body["version"], body["recorded_by"]) == (
        "guardian_consent", ["visits"], "2026-02", care.officer_care.id)
    assert body["recorded_at"].startswith("2026-03-02T02:00:00")
    assert care.post("/visits", care.officer_care,
                     json={"recipient_id": rid, **WINDOW}).status_code == 201
    assert put_sensitive(care, rid).json["code"] == "consent_required"
    assert care.post(f"/recipients/{rid}/consents", care.volunteer_team,
                     json=CONSENT).status_code == 403
    bad = care.post(f"/recipients/{rid}/consents", care.officer_care,
                    json={**CONSENT, "scope": ["everything"]})
    assert bad.status_code == 422


def test_withdrawn_consent_stops_further_processing_and_keeps_the_records(care, session):
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    rid = recipient["id"]
    assert put_sensitive(care, rid).status_code == 200
    care.post("/plan", care.officer_care)
    visits = care.get(f"/visits?recipient_id={rid}&page_size=20", care.officer_care).json
    # one visit under way when the consent is withdrawn
    assert care.checkin(visits[0]["task_id"], care.volunteer_named).status_code == 201

    withdrawn = care.post(f"/recipients/{rid}/consents/withdraw", care.officer_care,
                          json={"note": "Moved in with family; asked us to stop."})
    assert withdrawn.status_code == 200 and withdrawn.json["withdrawn_at"] is not None
    assert withdrawn.json["withdrawn_by"] == care.officer_care.id

    refused = care.post("/visits", care.officer_care, json={"recipient_id": rid, **WINDOW})
    assert refused.status_code == 409 and refused.json["code"] == "consent_withdrawn"
    assert put_sensitive(care, rid).json["code"] == "consent_withdrawn"
    supplies = care.post(f"/visits/{visits[0]['id']}/supplies", care.volunteer_named,
                         json={"items": [{"item": "rice", "quantity": 5}]})
    assert supplies.status_code == 409 and supplies.json["code"] == "consent_withdrawn"
    # the visit under way may finish, but nobody else checks in to it any more
    second = next(a["user_id"] for a in visits[0]["assignees"]
                  if a["user_id"] != care.volunteer_named.id)
    other = next(p for p in care.people.values() if p.id == second)
    late = care.checkin(visits[0]["task_id"], other)
    assert late.status_code == 409 and late.json["code"] == "consent_withdrawn"
    again = care.post(f"/recipients/{rid}/consents/withdraw", care.officer_care, json={})
    assert again.status_code == 409 and again.json["code"] == "consent_not_given"
    # the planned visits are cancelled with their tasks; a check-in there is refused
    stored = visits_of(session, rid)
    assert [v.status for v in stored] == ["in_progress"] + ["cancelled"] * 4
    cancelled = session.get(Task, stored[1].task_id)
    assert cancelled.status == "cancelled"
    assert care.checkin(stored[1].task_id, care.volunteer_named).status_code in (404, 409)
    # the planning job and campaigns leave the recipient alone
    assert care.post("/plan", care.officer_care).json == {"created": 0}
    campaign = care.post("/campaigns", care.officer_care, json={"name": "Mid-Autumn",
                                                               **WINDOW}).json
    assert campaign["visits"]["consent_withdrawn"] == 1 and campaign["visits"]["created"] == 0
    # visitors no longer see the recipient; the care officers still see the kept record
    assert care.get(f"/recipients/{rid}", care.volunteer_named).status_code == 404
    kept = care.get(f"/recipients/{rid}", care.officer_care).json
    assert kept["consent"]["state"] == "withdrawn" and kept["sensitive"] == SENSITIVE
    history = care.get(f"/recipients/{rid}/consents", care.officer_care).json
    assert len(history) == 1 and history[0]["withdrawal_note"].startswith("Moved in")
    assert session.scalar(sa.select(sa.func.count()).select_from(Visit)
                          .where(Visit.recipient_id == rid)) == 5

    # a new consent resumes visits
    clock.advance(dt.timedelta(days=1))
    care.refresh()
    care.post(f"/recipients/{rid}/consents", care.officer_care, json=CONSENT)
    assert care.post("/visits", care.officer_care,
                     json={"recipient_id": rid, **{
                         "starts_at": (NOW + dt.timedelta(days=2)).isoformat(),
                         "ends_at": (NOW + dt.timedelta(days=9)).isoformat()}}).status_code == 201
    assert session.scalar(sa.select(sa.func.count()).select_from(Consent)
                          .where(Consent.recipient_id == rid)) == 2


def test_a_check_in_after_withdrawal_is_refused_even_on_a_task_left_open(care, session):
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    visit = care.get(f"/visits?recipient_id={recipient['id']}", care.officer_care).json[0]
    care.post(f"/recipients/{recipient['id']}/consents/withdraw", care.officer_care, json={})
    # reopen the task behind the plugin's back: the plugin still refuses the check-in
    session.execute(sa.update(Task).where(Task.id == visit["task_id"]).values(status="open"))
    session.commit()
    answer = care.checkin(visit["task_id"], care.volunteer_named)
    assert answer.status_code == 409 and answer.json["code"] == "consent_withdrawn"
