"""Who sees what of a recipient, every read audited, care visits kept out of the general task
list, and care duty granted only by an admin."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.models import AuditEvent
from plugins.care_visits.access import OFFICER_FIELDS, VISITOR_FIELDS

FULL = set(OFFICER_FIELDS) | {"sensitive", "crs"}  # crs: the datum of lat, lon
VISIT_FIELDS = set(VISITOR_FIELDS)
SENSITIVE = {"disability_type": "hearing", "disability_grade": "3",
             "health_notes": "diabetic", "id_number": "610102194501011234"}

# role -> (what GET returns, status when nothing)
MATRIX = {
    "admin_care": FULL,
    "officer_care": FULL,
    "volunteer_team": VISIT_FIELDS,
    "volunteer_named": VISIT_FIELDS,
    "admin": None,
    "officer": None,
    "volunteer": None,
    "resident": None,
    "merchant": None,
    "partner": None,
    "stranger": None,
}


@pytest.fixture
def scene(care):
    recipient = care.recipient(named_visitor_ids=[care.volunteer_named.id],
                               categories=["disabled"])
    put = care.client.put(care.url(f"/recipients/{recipient['id']}/sensitive"),
                          json=SENSITIVE, headers=care.officer_care.headers)
    assert put.status_code == 200, put.json
    return recipient


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_role_by_field_matrix(care, scene, role):
    who = getattr(care, role)
    answer = care.get(f"/recipients/{scene['id']}", who)
    listed = care.get("/recipients?page_size=50", who)
    expected = MATRIX[role]
    if expected is None:
        assert answer.status_code == 404
        if role == "stranger":  # another station's care officer: the station itself is unseen
            assert answer.json["code"] == "station_not_found"
            assert listed.status_code == 404
        else:
            assert answer.json["code"] == "recipient_not_found"
            assert listed.status_code == 200 and listed.json == []
        return
    assert answer.status_code == 200
    assert set(answer.json) == expected
    assert [r["id"] for r in listed.json] == [scene["id"]]
    if expected == FULL:
        assert answer.json["sensitive"] == SENSITIVE
        assert "sensitive" not in listed.json[0]  # lists never carry sensitive details
        assert set(listed.json[0]) == set(OFFICER_FIELDS) | {"crs"}
    else:
        assert set(listed.json[0]) == VISIT_FIELDS
        assert "610102194501011234" not in answer.get_data(as_text=True)
        assert "diabetic" not in listed.get_data(as_text=True)


def test_another_stations_care_officer_cannot_reach_a_recipient_through_their_own_station(
        care, scene):
    answer = care.client.get(care.url(f"/recipients/{scene['id']}", station=care.other),
                             headers=care.stranger.headers)
    assert answer.status_code == 404 and answer.json["code"] == "recipient_not_found"
    assert care.client.get(care.url("/recipients", station=care.other),
                           headers=care.stranger.headers).json == []


def test_only_care_officers_change_records_and_record_sensitive_details(care, scene):
    for role in ("volunteer_team", "volunteer_named"):
        who = getattr(care, role)
        put = care.client.put(care.url(f"/recipients/{scene['id']}/sensitive"), json=SENSITIVE,
                              headers=who.headers)
        assert put.status_code == 403 and put.json["code"] == "care_duty_required"
        assert care.client.patch(care.url(f"/recipients/{scene['id']}"), json={"needs": "x"},
                                 headers=who.headers).status_code == 403
        assert care.get(f"/recipients/{scene['id']}/export", who).status_code == 403
    for role in ("officer", "admin", "volunteer"):
        who = getattr(care, role)
        assert care.client.patch(care.url(f"/recipients/{scene['id']}"), json={"needs": "x"},
                                 headers=who.headers).status_code == 404
        made = care.post("/recipients", who, json={"name": "x", "address": "y", "lat": 1,
                                                   "lon": 1, "categories": ["other"]})
        assert made.status_code == 403 and made.json["code"] == "care_duty_required"


def test_visitors_lose_sight_when_taken_off_the_team(care, scene, session):
    from core.models import GroupMember

    assert care.get(f"/recipients/{scene['id']}", care.volunteer_team).status_code == 200
    session.execute(sa.delete(GroupMember).where(GroupMember.user_id == care.volunteer_team.id))
    session.commit()
    assert care.get(f"/recipients/{scene['id']}", care.volunteer_team).status_code == 404


def reads(session, **where):
    query = sa.select(AuditEvent).where(AuditEvent.action == "care_visits.recipient_read")
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return session.scalars(query.order_by(AuditEvent.id)).all()


def test_each_read_writes_exactly_one_audit_event(care, scene, session):
    before = len(reads(session))
    care.get(f"/recipients/{scene['id']}", care.officer_care)
    events = reads(session)[before:]
    assert len(events) == 1
    event = events[0]
    assert (event.actor_id, event.actor_role, event.record_type, event.record_id) == (
        care.officer_care.id, "officer", "care_visits_recipient", str(scene["id"]))
    assert set(event.details["fields"]) == set(OFFICER_FIELDS) | set(SENSITIVE)
    assert event.station_id == care.station.id and event.created_at is not None
    care.get(f"/recipients/{scene['id']}", care.volunteer_named)
    visitor_event = reads(session, actor_id=care.volunteer_named.id)
    assert len(visitor_event) == 1
    assert visitor_event[0].details["fields"] == list(VISITOR_FIELDS)
    assert visitor_event[0].actor_role == "volunteer"
    # refused reads read nothing and record nothing
    care.get(f"/recipients/{scene['id']}", care.volunteer)
    assert reads(session, actor_id=care.volunteer.id) == []


def test_listing_twenty_writes_twenty(care, session):
    ids = [care.recipient(name=f"Person {n}")["id"] for n in range(22)]
    before = len(reads(session))
    page = care.get("/recipients?page_size=20", care.admin_care)
    assert page.status_code == 200 and len(page.json) == 20
    assert page.headers["X-Pagination"]
    events = reads(session)[before:]
    assert len(events) == 20
    assert sorted(int(e.record_id) for e in events) == ids[:20]
    assert {e.actor_id for e in events} == {care.admin_care.id}
    second = care.get("/recipients?page_size=20&page=2", care.admin_care)
    assert len(second.json) == 2 and len(reads(session)) == before + 22


def test_the_general_task_list_shows_no_care_visit_to_anyone_outside(care, scene):
    care.post("/plan", care.officer_care)
    visits = care.get(f"/visits?recipient_id={scene['id']}&page_size=20", care.officer_care).json
    task_ids = {v["task_id"] for v in visits}
    assert len(task_ids) == 5
    tasks_url = f"/api/v1/stations/{care.station.code}/tasks?page_size=100"
    for role in ("volunteer", "officer", "admin", "resident"):
        who = getattr(care, role)
        listed = care.client.get(tasks_url, headers=who.headers)
        assert listed.status_code == 200
        assert not {t["id"] for t in listed.json} & task_ids
        assert all(t["kind"] != "care_visit" for t in listed.json)
        one = care.client.get(f"/api/v1/stations/{care.station.code}/tasks/{min(task_ids)}",
                              headers=who.headers)
        assert one.status_code == 404
    # the assigned visitor sees their own visits there, and the titles carry no name
    mine = care.client.get(tasks_url, headers=care.volunteer_named.headers).json
    assert {t["id"] for t in mine} == task_ids
    assert {t["title"] for t in mine} == {"Care visit"}
    assert scene["name"] not in str(mine) and scene["address"] not in str(mine)


# Duty comes only from an admin's hand -------------------------------------------------------

def groups_url(care, path=""):
    return f"/api/v1/stations/{care.station.code}/groups{path}"


def team_members(session, care):
    from core.models import GroupMember

    session.expire_all()
    return set(session.scalars(sa.select(GroupMember.user_id).where(
        GroupMember.group_id == care.team.id)))


def group_calls(care, who, admin=False):
    """Every core groups call that would hand ``who`` (or a resident) care duty.

    An admin manages the team (adds others, removes, deletes): only what grants themselves.
    """
    client, headers = care.client, who.headers
    yield "put self", client.put(groups_url(care, f"/{care.team.id}/members/{who.id}"),
                                 json={"leader": False}, headers=headers)
    if admin:
        made = client.post(groups_url(care), json={"kind": "care_team", "name": "Mine"},
                           headers=headers)
        assert made.status_code == 201
        yield "put self in new", client.put(groups_url(care, f"/{made.json['id']}/members/"
                                                             f"{who.id}"),
                                            json={"leader": True}, headers=headers)
        return
    yield "put resident", client.put(groups_url(care, f"/{care.team.id}/members/"
                                                      f"{care.resident.id}"),
                                     json={"leader": False}, headers=headers)
    yield "lead", client.put(groups_url(care, f"/{care.team.id}/members/"
                                              f"{care.volunteer_team.id}"),
                             json={"leader": True}, headers=headers)
    yield "remove", client.delete(groups_url(care, f"/{care.team.id}/members/"
                                                   f"{care.officer_care.id}"), headers=headers)
    yield "create", client.post(groups_url(care), json={"kind": "care_team", "name": "Mine"},
                                headers=headers)
    yield "delete", client.delete(groups_url(care, f"/{care.team.id}"), headers=headers)


REFUSED = {"admin": "duty_self_grant", "officer": "duty_group_admins_only",
           "volunteer": "role_required", "resident": "role_required",
           "merchant": "role_required", "partner": "role_required"}


@pytest.mark.parametrize("role", sorted(REFUSED))
def test_no_group_call_hands_someone_care_duty_they_lack(care, scene, session, role):
    who = getattr(care, role)
    before = team_members(session, care)
    for call, answer in group_calls(care, who, admin=role == "admin"):
        assert answer.status_code == 403, (call, answer.json)
        assert answer.json["code"] == REFUSED[role], (call, answer.json)
    assert team_members(session, care) == before
    answer = care.get(f"/recipients/{scene['id']}", who)
    assert answer.status_code == 404 and answer.json["code"] == "recipient_not_found"
    assert care.get("/recipients", who).json == []


def test_an_admin_grants_care_duty_audited_and_the_care_officers_are_told(care, scene, session):
    put = care.client.put(groups_url(care, f"/{care.team.id}/members/{care.officer.id}"),
                          json={"leader": False}, headers=care.admin.headers)
    assert put.status_code == 200, put.json
    assert care.get(f"/recipients/{scene['id']}", care.officer).status_code == 200
    audit = care.client.get(f"/api/v1/stations/{care.station.code}/audit?action=group.member_set",
                            headers=care.admin.headers).json
    assert [(e["actor_id"], e["details"]["user_id"], e["details"]["kind"]) for e in audit] == [
        (care.admin.id, care.officer.id, "care_team")]

    def told(who):
        inbox = care.client.get("/api/v1/me/notifications", headers=who.headers).json
        return [n["code"] for n in inbox if n["code"].startswith("core.duty_group_")]

    # the team's officers and admins, its leader and the person concerned; not the volunteer
    for person in (care.officer_care, care.admin_care, care.officer):
        assert told(person) == ["core.duty_group_member_added"]
    assert told(care.volunteer_team) == [] and told(care.admin) == []

    gone = care.client.delete(groups_url(care, f"/{care.team.id}/members/{care.officer.id}"),
                              headers=care.admin.headers)
    assert gone.status_code == 204
    assert care.get(f"/recipients/{scene['id']}", care.officer).status_code == 404
    assert told(care.officer_care) == ["core.duty_group_member_removed", "core.duty_group_member_added"]
    assert told(care.officer)[0] == "core.duty_group_member_removed"


def test_shop_staff_stay_the_anti_fraud_plugins_to_manage(care, session, deployment):
    """A shop's group is owned by anti_fraud: its own service changes it, the core API not."""
    from core.access import load_actor
    from core.stations import create_group, put_group_member

    assert deployment.group_kinds == {"care_team": "care_visits", "patrol_team": "patrol",
                                      "crossing_team": "crossing_guard", "shop": "anti_fraud"}
    who = load_actor(session, care.station.code, care.officer.user)
    shop = create_group(session, who, kind="shop", name="Bakery", plugin="anti_fraud")
    put_group_member(session, who, shop.id, care.merchant.id, False, plugin="anti_fraud")
    from core.errors import PermissionDenied

    with pytest.raises(PermissionDenied) as refused:
        put_group_member(session, who, care.team.id, care.officer.id, False, plugin="anti_fraud")
    assert refused.value.code == "duty_group_admins_only"
    answer = care.client.put(groups_url(care, f"/{shop.id}/members/{care.merchant.id}"),
                             json={"leader": True}, headers=care.officer.headers)
    session.commit()
    assert answer.status_code == 403 and answer.json["code"] == "duty_group_admins_only"


