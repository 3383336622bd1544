"""Two workers on PostgreSQL drain 500 notifications through FCM: each sent once.

FCM is a local stand-in on 127.0.0.1 (tests/plugins/firebase/google_standins.py), reached by
firebase-admin through the standard HTTPS proxy setting; no request leaves the machine.
"""

from __future__ import annotations

import collections
import threading

import pytest
import sqlalchemy as sa

from core import accounts, devices, notifications
from core.models import Device, Notification, StationPlugin
from tests.fixtures.people import new_phone


@pytest.mark.postgres_only
def test_two_workers_send_each_of_500_notifications_once(live_world, google, monkeypatch):
    deployment = live_world.session.info["deployment"]
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", google.proxy_url)
    monkeypatch.setenv("https_proxy", google.proxy_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", google.ca_file)
    settings = deployment.plugins["firebase"].defaults
    monkeypatch.setitem(settings, "credentials_file", google.service_account_file)
    monkeypatch.setitem(settings, "push", True)
    google.reset()

    session = live_world.session
    station = live_world.station("east")
    session.add(StationPlugin(station_id=station.id, name="firebase", enabled=True))
    people = [accounts.create_user(session, phone=new_phone(), display_name=f"v{n}")
              for n in range(50)]
    session.flush()
    for person in people:
        token = f"fcm-{person.id}"
        session.add(Device(user_id=person.id, token=token, token_hash=devices.token_digest(token),
                           platform="android", locale="en"))
    for n in range(500):
        notifications.notify(session, people[n % 50].id, "core.task_cancelled",
                             station_id=station.id)
    session.commit()

    barrier = threading.Barrier(2)
    delivered: list[int] = []

    def worker(name: str) -> None:
        barrier.wait()
        delivered.append(notifications.deliver_pending(deployment.database.writer, name, batch=50))

    threads = [threading.Thread(target=worker, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(delivered) == 500 and len(delivered) == 2 and min(delivered) > 0
    sent_ids = collections.Counter(s.body["message"]["data"]["notification_id"]
                                   for s in google.fcm_sends())
    assert len(sent_ids) == 500 and set(sent_ids.values()) == {1}
    rows = session.execute(sa.select(Notification.delivery_status, Notification.attempts)).all()
    assert collections.Counter(rows) == {("sent", 1): 500}
