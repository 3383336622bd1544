"""A patrol gap alert reaches the officer by JPush, by WeChat subscription message and in the
inbox, each channel recorded on its own; a failing channel is retried with backoff while the
others stay delivered; two workers together never pass a provider's limit. JPush and WeChat
are local stand-ins at the machine's edge (see conftest)."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa

from core import accounts, clock, notifications, stations
from core.jobs import run_due_jobs
from core.models import Notification, NotificationDelivery, StationPlugin
from core.models.notifications import DeliveryStatus
from tests.fixtures.people import PASSWORD, World, new_phone
from tests.plugins.patrol.conftest import T0, build_scene
from tests.plugins.patrol.test_coverage import patrol_at

MIN = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def channels_of(session, notification_id):
    session.expire_all()
    return {d.channel: d for d in session.scalars(sa.select(NotificationDelivery).where(
        NotificationDelivery.notification_id == notification_id))}


def test_a_gap_alert_reaches_the_officer_by_every_channel_each_recorded_on_its_own(
        china, jpush_api, china_wechat):
    _, jpush = jpush_api
    _, wechat = china_wechat
    deployment = china.extensions["wardens"]
    client = china.test_client()
    with deployment.database.writer() as session:
        scene = build_scene(client, session, World(session, client))
        for name in ("push_jpush", "wechat"):
            session.add(StationPlugin(station_id=scene.station.id, name=name, enabled=True))
        # The officer signed in from the mini-program once (its openid is linked) and from the
        # app, which registered its JPush id.
        accounts.link_identity(session, scene.officer.user, "wechat", "openid-officer")
        session.commit()
        officer = scene.officer.headers
        assert client.post("/api/v1/me/devices", headers=officer, json={
            "token": "1a0018970a1b2c50", "platform": "android", "service": "jpush",
            "locale": "zh-CN"}).status_code == 201
        assert client.post("/api/v1/stations/east/wechat/subscriptions", headers=officer,
                           json={"results": {"tpl-gap-0001": "accept"}}).status_code == 200

        patrol_at(scene, [(0, 1), (1, 4), (2, 7), (3, 10)])  # grid 3 is never visited
        run_due_jobs(deployment, T0 + 4 * HOUR + 2 * MIN)
        clock.freeze(T0 + 4 * HOUR + 3 * MIN)
        notifications.deliver_pending(deployment.database.writer, "w1")
        (alert,) = session.scalars(sa.select(Notification).where(
            Notification.code == "patrol.coverage_gap",
            Notification.user_id == scene.officer.id)).all()
        found = channels_of(session, alert.id)
        assert {c: d.status for c, d in found.items()} == {
            "inbox": DeliveryStatus.SENT, "push_jpush": DeliveryStatus.SENT,
            "wechat": DeliveryStatus.SENT}
        (push,) = jpush.pushes
        assert push["audience"] == {"registration_id": ["1a0018970a1b2c50"]}
        assert "Grid 3" in push["notification"]["android"]["alert"]
        (message,) = wechat.sends
        assert message["touser"] == "openid-officer"
        assert message["data"]["thing1"] == {"value": "Grid 3"}
        again = World(session, client).sign_in(scene.officer.user, scene.officer.phone)
        listed = client.get("/api/v1/me/notifications", headers=again.headers).json
        assert isinstance(listed, list), listed
        assert any(n["code"] == "patrol.coverage_gap" for n in listed)  # and in the inbox

        # JPush fails for the next alerts: it alone is retried with backoff.
        jpush.failing = True
        run_due_jobs(deployment, T0 + 4 * HOUR + 12 * MIN)
        clock.freeze(T0 + 4 * HOUR + 13 * MIN)
        notifications.deliver_pending(deployment.database.writer, "w1")
        later = session.scalars(sa.select(Notification).where(
            Notification.code == "patrol.coverage_gap", Notification.user_id == scene.officer.id,
            Notification.id != alert.id)).all()
        assert len(later) == 2
        for note in later:
            found = channels_of(session, note.id)
            assert found["wechat"].status == DeliveryStatus.SENT
            assert found["inbox"].status == DeliveryStatus.SENT
            assert found["push_jpush"].status == DeliveryStatus.PENDING
            assert found["push_jpush"].next_attempt_at == clock.now() + notifications.backoff(1)
            assert "1000" in found["push_jpush"].last_error
        assert len(wechat.sends) == 3
        jpush.failing = False
        clock.advance(notifications.backoff(1))
        notifications.deliver_pending(deployment.database.writer, "w1")
        for note in later:
            found = channels_of(session, note.id)
            assert found["push_jpush"].status == DeliveryStatus.SENT
            assert found["push_jpush"].attempts == 2 and found["wechat"].attempts == 1
        assert len(wechat.sends) == 3  # the delivered channel was not asked again
        assert len(jpush.pushes) == 3


def test_two_workers_together_never_pass_the_push_limit(committed, china_app, through_proxy,
                                                        jpush_api, monkeypatch):
    _, jpush = jpush_api
    deployment = china_app.extensions["wardens"]
    monkeypatch.setitem(deployment.plugins["push_jpush"].defaults, "pushes_per_minute", 7)
    noon = dt.datetime(2026, 3, 2, 12, 0, 30, tzinfo=dt.UTC)
    clock.freeze(noon)
    client = china_app.test_client()
    phone = new_phone()
    with deployment.database.writer() as session:
        root = accounts.create_user(session, phone=new_phone(), display_name="root",
                                    password=PASSWORD, is_superuser=True)
        station, _ = stations.create_station(session, root, code="east", name="East",
                                             admin_phone=new_phone())
        session.add(StationPlugin(station_id=station.id, name="push_jpush", enabled=True))
        user = accounts.create_user(session, phone=phone, display_name="Li", password=PASSWORD)
        session.commit()
        user_id, station_id = user.id, station.id
    token = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": phone, "password": PASSWORD}).json["access_token"]
    assert client.post("/api/v1/me/devices", headers={"Authorization": f"Bearer {token}"},
                       json={"token": "1a0018970a1b2c60", "platform": "ios",
                             "service": "jpush"}).status_code == 201
    with deployment.database.writer() as session:
        for i in range(20):
            notifications.notify(session, user_id, "core.task_cancelled", station_id=station_id,
                                 title=f"t{i}")
        session.commit()

    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        try:
            barrier.wait()
            notifications.deliver_pending(deployment.database.writer, name, batch=3)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(jpush.pushes) == 7  # the minute's budget, shared by both workers
    with deployment.database.writer() as session:
        statuses = session.scalars(sa.select(NotificationDelivery.status).where(
            NotificationDelivery.channel == "push_jpush")).all()
        waits = set(session.scalars(sa.select(NotificationDelivery.next_attempt_at).where(
            NotificationDelivery.status == DeliveryStatus.PENDING)))
    assert sorted(statuses).count(DeliveryStatus.SENT) == 7
    assert statuses.count(DeliveryStatus.PENDING) == 13
    assert waits == {dt.datetime(2026, 3, 2, 12, 1, tzinfo=dt.UTC)}  # when the window ends
