"""Push by FCM through the real firebase-admin: exact requests, unregistered tokens, retries.

A local stand-in on 127.0.0.1 answers Google's OAuth token endpoint and the FCM v1 send
endpoint (tests/plugins/firebase/google_standins.py); firebase-admin reaches it through the
standard HTTPS proxy setting. No FIREBASE_AUTH_EMULATOR_HOST in this process.
"""

from __future__ import annotations

import datetime as dt
import os

import jwt
import sqlalchemy as sa

from core import clock, messages, notifications
from core.models import Device, Notification
from plugins.firebase import sdk
from tests.plugins.firebase import google_standins
from tests.plugins.firebase.google_standins import PROJECT_ID, TOKEN_URI, fcm_ok

messages.register_notifications({
    "tests.shift_reminder": messages.NotificationKind(
        {"en": "Your crossing shift at {post} starts {starts_at}.",
         "zh-CN": "您在{post}的护学岗将于{starts_at}开始。"}, target="tests.shift"),
}, "tests")
messages.register({"tests.shift_reminder.title": {"en": "Shift reminder", "zh-CN": "护学岗提醒"}},
                  "tests")

START = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


def register_device(client, person, token, platform="android", locale="zh-CN"):
    answer = client.post("/api/v1/me/devices", headers=person.headers,
                         json={"token": token, "platform": platform, "locale": locale})
    assert answer.status_code in (200, 201), answer.json
    return answer.json


def remind(session, person, station, **extra):
    row = notifications.notify(session, person.id, "tests.shift_reminder", station_id=station.id,
                               target={"kind": "tests.shift", "shift_id": 42}, post="North Gate",
                               starts_at=START + dt.timedelta(hours=1), task_id=42, **extra)
    session.commit()
    return row


def deliver(deployment):
    return notifications.deliver_pending(deployment.database.writer, "test-worker")


def test_fcm_receives_the_exact_localised_messages(client, session, world, deployment, firebase):
    clock.freeze(START)
    assert sdk.EMULATOR_VARIABLE not in os.environ
    station = world.station("east", plugins=("firebase",))
    guard = world.person("guard", station=station, roles=["volunteer"])
    register_device(client, guard, "token-android-en", "android", "en-US")
    register_device(client, world.sign_in(guard.user, guard.phone), "token-ios-zh", "ios",
                    "zh-Hans-CN")
    row = remind(session, guard, station)

    assert deliver(deployment) == 1
    sends = sorted(firebase.fcm_sends(), key=lambda r: r.body["message"]["token"])
    assert [s.path for s in sends] == [f"/v1/projects/{PROJECT_ID}/messages:send"] * 2
    # 07:00 UTC is 15:00 at the station (Asia/Shanghai): the text says so, never raw UTC; the
    # data carry the time with the station's offset, the zone and the target to open.
    data = {"notification_id": str(row.id), "code": "tests.shift_reminder", "station": "east",
            "timezone": "Asia/Shanghai", "post": "North Gate",
            "starts_at": "2026-03-02T15:00:00+08:00", "task_id": "42",
            "target": '{"kind":"tests.shift","station":"east","shift_id":42}'}
    assert sends[0].body == {"message": {
        "token": "token-android-en", "data": data,
        "notification": {"title": "Shift reminder",
                         "body": "Your crossing shift at North Gate starts Mon 2 Mar 2026, 15:00."}}}
    assert sends[1].body == {"message": {
        "token": "token-ios-zh", "data": data,
        "notification": {"title": "护学岗提醒",
                         "body": "您在North Gate的护学岗将于2026年3月2日（周一）15:00开始。"}}}
    # authorised with an access token that the OAuth endpoint issued for the service account
    token_requests = firebase.of_host("oauth2.googleapis.com")
    assert token_requests, "firebase-admin asked the token endpoint for an access token"
    assertion = jwt.decode(token_requests[-1].body["assertion"], options={"verify_signature": False})
    assert assertion["aud"] == TOKEN_URI and assertion["iss"].endswith("iam.gserviceaccount.com")
    assert all(s.headers["authorization"].removeprefix("Bearer ") in firebase.issued_tokens
               for s in sends)
    session.refresh(row)
    assert row.delivery_status == "sent" and row.last_error is None and row.attempts == 1


