"""GET /api/v1/me/today: a phone's home screen in one call, across plugins, in the station's zone."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from core import clock
from core.models import StationPlugin
from plugins.crossing_guard.models import Shift
from tests.plugins.crossing_guard.conftest import FROZEN, build

POST = (35.0, 116.0)  # where the crossing school's gate is (see the crossing conftest)


def scene(world):
    """A guard with a shift tomorrow morning, a patrol under way and an unread notice."""
    clock.freeze(FROZEN)  # Friday 10:00 in Shanghai
    crossing = build(world)
    for name in ("patrol", "anti_fraud"):
        world.session.add(StationPlugin(station_id=crossing.station.id, name=name, enabled=True))
    world.session.commit()
    admin = world.person("Admin Wu", station=crossing.station, roles=["admin"])
    guard = crossing.guard("Volunteer Wang")
    made = crossing.school(templates=[{"name": "Saturday", "weekdays": [6],
                                       "starts_time": "07:10", "ends_time": "07:50"}],
                           term=("2026-02-16", "2026-03-31"))
    crossing.generate(made["term"])
    tomorrow = next(s for s in crossing.shifts(guard) if s["date"] == "2026-02-21")
    signed = crossing.post(f"/shifts/{tomorrow['id']}/signups", guard)
    assert signed.status_code == 201, signed.json
    base = f"/api/v1/stations/{crossing.code}"
    route = world.client.post(f"{base}/patrol/routes", headers=crossing.officer.headers, json={
        "name": "Night round", "checkpoints": [{"name": "Gate", "lat": POST[0], "lon": POST[1]}]})
    assert route.status_code == 201, route.json
    patrol = world.client.post(f"{base}/patrol/patrols", headers=guard.headers,
                               json={"route_id": route.json["id"]})
    assert patrol.status_code == 201, patrol.json
    task = world.client.post(f"{base}/tasks", headers=crossing.officer.headers, json={
        "title": "Market day", "starts_at": (FROZEN + dt.timedelta(days=2)).isoformat(),
        "ends_at": (FROZEN + dt.timedelta(days=2, hours=3)).isoformat(), "capacity": 2})
    assigned = world.client.post(f"{base}/tasks/{task.json['id']}/signups",
                                 headers=crossing.officer.headers, json={"user_id": guard.id})
    assert assigned.status_code == 201, assigned.json  # the guard is told: one unread notice
    return crossing, admin, guard, tomorrow, patrol.json, task.json


def test_today_shows_the_patrol_the_shift_and_the_notice_in_the_stations_zone(world):
    crossing, _admin, guard, shift, patrol, task = scene(world)
    answer = world.client.get("/api/v1/me/today", headers=guard.headers)
    assert answer.status_code == 200, answer.json
    today = answer.json
    assert today["unread_notifications"] == 1
    assert today["stations"] == [{"code": "east", "name": "east station",
                                  "timezone": "Asia/Shanghai"}]
    cards = {card["kind"]: card for card in today["cards"]}
    # under way first (by time: the patrol began this morning), then by time
    assert list(cards) == ["patrol.patrol", "core.notifications", "crossing_guard.shift",
                           "core.task"]

    walking = cards["patrol.patrol"]
    assert walking["now"] is True and walking["title"] == "Night round"
    assert walking["target"] == {"kind": "patrol.patrol", "station": "east",
                                 "patrol_id": patrol["id"], "route_id": patrol["route_id"]}
    assert walking["starts_at"] == "2026-02-20T10:00:00+08:00"

    guarding = cards["crossing_guard.shift"]
    assert guarding["now"] is False and guarding["status"] == "signed_up"
    assert guarding["starts_at"] == "2026-02-21T07:10:00+08:00"  # tomorrow morning, local
    assert guarding["ends_at"] == "2026-02-21T07:50:00+08:00"
    assert guarding["station"]["timezone"] == "Asia/Shanghai"
    assert guarding["target"] == {"kind": "crossing_guard.shift", "station": "east",
                                  "shift_id": shift["id"], "task_id": shift["task_id"]}

    inbox = cards["core.notifications"]
    assert inbox["target"] == {"kind": "core.notifications"} and inbox["station"] is None
    assert inbox["title"] == "1 条未读消息" and inbox["details"] == {"unread": 1}
    english = world.client.get("/api/v1/me/today",
                               headers={**guard.headers, "Accept-Language": "en"}).json
    assert [c["title"] for c in english["cards"]
            if c["kind"] == "core.notifications"] == ["1 unread notifications"]

    assert cards["core.task"]["target"] == {"kind": "core.task", "station": "east",
                                            "task_id": task["id"]}
    assert cards["core.task"]["starts_at"] == "2026-02-22T10:00:00+08:00"


def test_a_plugin_switched_off_adds_no_card(world):
    crossing, admin, guard, *_ = scene(world)
    off = world.client.put("/api/v1/stations/east/plugins/patrol", headers=admin.headers,
                           json={"enabled": False})
    assert off.status_code == 200, off.json
    kinds = [c["kind"] for c in world.client.get("/api/v1/me/today", headers=guard.headers)
             .json["cards"]]
    assert "patrol.patrol" not in kinds and "crossing_guard.shift" in kinds
    off = world.client.put("/api/v1/stations/east/plugins/crossing_guard", headers=admin.headers,
                           json={"enabled": False})
    kinds = [c["kind"] for c in world.client.get("/api/v1/me/today", headers=guard.headers)
             .json["cards"]]
    assert kinds == ["core.notifications", "core.task"]


def test_only_my_stations_and_one_when_asked(world):
    crossing, _admin, guard, *_ = scene(world)
    west = world.station("west")
    stranger = world.person("stranger", station=west, roles=["volunteer"])
    assert world.client.get("/api/v1/me/today", headers=stranger.headers).json["cards"] == []
    only_west = world.client.get("/api/v1/me/today?station=west", headers=guard.headers).json
    assert only_west == {**only_west, "stations": [], "cards": [], "unread_notifications": 0}


def test_my_assignments_give_the_shift_id_that_the_check_in_takes(world):
    crossing, _admin, guard, shift, *_ = scene(world)
    mine = world.client.get("/api/v1/me/assignments", headers=guard.headers).json
    by_kind = {a["task"]["kind"]: a["target"] for a in mine}
    target = by_kind["crossing_shift"]
    assert target == {"kind": "crossing_guard.shift", "station": "east",
                      "shift_id": shift["id"], "task_id": shift["task_id"]}
    assert world.session.scalar(sa.select(Shift.task_id).where(
        Shift.id == target["shift_id"])) == shift["task_id"]
    assert by_kind["general"]["kind"] == "core.task"
    # Saturday 07:05 in Shanghai: the guard checks in with the target's shift id
    clock.freeze(dt.datetime(2026, 2, 20, 23, 5, tzinfo=dt.UTC))
    crossing.refresh()
    checked = crossing.post(f"/shifts/{target['shift_id']}/checkins", guard, {
        "kind": "in", "lat": POST[0], "lon": POST[1], "accuracy_m": 8,
        "device_time": clock.now().isoformat(), "client_id": str(uuid.uuid4())})
    assert checked.status_code == 201, checked.json
    now_card = next(c for c in world.client.get("/api/v1/me/today", headers=guard.headers)
                    .json["cards"] if c["kind"] == "crossing_guard.shift")
    assert now_card["now"] is True and now_card["status"] == "checked_in"
