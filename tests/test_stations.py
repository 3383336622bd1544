"""A station with its admin; members by phone (pending until they register); groups; audit."""

from __future__ import annotations

import sqlalchemy as sa

from core.models import AuditEvent, Membership
from tests.fixtures.people import PASSWORD, new_phone


def verify_phone(client, outbox, headers: dict[str, str], phone: str) -> dict:
    sent = client.post("/api/v1/me/phone-verification", headers=headers)
    assert sent.status_code == 202, sent.json
    answer = client.post("/api/v1/me/phone-verification/confirm", headers=headers,
                         json={"code": outbox.code_for(phone)})
    assert answer.status_code == 200, answer.json
    return answer.json


def test_the_whole_station_set_up_through_http(client, world, session, outbox):
    root = world.sign_in(world.root, world.root.phone)
    admin_phone = new_phone()
    created = client.post("/api/v1/stations", headers=root.headers, json={
        "code": "xinhua", "name": "Xinhua Road Station", "timezone": "Asia/Shanghai",
        "admin_phone": admin_phone})
    assert created.status_code == 201, created.json
    assert created.json["code"] == "xinhua"

    # the admin registers later and finds the station waiting
    reg = client.post("/api/v1/auth/register", json={
        "phone": admin_phone, "password": PASSWORD, "display_name": "Admin Wang"})
    assert reg.status_code == 201
    admin = {"Authorization": f"Bearer {reg.json['access_token']}"}
    # the seat waits until the number is proven by a texted code
    assert client.get("/api/v1/me/memberships", headers=admin).json == []
    assert client.get("/api/v1/stations/xinhua", headers=admin).status_code == 404
    verified = verify_phone(client, outbox, admin, admin_phone)
    assert [m["station"]["code"] for m in verified["memberships"]] == ["xinhua"]
    mine = client.get("/api/v1/me/memberships", headers=admin)
    assert [(m["station"]["code"], m["roles"]) for m in mine.json] == [("xinhua", ["admin"])]

    # the admin adds a registered volunteer who proved the number, and a phone not registered
    volunteer = world.person("Chen Gang")
    verify_phone(client, outbox, volunteer.headers, volunteer.phone)
    added = client.post("/api/v1/stations/xinhua/members", headers=admin, json={
        "phone": volunteer.phone, "roles": ["volunteer", "resident"]})
    assert added.status_code == 201 and added.json["pending"] is False
    assert added.json["phone_verified"] is True
    later_phone = new_phone()
    pending = client.post("/api/v1/stations/xinhua/members", headers=admin, json={
        "phone": later_phone, "roles": ["officer"]})
    assert pending.status_code == 201 and pending.json["pending"] is True
    assert pending.json["user_id"] is None
    twice = client.post("/api/v1/stations/xinhua/members", headers=admin, json={
        "phone": later_phone, "roles": ["officer"]})
    assert twice.status_code == 409 and twice.json["code"] == "already_member"

    officer = client.post("/api/v1/auth/register", json={
        "phone": later_phone, "password": PASSWORD, "display_name": "Officer Li"})
    officer_headers = {"Authorization": f"Bearer {officer.json['access_token']}"}
    verify_phone(client, outbox, officer_headers, later_phone)
    station = client.get("/api/v1/stations/xinhua", headers=officer_headers)
    assert station.status_code == 200 and station.json["my_roles"] == ["officer"]
    members = client.get("/api/v1/stations/xinhua/members", headers=admin)
    assert members.headers["X-Pagination"]
    assert {m["display_name"]: m["pending"] for m in members.json} == {
        "Admin Wang": False, "Chen Gang": False, "Officer Li": False}

    # groups with leaders
    group = client.post("/api/v1/stations/xinhua/groups", headers=officer_headers, json={
        "kind": "grid", "name": "Night patrol"})
    assert group.status_code == 201
    gid = group.json["id"]
    put = client.put(f"/api/v1/stations/xinhua/groups/{gid}/members/{volunteer.id}",
                     headers=officer_headers, json={"leader": True})
    assert put.status_code == 200
    assert put.json["members"] == [
        {"user_id": volunteer.id, "display_name": "Chen Gang", "is_leader": True}]
    seen = client.get(f"/api/v1/stations/xinhua/groups/{gid}", headers=volunteer.headers)
    assert seen.status_code == 200 and seen.json["members"][0]["is_leader"] is True
    dup = client.post("/api/v1/stations/xinhua/groups", headers=officer_headers, json={
        "kind": "grid", "name": "Night patrol"})
    assert dup.status_code == 409 and dup.json["code"] == "group_name_taken"

    # the audit log tells the story, newest first
    audit = client.get("/api/v1/stations/xinhua/audit", headers=admin)
    assert audit.status_code == 200
    actions = [e["action"] for e in audit.json]
    for action in ("member.added", "group.created", "group.member_set"):
        assert action in actions
    assert audit.json[0]["action"] == "group.member_set"
    only_adds = client.get("/api/v1/stations/xinhua/audit?action=member.added", headers=admin)
    assert {e["action"] for e in only_adds.json} == {"member.added"}