def test_an_officer_on_one_visit_changes_it_only_through_the_plugin(care):
    """The core's generic task endpoints are closed for a visit: no moved fence, no more
    places, no resident added (who would then see the recipient), no cancellation."""
    recipient = care.recipient(named_visitor_ids=[care.officer.id])
    care.post("/plan", care.officer_care)
    visit = care.get(f"/visits?recipient_id={recipient['id']}", care.officer_care).json[0]
    task_url = f"/api/v1/stations/{care.station.code}/tasks/{visit['task_id']}"
    before = care.client.get(task_url, headers=care.officer.headers)
    assert before.status_code == 200 and before.json["my_status"] == "signed_up"
    for method, path, body, action in (
            ("PATCH", "", {"lat": 31.0, "lon": 121.0}, "edit"),
            ("PATCH", "", {"capacity": 5}, "edit"),
            ("POST", "/signups", {"user_id": care.resident.id}, "assign"),
            ("POST", "/cancel", {"reason": "mine now"}, "cancel"),
            ("DELETE", "/signups/me", None, "withdraw")):
        answer = care.client.open(f"{task_url}{path}", method=method, json=body,
                                  headers=care.officer.headers)
        assert answer.status_code == 403, (method, path, answer.json)
        assert answer.json["code"] == "task_managed_by_plugin"
        assert answer.json["details"]["action"] == action
    after = care.client.get(task_url, headers=care.officer.headers).json
    assert after == before.json
    assert care.client.get("/api/v1/me/assignments",
                           headers=care.resident.headers).json == []


def test_a_group_turned_into_a_care_team_is_a_duty_change(care, session):
    """No API takes a kind change today; the core refuses it all the same (a plugin might)."""
    from core.access import load_actor
    from core.errors import PermissionDenied
    from core.stations import create_group, put_group_member, update_group

    admin = load_actor(session, care.station.code, care.admin.user)
    officer = load_actor(session, care.station.code, care.officer.user)
    grid = create_group(session, officer, kind="grid", name="North")
    put_group_member(session, officer, grid.id, care.officer.id, False)
    for who, code in ((officer, "duty_group_admins_only"), (admin, "duty_self_grant")):
        if who is admin:
            put_group_member(session, admin, grid.id, care.admin.id, False)
        with pytest.raises(PermissionDenied) as refused:
            update_group(session, who, grid.id, {"kind": "care_team"})
        assert refused.value.code == code
    session.commit()
    assert care.get("/recipients", care.officer).json == []
