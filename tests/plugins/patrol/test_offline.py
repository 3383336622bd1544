"""Offline batches of scans, and an offline patrol verified by the device's times."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock
from plugins.patrol.models import Scan
from tests.plugins.patrol.conftest import T0

MIN = dt.timedelta(minutes=1)
BACK_AND_FORTH = [0, 1, 2, 3, 4, 3, 2, 1]


def stored_count(scene):
    return scene.session.scalar(sa.select(sa.func.count()).select_from(Scan).where(
        Scan.station_id == scene.station.id))


def test_a_batch_of_50_with_10_already_uploaded_creates_40_then_nothing(scene):
    patrol = scene.start()
    bodies = [scene.body(BACK_AND_FORTH[i % 8], T0 + (i + 1) * MIN) for i in range(50)]
    clock.freeze(T0 + 55 * MIN)
    url = f"/patrols/{patrol['id']}/scans/batch"
    early = scene.post(url, json={"scans": bodies[:10]})
    assert early.status_code == 200 and early.json["created"] == 10

    answer = scene.post(url, json={"scans": bodies})
    assert answer.status_code == 200, answer.json
    assert (answer.json["created"], answer.json["duplicates"], answer.json["rejected"]) == (40, 10, 0)
    results = answer.json["results"]
    assert [r["client_id"] for r in results] == [b["client_id"] for b in bodies]  # input order
    assert [r["result"] for r in results] == ["duplicate"] * 10 + ["created"] * 40
    assert all(r["scan"]["status"] == "ok" for r in results)
    assert stored_count(scene) == 50

    again = scene.post(url, json={"scans": bodies})
    assert (again.json["created"], again.json["duplicates"]) == (0, 50)
    assert stored_count(scene) == 50
    summary = scene.finish(patrol["id"]).json["summary"]
    assert summary["ok"] == 5 and summary["scans_rejected"] == 0


def test_each_item_of_a_batch_gets_its_own_answer(scene):
    patrol = scene.start()
    good = scene.body(0, T0 + MIN)
    wrong = scene.body(1, T0 + 4 * MIN, code="123456")
    mock = scene.body(2, T0 + 7 * MIN, is_mock=True)
    ahead = scene.body(3, T0 + 30 * MIN)
    clock.freeze(T0 + 10 * MIN)
    answer = scene.post(f"/patrols/{patrol['id']}/scans/batch", json={
        "scans": [ahead, mock, wrong, good, good]})
    assert answer.status_code == 200
    results = answer.json["results"]
    assert [(r["result"], r["code"]) for r in results] == [
        ("rejected", "device_time_in_future"), ("created", None), ("rejected", "code_invalid"),
        ("created", None), ("duplicate", None)]
    assert results[1]["scan"]["flags"] == ["mock_location"]
    assert results[2]["message"] and results[2]["scan"] is None
    # Re-sent, a refused item is refused the same way and counted once.
    again = scene.post(f"/patrols/{patrol['id']}/scans/batch", json={"scans": [wrong]})
    assert (again.json["results"][0]["result"], again.json["results"][0]["code"]) == (
        "rejected", "code_invalid")
    assert scene.get(f"/patrols/{patrol['id']}").json["wrong_codes"] == 1


def test_an_offline_patrol_verifies_codes_at_their_device_times(scene):
    patrol = scene.start()
    made = [T0 + (2 + 3 * i) * MIN for i in range(5)]
    bodies = [scene.body(i, at) for i, at in enumerate(made)]
    clock.freeze(T0 + 74 * MIN)  # signal back an hour after the last scan
    answer = scene.post(f"/patrols/{patrol['id']}/scans/batch", json={"scans": bodies})
    assert answer.status_code == 200 and answer.json["created"] == 5
    assert all(r["scan"]["status"] == "ok" and r["scan"]["flags"] == []
               for r in answer.json["results"])

    # The same codes claimed for a device time two steps later no longer verify.
    shifted = [scene.body(i, at + dt.timedelta(seconds=61), code=b["code"])
               for i, (at, b) in enumerate(zip(made, bodies, strict=True))]
    answer = scene.post(f"/patrols/{patrol['id']}/scans/batch", json={"scans": shifted})
    assert [(r["result"], r["code"]) for r in answer.json["results"]] == [
        ("rejected", "code_expired")] * 5
    summary = scene.finish(patrol["id"]).json["summary"]
    assert (summary["ok"], summary["scans_rejected"], summary["completed"]) == (5, 5, True)


def test_a_batch_is_limited_and_a_client_id_belongs_to_one_patrol(scene):
    from tests.plugins.patrol.conftest import teammate

    patrol = scene.start()
    too_many = scene.post(f"/patrols/{patrol['id']}/scans/batch",
                          json={"scans": [scene.body(0)] * 201})
    assert too_many.status_code == 422
    clock.advance(MIN)
    body = scene.body(0)
    assert scene.post(f"/patrols/{patrol['id']}/scans", json=body).status_code == 201
    again = scene.post(f"/patrols/{patrol['id']}/scans", json=body)
    assert again.status_code == 200 and again.json["client_id"] == body["client_id"]
    mate = teammate(scene)
    other = scene.start(mate)
    taken = scene.post(f"/patrols/{other['id']}/scans", mate, json=body)
    assert taken.status_code == 409 and taken.json["code"] == "client_id_taken"
