"""Lists a phone builds its screens from: page size, task and notification filters, my groups."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock, notifications
from tests.test_tasks import HERE, START, north_of


def url(station, path: str) -> str:
    return f"/api/v1/stations/{station.code}{path}"


def post_task(client, station, officer, title: str, **fields) -> dict:
    body = {"title": title, "starts_at": START.isoformat(),
            "ends_at": (START + dt.timedelta(hours=2)).isoformat(),
            "lat": HERE[0], "lon": HERE[1], "capacity": 1, **fields}
    answer = client.post(url(station, "/tasks"), json=body, headers=officer.headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def titles(answer) -> list[str]:
    assert answer.status_code == 200, answer.json
    return [t["title"] for t in answer.json]


def test_a_page_holds_twenty_unless_asked_and_at_most_a_hundred(client, world):
    clock.freeze(START - dt.timedelta(days=1))
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    for n in range(25):
        post_task(client, east, officer, f"task {n:02d}")
    first = client.get(url(east, "/tasks"), headers=officer.headers)
    assert len(first.json) == 20
    assert '"total": 25' in first.headers["X-Pagination"]
    assert len(client.get(url(east, "/tasks?page_size=100"), headers=officer.headers).json) == 25
    too_many = client.get(url(east, "/tasks?page_size=101"), headers=officer.headers)
    assert too_many.status_code == 422 and too_many.json["code"] == "page_size_too_large"


def test_tasks_with_free_places_that_i_can_sign_up_for_near_me(client, world):
    clock.freeze(START - dt.timedelta(days=1))
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("vol", station=east, roles=["volunteer"])
    other = world.person("other", station=east, roles=["volunteer"])
    resident = world.person("resident", station=east, roles=["resident"])
    full = post_task(client, east, officer, "full", waitlist=True)
    client.post(url(east, f"/tasks/{full['id']}/signups"), json={}, headers=other.headers)
    mine = post_task(client, east, officer, "mine", capacity=3)
    client.post(url(east, f"/tasks/{mine['id']}/signups"), json={}, headers=vol.headers)
    far = north_of(HERE, 5000)
    post_task(client, east, officer, "far away", lat=far[0], lon=far[1], capacity=2)
    post_task(client, east, officer, "nowhere", lat=None, lon=None, capacity=2)
    every = ["full", "mine", "far away", "nowhere"]
    assert sorted(titles(client.get(url(east, "/tasks"), headers=vol.headers))) == sorted(every)

    places = client.get(url(east, "/tasks?has_places=true"), headers=vol.headers)
    assert sorted(titles(places)) == ["far away", "mine", "nowhere"]
    # what I can still sign up for: the full one keeps a waitlist; mine is already mine
    open_to_me = client.get(url(east, "/tasks?can_sign_up=true"), headers=vol.headers)
    assert sorted(titles(open_to_me)) == ["far away", "full", "nowhere"]
    both = client.get(url(east, "/tasks?can_sign_up=true&has_places=true"), headers=vol.headers)
    assert sorted(titles(both)) == ["far away", "nowhere"]
    # a resident signs up for nothing through /tasks
    assert titles(client.get(url(east, "/tasks?can_sign_up=true"), headers=resident.headers)) == []

    near = client.get(url(east, f"/tasks?lat={HERE[0]}&lon={HERE[1]}&radius_m=1000"),
                      headers=vol.headers)
    assert sorted(titles(near)) == ["full", "mine"]  # a task without a place is never near
    wider = client.get(url(east, f"/tasks?lat={HERE[0]}&lon={HERE[1]}&radius_m=5100"),
                       headers=vol.headers)
    assert sorted(titles(wider)) == ["far away", "full", "mine"]
    combined = client.get(url(east, f"/tasks?lat={HERE[0]}&lon={HERE[1]}&radius_m=5100"
                                    "&has_places=true&can_sign_up=true"), headers=vol.headers)
    assert titles(combined) == ["far away"]


@pytest.mark.parametrize("query", ["lat=31.2", "lon=121.4", "radius_m=100",
                                   "lat=31.2&lon=121.4&radius_m=50001", "lat=91&lon=0"])
def test_a_half_position_is_refused(client, world, query):
    east = world.station("east")
    vol = world.person("vol", station=east, roles=["volunteer"])
    answer = client.get(url(east, f"/tasks?{query}"), headers=vol.headers)
    assert answer.status_code == 422 and answer.json["code"] == "validation_error"


def test_tasks_filter_by_several_kinds(client, world):
    clock.freeze(START - dt.timedelta(days=1))
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    post_task(client, east, officer, "general one")
    assert titles(client.get(url(east, "/tasks?kind=general&kind=patrol"),
                             headers=officer.headers)) == ["general one"]
    assert titles(client.get(url(east, "/tasks?kind=patrol"), headers=officer.headers)) == []


def test_notifications_filter_by_code_plugin_station_and_since(client, world, session):
    clock.freeze(START)
    east = world.station("east")
    west = world.station("west")
    me = world.person("me", station=east, roles=["volunteer"])
    notifications.notify(session, me.id, "core.task_cancelled", station_id=east.id,
                         task_id=1, title="Night patrol", starts_at=START, reason="")
    session.flush()  # stamped now
    clock.advance(dt.timedelta(minutes=10))
    notifications.notify(session, me.id, "crossing_guard.needs_cover", station_id=west.id,
                         shift_id=4, post="Gate", date="2026-03-03", starts="07:30")
    notifications.notify(session, me.id, "core.waitlist_promoted", station_id=east.id,
                         task_id=2, title="Market day", starts_at=START)
    session.commit()

    def codes(query: str) -> list[str]:
        answer = client.get(f"/api/v1/me/notifications{query}", headers=me.headers)
        assert answer.status_code == 200, answer.json
        return [n["code"] for n in answer.json]

    assert codes("?plugin=crossing_guard") == ["crossing_guard.needs_cover"]
    assert codes("?plugin=core") == ["core.waitlist_promoted", "core.task_cancelled"]
    assert codes("?plugin=patrol") == []
    assert codes("?code=core.task_cancelled&code=core.waitlist_promoted") == [
        "core.waitlist_promoted", "core.task_cancelled"]
    since = (START + dt.timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert codes(f"?since={since}") == ["core.waitlist_promoted", "crossing_guard.needs_cover"]
    assert codes("?station=west") == ["crossing_guard.needs_cover"]
    assert codes(f"?since={since}&station=east&unread=true") == ["core.waitlist_promoted"]


def test_my_groups_across_my_stations(client, world):
    east = world.station("east")
    west = world.station("west")
    admin_east = world.person("admin east", station=east, roles=["admin"])
    admin_west = world.person("admin west", station=west, roles=["admin"])
    me = world.person("me", station=east, roles=["volunteer"], verified=True)
    seated = client.post("/api/v1/stations/west/members", headers=admin_west.headers,
                         json={"phone": me.phone, "roles": ["volunteer"]})
    assert seated.status_code == 201, seated.json
    groups = {}
    for station, admin, kind, name in ((east, admin_east, "patrol_team", "Night team"),
                                       (east, admin_east, "grid", "Cell 3"),
                                       (west, admin_west, "crossing_team", "Gate guards"),
                                       (east, admin_east, "shop", "Not mine")):
        made = client.post(url(station, "/groups"), json={"kind": kind, "name": name},
                           headers=admin.headers)
        assert made.status_code == 201, made.json
        groups[name] = made.json["id"]
        if name != "Not mine":
            put = client.put(url(station, f"/groups/{made.json['id']}/members/{me.id}"),
                             json={"leader": name == "Cell 3"}, headers=admin.headers)
            assert put.status_code in (200, 201), put.json

    mine = client.get("/api/v1/me/groups", headers=me.headers)
    assert mine.status_code == 200
    assert [(g["station"]["code"], g["name"], g["is_leader"]) for g in mine.json] == [
        ("east", "Cell 3", True), ("east", "Night team", False), ("west", "Gate guards", False)]
    assert mine.json[0]["target"] == {"kind": "core.group", "station": "east",
                                      "group_id": groups["Cell 3"]}
    assert mine.json[0]["station"]["timezone"] == "Asia/Shanghai"
    only_west = client.get("/api/v1/me/groups?station=west", headers=me.headers).json
    assert [g["name"] for g in only_west] == ["Gate guards"]
    teams = client.get("/api/v1/me/groups?kind=patrol_team", headers=me.headers).json
    assert [g["name"] for g in teams] == ["Night team"]
    assert client.get("/api/v1/me/groups", headers=admin_west.headers).json == []
