"""Push by JPush against a local stand-in at the machine's edge (see conftest): devices
registered like FCM's, text in the device's language, deep-link extras, unknown ids removed."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from core import accounts, clock, notifications, stations, targets
from core.models import Device, NotificationDelivery, StationPlugin
from core.models.notifications import DeliveryStatus
from tests.fixtures.people import PASSWORD, new_phone

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def person_with_devices(app, *devices):
    """A member of station east (push_jpush on) signed in, with JPush devices (id, locale)."""
    client = app.test_client()
    database = app.extensions["wardens"].database
    phone = new_phone()
    with database.writer() as session:
        root = accounts.create_user(session, phone=new_phone(), display_name="root",
                                    password=PASSWORD, is_superuser=True)
        station, _ = stations.create_station(session, root, code="east", name="East station",
                                             admin_phone=phone)
        session.add(StationPlugin(station_id=station.id, name="push_jpush", enabled=True))
        user = accounts.create_user(session, phone=phone, display_name="Li", password=PASSWORD,
                                    phone_verified=True)
        session.commit()
    for registration_id, locale in devices:  # each phone signed in on its own
        token = client.post("/api/v1/auth/token", json={
            "grant_type": "password", "phone": phone, "password": PASSWORD}).json["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        answer = client.post("/api/v1/me/devices", headers=headers, json={
            "token": registration_id, "platform": "android", "service": "jpush",
            "locale": locale})
        assert answer.status_code == 201, answer.json
    return station, user


def test_a_push_per_device_in_its_language_with_the_deep_link(china, jpush_api):
    clock.freeze(NOON)
    _, api = jpush_api
    deployment = china.extensions["wardens"]
    station, user = person_with_devices(china, ("1a0018970a1b2c3d", "en"),
                                        ("1a0018970a1b2c3e", "zh-CN"))
    with deployment.database.writer() as session:
        note = notifications.notify(session, user.id, "core.task_cancelled",
                                    station_id=station.id, title="Night patrol",
                                    target=targets.target("core.task", task_id=5))
        session.commit()
        notifications.deliver_pending(deployment.database.writer, "w1")
        session.expire_all()
        record = session.scalars(sa.select(NotificationDelivery).where(
            NotificationDelivery.notification_id == note.id,
            NotificationDelivery.channel == "push_jpush")).one()
        assert record.status == DeliveryStatus.SENT
    english, chinese = api.pushes
    assert english["audience"] == {"registration_id": ["1a0018970a1b2c3d"]}
    android = english["notification"]["android"]
    assert "Night patrol" in android["alert"] and android["title"] == "East station"
    assert "Night patrol" in chinese["notification"]["android"]["alert"]
    assert chinese["notification"]["android"]["alert"] != android["alert"]
    extras = android["extras"]
    assert extras["notification_id"] == str(note.id) and extras["station"] == "east"
    assert json.loads(extras["target"]) == {"kind": "core.task", "station": "east", "task_id": 5}
    assert english["notification"]["ios"]["extras"] == extras
    assert english["options"]["apns_production"] is False


def test_an_unknown_registration_id_is_removed(china, jpush_api):
    _, api = jpush_api
    deployment = china.extensions["wardens"]
    station, user = person_with_devices(china, ("1a0018970a1b2c40", "zh-CN"),
                                        ("1a0018970a1b2c41", "zh-CN"))
    api.unknown.add("1a0018970a1b2c40")
    with deployment.database.writer() as session:
        notifications.notify(session, user.id, "core.task_cancelled", station_id=station.id,
                             title="x")
        session.commit()
        notifications.deliver_pending(deployment.database.writer, "w1")
        session.expire_all()
        left = session.scalars(sa.select(Device.token).where(Device.user_id == user.id)).all()
    assert left == ["1a0018970a1b2c41"]
    assert [p["audience"]["registration_id"] for p in api.pushes] == [["1a0018970a1b2c41"]]
