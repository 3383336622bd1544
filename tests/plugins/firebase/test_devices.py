"""Push devices: register, list, remove; logout and shared phones; a session keeps one token."""

from __future__ import annotations

import sqlalchemy as sa

from core import devices
from core.models import Device


def register(client, person, token, platform="android", locale="zh-CN"):
    return client.post("/api/v1/me/devices", headers=person.headers,
                       json={"token": token, "platform": platform, "locale": locale})


def tokens_of(session, user_id):
    return sorted(session.scalars(sa.select(Device.token).where(Device.user_id == user_id)))


def test_a_person_registers_several_devices_and_lists_them(client, session, world):
    person = world.person()
    tablet = world.sign_in(person.user, person.phone)
    first = register(client, person, "fcm-phone", "ios", "en-GB")
    assert first.status_code == 201, first.json
    assert first.json["platform"] == "ios" and first.json["locale"] == "en"
    assert "token" not in first.json
    assert register(client, tablet, "fcm-tablet", "android", "zh-Hans-CN").status_code == 201
    again = register(client, person, "fcm-phone", "ios", "en-GB")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    listed = client.get("/api/v1/me/devices", headers=person.headers)
    assert listed.status_code == 200
    assert [(d["platform"], d["locale"]) for d in listed.json] == [("ios", "en"), ("android", "zh-CN")]
    assert tokens_of(session, person.id) == ["fcm-phone", "fcm-tablet"]


def test_remove_by_id_or_by_token_and_only_ones_own(client, session, world):
    person, stranger = world.person(), world.person()
    device_id = register(client, person, "fcm-one").json["id"]
    register(client, world.sign_in(person.user, person.phone), "fcm-two")
    theirs = client.delete(f"/api/v1/me/devices/{device_id}", headers=stranger.headers)
    assert theirs.status_code == 404 and theirs.json["code"] == "device_not_found"
    assert client.delete(f"/api/v1/me/devices/{device_id}", headers=person.headers).status_code == 204
    assert client.delete("/api/v1/me/devices/fcm-two", headers=person.headers).status_code == 204
    gone = client.delete("/api/v1/me/devices/fcm-two", headers=person.headers)
    assert gone.status_code == 404 and gone.json["code"] == "device_not_found"
    assert tokens_of(session, person.id) == []


def test_logout_removes_this_sessions_device_only(client, session, world):
    person = world.person()
    other = world.sign_in(person.user, person.phone)
    register(client, person, "fcm-logging-out")
    register(client, other, "fcm-staying")
    assert client.post("/api/v1/auth/logout", headers=person.headers).status_code == 204
    assert tokens_of(session, person.id) == ["fcm-staying"]


def test_a_shared_phone_pushes_only_to_whoever_registered_it_last(client, session, world):
    first, second = world.person("first"), world.person("second")
    register(client, first, "fcm-shared-phone")
    # the first person hands the phone over without logging out; the second signs in on it
    moved = register(client, second, "fcm-shared-phone")
    assert moved.status_code == 200
    assert tokens_of(session, first.id) == [] and tokens_of(session, second.id) == ["fcm-shared-phone"]


def test_a_refreshed_token_replaces_the_sessions_old_one(client, session, world):
    person = world.person()
    register(client, person, "fcm-old")
    assert register(client, person, "fcm-new").status_code == 201
    assert tokens_of(session, person.id) == ["fcm-new"]


def test_old_devices_make_room_past_the_limit(client, session, world):
    person = world.person()
    for n in range(devices.MAX_DEVICES_PER_USER + 2):
        client.application.extensions["wardens.throttle"].reset()  # sign-ins are limited
        register(client, world.sign_in(person.user, person.phone), f"fcm-{n:02d}")
    kept = tokens_of(session, person.id)
    assert len(kept) == devices.MAX_DEVICES_PER_USER
    assert "fcm-00" not in kept and "fcm-01" not in kept and "fcm-11" in kept


def test_bad_registrations_are_422_and_strangers_401(client, world):
    person = world.person()
    bad_platform = register(client, person, "fcm-x", platform="symbian")
    assert bad_platform.status_code == 422 and bad_platform.json["code"] == "validation_error"
    no_token = client.post("/api/v1/me/devices", headers=person.headers, json={"platform": "ios"})
    assert no_token.status_code == 422
    nul = register(client, person, "fcm-\u0000")
    assert nul.status_code == 422 and nul.json["code"] == "nul_character"
    anonymous = client.post("/api/v1/me/devices", json={"token": "t", "platform": "ios"})
    assert anonymous.status_code == 401