def test_only_a_superuser_creates_stations(client, world):
    somebody = world.person()
    answer = client.post("/api/v1/stations", headers=somebody.headers, json={
        "code": "west", "name": "West", "admin_phone": new_phone()})
    assert answer.status_code == 403 and answer.json["code"] == "superuser_required"


def test_join_an_open_station_and_leave_it(client, world, session):
    station = world.station("open-one", open_join=True)
    world.station("closed-one")
    resident = world.person()
    listed = client.get("/api/v1/stations", headers=resident.headers)
    assert [s["code"] for s in listed.json] == ["open-one"]
    joined = client.post("/api/v1/stations/open-one/join", headers=resident.headers)
    assert joined.status_code == 201 and joined.json["roles"] == ["resident"]
    again = client.post("/api/v1/stations/open-one/join", headers=resident.headers)
    assert again.status_code == 409
    closed = client.post("/api/v1/stations/closed-one/join", headers=resident.headers)
    assert closed.status_code == 404
    left = client.delete("/api/v1/me/memberships/open-one", headers=resident.headers)
    assert left.status_code == 204
    assert session.scalar(sa.select(Membership).where(
        Membership.station_id == station.id, Membership.user_id == resident.id)) is None


def test_roles_change_but_the_last_admin_stays(client, world, session):
    station = world.station("east")
    admin = world.person("admin", station=station, roles=["admin"])
    member = session.scalar(sa.select(Membership).where(Membership.user_id == admin.id))
    # the station's own first admin is pending; remove it so `admin` is the only one
    session.execute(sa.delete(Membership).where(Membership.station_id == station.id,
                                                Membership.user_id.is_(None)))
    session.commit()
    demote = client.patch(f"/api/v1/stations/east/members/{member.id}", headers=admin.headers,
                          json={"roles": ["officer"]})
    assert demote.status_code == 409 and demote.json["code"] == "last_admin"
    volunteer = world.person("v", station=station, roles=["volunteer"])
    vm = session.scalar(sa.select(Membership).where(Membership.user_id == volunteer.id))
    promote = client.patch(f"/api/v1/stations/east/members/{vm.id}", headers=admin.headers,
                           json={"roles": ["volunteer", "officer"]})
    assert promote.status_code == 200 and promote.json["roles"] == ["volunteer", "officer"]
    bad_role = client.patch(f"/api/v1/stations/east/members/{vm.id}", headers=admin.headers,
                            json={"roles": ["king"]})
    assert bad_role.status_code == 422
    removed = client.delete(f"/api/v1/stations/east/members/{vm.id}", headers=admin.headers)
    assert removed.status_code == 204
    vm_id = vm.id
    session.expire_all()
    assert session.scalar(sa.select(Membership).where(Membership.id == vm_id)) is None
    events = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.station_id == station.id)).all()
    assert "member.roles_changed" in events and "member.removed" in events


def test_a_station_code_is_taken_once(client, world):
    root = world.sign_in(world.root, world.root.phone)
    body = {"code": "twin", "name": "Twin", "admin_phone": new_phone()}
    assert client.post("/api/v1/stations", headers=root.headers, json=body).status_code == 201
    again = client.post("/api/v1/stations", headers=root.headers,
                        json={**body, "admin_phone": new_phone()},
                        environ_base={"HTTP_ACCEPT_LANGUAGE": "en"})
    assert again.status_code == 409 and again.json["code"] == "station_code_taken"
    assert again.json["message"] == "A station with code twin exists."
    bad_zone = client.post("/api/v1/stations", headers=root.headers, json={
        "code": "zoned", "name": "Z", "timezone": "Mars/Olympus", "admin_phone": new_phone()})
    assert bad_zone.status_code == 422 and bad_zone.json["code"] == "invalid_timezone"