def test_dry_run_asks_fcm_to_validate_only(client, session, world, deployment, firebase,
                                           monkeypatch):
    monkeypatch.setitem(deployment.plugins["firebase"].defaults, "dry_run", True)
    station = world.station("east", plugins=("firebase",))
    guard = world.person("guard", station=station)
    register_device(client, guard, "token-dry")
    remind(session, guard, station)
    deliver(deployment)
    (send,) = firebase.fcm_sends()
    assert send.body["validate_only"] is True and send.body["message"]["token"] == "token-dry"


def test_an_unregistered_token_is_deleted_and_the_other_device_still_served(
        client, session, world, deployment, firebase):
    station = world.station("east", plugins=("firebase",))
    guard = world.person("guard", station=station)
    register_device(client, guard, "token-uninstalled")
    register_device(client, world.sign_in(guard.user, guard.phone), "token-live")
    firebase.fcm_answer = lambda token: (
        google_standins.UNREGISTERED if token == "token-uninstalled" else fcm_ok())
    row = remind(session, guard, station)
    deliver(deployment)
    tokens = session.scalars(sa.select(Device.token).where(Device.user_id == guard.id)).all()
    assert tokens == ["token-live"]
    session.refresh(row)
    assert row.delivery_status == "sent"
    assert "UNREGISTERED" in row.last_error or "NOT_FOUND" in row.last_error

    # with no device left the inbox is the delivery: skipped, the reason recorded
    firebase.fcm_answer = lambda token: google_standins.UNREGISTERED
    second = remind(session, guard, station)
    deliver(deployment)
    session.refresh(second)
    assert second.delivery_status == "skipped" and "NOT_FOUND" in second.last_error
    assert session.scalar(sa.select(sa.func.count()).select_from(Device).where(
        Device.user_id == guard.id)) == 0


def test_a_503_is_retried_then_recorded_and_sent_later(client, session, world, deployment,
                                                       firebase):
    clock.freeze(START)
    station = world.station("east", plugins=("firebase",))
    guard = world.person("guard", station=station)
    register_device(client, guard, "token-busy")
    firebase.fcm_answer = lambda token: google_standins.UNAVAILABLE
    row = remind(session, guard, station)

    deliver(deployment)
    # firebase-admin retried the 503 itself (with backoff) before giving up
    assert len(firebase.fcm_sends()) == 5
    session.refresh(row)
    assert row.delivery_status == "pending" and row.attempts == 1
    assert "UNAVAILABLE" in row.last_error
    assert row.next_attempt_at > START
    assert deliver(deployment) == 0  # not due yet: the outbox backs off too

    firebase.fcm_answer = lambda token: fcm_ok()
    clock.advance(dt.timedelta(hours=1))
    assert deliver(deployment) == 1
    session.refresh(row)
    assert row.delivery_status == "sent" and row.attempts == 2 and row.last_error is None


def test_a_permanent_error_fails_the_notification_with_the_reason(client, session, world,
                                                                  deployment, firebase):
    station = world.station("east", plugins=("firebase",))
    guard = world.person("guard", station=station)
    register_device(client, guard, "token-garbled")
    firebase.fcm_answer = lambda token: google_standins.INVALID_ARGUMENT
    row = remind(session, guard, station)
    deliver(deployment)
    session.refresh(row)
    assert row.delivery_status == "failed"
    assert "not a valid FCM registration token" in row.last_error
    assert len(firebase.fcm_sends()) == 1  # not retried: it cannot get better


