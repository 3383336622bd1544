"""PostgreSQL: concurrent re-sends, uploads and finishes have one effect each."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
import sqlalchemy as sa

from core import clock
from core.models import PointsEntry
from plugins.patrol.models import Patrol, Scan
from tests.plugins.patrol.conftest import T0, build_scene

MIN = dt.timedelta(minutes=1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def at_once(count, action):
    barrier = threading.Barrier(count)
    answers = [None] * count

    def run(i):
        barrier.wait()
        answers[i] = action(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


@pytest.fixture
def live_scene(app, live_world):
    return build_scene(live_world.client, live_world.session, live_world)


@pytest.mark.postgres_only
def test_one_batch_sent_ten_times_at_once_stores_each_scan_once(app, live_scene):
    scene = live_scene
    patrol = scene.start()
    order = [0, 1, 2, 3, 4, 3, 2, 1]
    bodies = [scene.body(order[i % 8], T0 + (i + 1) * MIN) for i in range(50)]
    clock.freeze(T0 + 55 * MIN)
    headers = scene.headers(scene.walker)
    url = scene.url(f"/patrols/{patrol['id']}/scans/batch")

    def send(_):
        with app.test_client() as client:
            return client.post(url, json={"scans": bodies}, headers=headers)

    answers = at_once(10, send)
    assert [a.status_code for a in answers] == [200] * 10
    assert sum(a.json["created"] for a in answers) == 50
    assert all(a.json["created"] + a.json["duplicates"] == 50 for a in answers)
    stored = scene.session.scalar(sa.select(sa.func.count()).select_from(Scan))
    assert stored == 50


@pytest.mark.postgres_only
def test_six_photos_uploaded_at_once_keep_three(app, live_scene):
    scene = live_scene
    scene.start()
    incident = scene.post("/incidents", json={"category": "hazard"}).json
    headers = scene.headers(scene.walker)
    url = scene.url(f"/incidents/{incident['id']}/photos")

    def upload(i):
        with app.test_client() as client:
            return client.post(url, headers=headers, content_type="multipart/form-data",
                               data={"photo": (io.BytesIO(PNG + bytes([i])), f"{i}.png")})

    answers = at_once(6, upload)
    assert sorted(a.status_code for a in answers) == [201] * 3 + [422] * 3
    assert {a.json["code"] for a in answers if a.status_code == 422} == {"too_many_photos"}


@pytest.mark.postgres_only
def test_ten_finishes_at_once_pay_once(app, live_scene):
    scene = live_scene
    patrol = scene.start()
    for index in range(5):
        clock.advance(3 * MIN)
        assert scene.scan(patrol["id"], index).status_code == 201
    headers = scene.headers(scene.walker)
    url = scene.url(f"/patrols/{patrol['id']}/finish")

    def finish(_):
        with app.test_client() as client:
            return client.post(url, json={}, headers=headers)

    answers = at_once(10, finish)
    assert [a.status_code for a in answers] == [200] * 10
    assert all(a.json["summary"] == answers[0].json["summary"] for a in answers)
    entries = scene.session.scalars(sa.select(PointsEntry.amount)).all()
    assert sorted(entries) == [2] * 5 + [10]


@pytest.mark.postgres_only
def test_eight_starts_at_once_make_one_active_patrol(app, live_scene):
    scene = live_scene
    headers = scene.headers(scene.walker)

    def start(_):
        with app.test_client() as client:
            return client.post(scene.url("/patrols"), json={"route_id": scene.route_id},
                               headers=headers)

    answers = at_once(8, start)
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    won = next(a.json["id"] for a in answers if a.status_code == 201)
    assert {(a.json["code"], a.json["details"]["patrol_id"])
            for a in answers if a.status_code == 409} == {("patrol_already_active", won)}
    active = scene.session.scalars(sa.select(Patrol.id).where(
        Patrol.user_id == scene.walker.id, Patrol.status == "active")).all()
    assert active == [won]