def test_a_password_registration_cannot_take_a_seat_waiting_for_a_number(client, world,
                                                                          outbox):
    """Someone registers the number an admin seat waits for: no seat without the texted code."""
    root = world.sign_in(world.root, world.root.phone)
    seat_phone = new_phone()
    client.post("/api/v1/stations", headers=root.headers, json={
        "code": "guarded", "name": "Guarded", "admin_phone": seat_phone})
    intruder = client.post("/api/v1/auth/register", json={
        "phone": seat_phone, "password": PASSWORD, "display_name": "not the admin"})
    headers = {"Authorization": f"Bearer {intruder.json['access_token']}"}
    assert intruder.json["user"]["phone_verified"] is False
    assert client.get("/api/v1/stations/guarded", headers=headers).status_code == 404
    add = client.post("/api/v1/stations/guarded/members", headers=headers,
                      json={"phone": new_phone(), "roles": ["admin"]})
    assert add.status_code == 404
    # guessing the code: five wrong guesses kill it, then the number's limit answers
    assert client.post("/api/v1/me/phone-verification", headers=headers).status_code == 202
    real = outbox.code_for(seat_phone)
    wrong = f"{(int(real) + 1) % 1_000_000:06d}"
    answers = [client.post("/api/v1/me/phone-verification/confirm", headers=headers,
                           json={"code": code}).json["code"]
               for code in [wrong] * 5 + [real] * 6]
    assert answers == (["verification_code_invalid"] * 5 + ["verification_code_expired"] * 5
                       + ["rate_limited"])
    assert client.get("/api/v1/me/memberships", headers=headers).json == []


def test_a_seat_reserved_for_a_number_registered_unverified_waits_for_the_proof(
        client, world, outbox):
    """The number was registered by password before the seat existed: the seat waits for a
    proof of the phone, so whoever typed the number first does not get it."""
    root = world.sign_in(world.root, world.root.phone)
    squatter = world.person("squatter")
    created = client.post("/api/v1/stations", headers=root.headers, json={
        "code": "seized", "name": "Seized", "admin_phone": squatter.phone})
    assert created.status_code == 201
    assert client.get("/api/v1/stations/seized", headers=squatter.headers).status_code == 404
    assert client.get("/api/v1/me/memberships", headers=squatter.headers).json == []
    # the real admin signs in with a texted code and finds the seat
    client.post("/api/v1/auth/phone-code", json={"phone": squatter.phone})
    admin = client.post("/api/v1/auth/token", json={
        "grant_type": "phone_code", "phone": squatter.phone,
        "code": outbox.code_for(squatter.phone)})
    assert admin.status_code == 200, admin.json
    assert admin.json["user"]["id"] != squatter.id
    admin_headers = {"Authorization": f"Bearer {admin.json['access_token']}"}
    station = client.get("/api/v1/stations/seized", headers=admin_headers)
    assert station.status_code == 200 and station.json["my_roles"] == ["admin"]
    # an admin adding another unverified number sees the seat as unverified
    other = world.person("other")
    added = client.post("/api/v1/stations/seized/members", headers=admin_headers,
                        json={"phone": other.phone, "roles": ["officer"]})
    assert added.status_code == 201
    assert added.json["pending"] is True and added.json["phone_verified"] is False
    assert added.json["user_id"] is None
    listed = client.get("/api/v1/stations/seized/members", headers=admin_headers).json
    assert {m["phone"]: m["phone_verified"] for m in listed} == {
        squatter.phone: True, other.phone: False}
    assert client.get("/api/v1/stations/seized", headers=other.headers).status_code == 404


def test_a_texted_code_expires(client, world, outbox):
    import datetime as dt

    from core import clock

    clock.freeze(dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC))
    person = world.person()
    client.post("/api/v1/me/phone-verification", headers=person.headers)
    code = outbox.code_for(person.phone)
    clock.advance(dt.timedelta(minutes=11))
    person = world.sign_in(person.user, person.phone)
    late = client.post("/api/v1/me/phone-verification/confirm", headers=person.headers,
                       json={"code": code})
    assert late.status_code == 422 and late.json["code"] == "verification_code_expired"
    fresh = verify_phone(client, outbox, person.headers, person.phone)
    assert fresh["phone_verified"] is True
    again = client.post("/api/v1/me/phone-verification", headers=person.headers)
    assert again.status_code == 409 and again.json["code"] == "phone_already_verified"


def test_a_provider_verified_sign_in_claims_the_waiting_seat(client, world, session):
    """An identity provider that proves the number (Firebase phone auth) hands the seat over."""
    from core import accounts
    from core.hookspecs import Identity

    root = world.sign_in(world.root, world.root.phone)
    seat_phone = new_phone()
    client.post("/api/v1/stations", headers=root.headers, json={
        "code": "proven", "name": "Proven", "admin_phone": seat_phone})
    user, _issued = accounts.sign_in_identity(
        session, Identity(phone=seat_phone, provider="test", phone_verified=True))
    session.commit()
    roles = session.scalars(sa.select(Membership.roles).where(Membership.user_id == user.id)).all()
    assert roles == [["admin"]]