def test_stations_without_the_plugin_and_deployments_without_push_send_nothing(
        client, session, world, deployment, firebase, monkeypatch):
    west = world.station("west")  # firebase not switched on here
    resident = world.person("resident", station=west)
    register_device(client, resident, "token-west")
    row = remind(session, resident, west)
    deliver(deployment)
    session.refresh(row)
    assert row.delivery_status == "skipped" and firebase.fcm_sends() == []

    east = world.station("east", plugins=("firebase",))
    monkeypatch.setitem(deployment.plugins["firebase"].defaults, "push", False)
    other = remind(session, resident, east)
    deliver(deployment)
    session.refresh(other)
    assert other.delivery_status == "skipped" and firebase.fcm_sends() == []


def test_messages_go_out_in_chunks(client, session, world, deployment, firebase, monkeypatch):
    monkeypatch.setitem(deployment.plugins["firebase"].defaults, "chunk_size", 2)
    station = world.station("east", plugins=("firebase",))
    rows = []
    for n in range(5):
        person = world.person(f"guard{n}", station=station)
        register_device(client, person, f"token-{n}")
        rows.append(remind(session, person, station))
    assert deliver(deployment) == 5
    assert sorted(s.body["message"]["token"] for s in firebase.fcm_sends()) == [
        f"token-{n}" for n in range(5)]
    assert firebase.max_in_flight <= 2  # send_each starts a thread per message: chunks bound it
    for row in rows:
        session.refresh(row)
    assert {row.delivery_status for row in rows} == {"sent"}


def test_a_person_without_devices_keeps_the_inbox(client, session, world, deployment, firebase):
    station = world.station("east", plugins=("firebase",))
    person = world.person("no-phone", station=station)
    row = remind(session, person, station)
    deliver(deployment)
    session.refresh(row)
    assert row.delivery_status == "skipped" and firebase.fcm_sends() == []
    assert session.scalar(sa.select(Notification.id).where(Notification.id == row.id))


def test_an_assignment_and_an_officers_notice_reach_the_phone_in_station_time(
        client, session, world, deployment, firebase):
    clock.freeze(START - dt.timedelta(days=1))
    station = world.station("east", plugins=("firebase",))
    officer = world.person("Officer Wang", station=station, roles=["officer"])
    guard = world.person("guard", station=station, roles=["volunteer"])
    register_device(client, guard, "token-guard", "android", "en-GB")
    base = f"/api/v1/stations/{station.code}"
    task = client.post(f"{base}/tasks", headers=officer.headers, json={
        "title": "School gate", "starts_at": START.isoformat(),
        "ends_at": (START + dt.timedelta(hours=1)).isoformat(), "lat": 30.27, "lon": 120.15,
        "radius_m": 100, "capacity": 2}).json
    assigned = client.post(f"{base}/tasks/{task['id']}/signups", json={"user_id": guard.id},
                           headers=officer.headers)
    assert assigned.status_code == 201
    notice = client.post(f"{base}/notices", headers=officer.headers, json={
        "audience": "role", "role": "volunteer", "title": "Rain tomorrow",
        "text": "Bring a coat.", "target": {"kind": "core.task", "task_id": task["id"]}})
    assert notice.status_code == 201, notice.json
    assert deliver(deployment) == 2
    sends = {s.body["message"]["data"]["code"]: s.body["message"] for s in firebase.fcm_sends()}
    # 06:00 UTC is 14:00 at the station: the push says 14:00, not 06:00Z
    assigned_push = sends["core.task_assigned"]
    assert assigned_push["notification"] == {
        "title": "east station",
        "body": "Officer Wang assigned you to School gate, Mon 2 Mar 2026, 14:00."}
    assert assigned_push["data"]["starts_at"] == "2026-03-02T14:00:00+08:00"
    assert assigned_push["data"]["target"] == (
        f'{{"kind":"core.task","station":"east","task_id":{task["id"]}}}')
    notice_push = sends["core.notice"]
    assert notice_push["notification"] == {"title": "Rain tomorrow",
                                           "body": "Officer Wang: Bring a coat."}
    assert notice_push["data"]["target"] == assigned_push["data"]["target"]
