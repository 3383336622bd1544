"""A visitor removed from the station loses sight of every recipient, and re-joining does not
bring it back."""

from __future__ import annotations

import sqlalchemy as sa

from core.models import Assignment
from plugins.care_visits.models import NamedVisitor
from tests.plugins.care_visits.conftest import HOME


def members_url(care, path=""):
    return f"/api/v1/stations/{care.station.code}/members{path}"


def remove(care, person):
    members = care.client.get(members_url(care, "?page_size=100"),
                              headers=care.admin.headers).json
    membership = next(m["id"] for m in members if m["user_id"] == person.id)
    gone = care.client.delete(members_url(care, f"/{membership}"), headers=care.admin.headers)
    assert gone.status_code == 204


def positions(care, who):
    mine = care.client.get("/api/v1/me/assignments?page_size=100", headers=who.headers).json
    return {(a["task"]["lat"], a["task"]["lon"]) for a in mine}


def test_a_removed_named_visitor_loses_the_recipient_and_rejoining_does_not_restore_it(
        care, session, outbox):
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    who = care.volunteer_named
    assert care.get(f"/recipients/{recipient['id']}", who).status_code == 200
    assert len(care.get("/visits?page_size=20", who).json) == 5
    assert HOME in positions(care, who)

    remove(care, who)
    session.expire_all()
    assert session.scalars(sa.select(NamedVisitor).where(
        NamedVisitor.user_id == who.id)).all() == []
    held = session.scalars(sa.select(Assignment.status).where(
        Assignment.user_id == who.id)).all()
    assert held and set(held) == {"withdrawn"}
    assert HOME not in positions(care, who)

    outbox.prove_phone(care.client, who)  # a seat goes to a proven number only
    back = care.client.post(members_url(care), json={"phone": who.phone, "roles": ["resident"]},
                            headers=care.admin.headers)
    assert back.status_code == 201, back.json
    answer = care.get(f"/recipients/{recipient['id']}", who)
    assert answer.status_code == 404 and answer.json["code"] == "recipient_not_found"
    assert care.get("/recipients", who).json == []
    assert care.get("/visits?page_size=20", who).json == []
    assert HOME not in positions(care, who)


def test_a_care_team_member_who_leaves_is_out_of_the_team_for_good(care, session, outbox):
    recipient = care.recipient()
    who = care.volunteer_team
    assert care.get(f"/recipients/{recipient['id']}", who).status_code == 200
    assert care.client.delete(f"/api/v1/me/memberships/{care.station.code}",
                              headers=who.headers).status_code == 204
    outbox.prove_phone(care.client, who)  # a seat goes to a proven number only
    back = care.client.post(members_url(care), json={"phone": who.phone, "roles": ["resident"]},
                            headers=care.admin.headers)
    assert back.status_code == 201
    assert care.get(f"/recipients/{recipient['id']}", who).status_code == 404
    # the care officers were told their team changed
    inbox = care.client.get("/api/v1/me/notifications", headers=care.officer_care.headers).json
    assert "core.duty_group_member_removed" in [n["code"] for n in inbox]
