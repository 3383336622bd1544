"""Positions over HTTP: the datum a phone sends (crs), stored WGS-84, given back in the one asked."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock, datum
from core.geofence import distance_m
from core.models import Checkin
from tests.test_tasks import START, checkin_body, url
from tests.test_tasks import task_body as any_task_body

TASK = (30.27415, 120.15515)  # WGS-84, a street corner in Hangzhou
METRES_PER_DEGREE_LAT = 111_195.0
PHONE = (TASK[0] + 14 / METRES_PER_DEGREE_LAT, TASK[1])  # where the volunteer stands: 14 m north


def task_body(**fields):
    return any_task_body(**{"lat": TASK[0], "lon": TASK[1], "radius_m": 50, "capacity": 5,
                            **fields})


@pytest.fixture
def east(world):
    return world.station("east")


@pytest.fixture
def duty(client, world, east):
    """An officer's task at TASK and a volunteer signed up, five minutes before it starts."""
    clock.freeze(START - dt.timedelta(minutes=5))
    officer = world.person("officer", station=east, roles=["officer", "admin"])
    task = client.post(url(east, "/tasks"), json=task_body(), headers=officer.headers).json

    def volunteer(name):
        person = world.person(name, station=east, roles=["volunteer"])
        client.post(url(east, f"/tasks/{task['id']}/signups"), json={}, headers=person.headers)
        return person

    return officer, task, volunteer


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_a_phone_14_m_away_in_its_map_datum_passes_the_fence(client, session, east, duty, crs):
    """A map SDK's position said to be GCJ-02 (or BD-09) is moved to WGS-84 before the fence is
    judged; the same numbers sent as WGS-84 are hundreds of metres off and refused."""
    _officer, task, volunteer = duty
    vol = volunteer("v")
    reported = datum.from_wgs84(crs, *PHONE)  # what AMap / Baidu show the phone
    checkins = url(east, f"/tasks/{task['id']}/checkins")

    taken_as_wgs = client.post(checkins, json=checkin_body(at=reported), headers=vol.headers)
    assert taken_as_wgs.status_code == 422 and taken_as_wgs.json["code"] == "outside_geofence"
    assert taken_as_wgs.json["details"]["distance_m"] > 400
    said = client.post(checkins, json=checkin_body(at=reported, crs="wgs84"), headers=vol.headers)
    assert said.status_code == 422 and said.json["code"] == "outside_geofence"

    inside = client.post(checkins, json=checkin_body(at=reported, crs=crs), headers=vol.headers)
    assert inside.status_code == 201, inside.json
    assert inside.json["distance_m"] == pytest.approx(14, abs=1)
    assert inside.json["crs"] == "wgs84"  # answers are WGS-84 and say so
    assert distance_m(inside.json["lat"], inside.json["lon"], *PHONE) < 1
    stored = session.get(Checkin, inside.json["id"])
    assert distance_m(stored.lat, stored.lon, *PHONE) < 1


def test_a_station_default_datum_applies_when_a_request_does_not_say(client, east, duty):
    officer, task, volunteer = duty
    vol = volunteer("v")
    reported = datum.from_wgs84("gcj02", *PHONE)
    refused = client.patch(url(east), json={"default_crs": "gcj02"}, headers=vol.headers)
    assert refused.status_code == 403
    changed = client.patch(url(east), json={"default_crs": "gcj02"}, headers=officer.headers)
    assert changed.status_code == 200 and changed.json["default_crs"] == "gcj02"
    assert client.get(url(east), headers=vol.headers).json["default_crs"] == "gcj02"

    checkins = url(east, f"/tasks/{task['id']}/checkins")
    inside = client.post(checkins, json=checkin_body(at=reported), headers=vol.headers)
    assert inside.status_code == 201, inside.json
    assert inside.json["distance_m"] == pytest.approx(14, abs=1)
    # a phone that says WGS-84 is still taken at its word
    other = volunteer("w")
    exact = client.post(checkins, json=checkin_body(at=PHONE, crs="wgs84"), headers=other.headers)
    assert exact.status_code == 201 and exact.json["distance_m"] == pytest.approx(14, abs=1)


def test_an_unknown_datum_is_a_422_with_its_own_code(client, east, duty):
    officer, task, volunteer = duty
    vol = volunteer("v")
    checkin = client.post(url(east, f"/tasks/{task['id']}/checkins"),
                          json=checkin_body(at=PHONE, crs="mars"), headers=vol.headers)
    assert checkin.status_code == 422 and checkin.json["code"] == "crs_unknown"
    assert checkin.json["details"]["allowed"] == ["wgs84", "gcj02", "bd09"]
    asked = client.get(url(east, f"/tasks/{task['id']}?crs=WGS84"), headers=vol.headers)
    assert asked.status_code == 422 and asked.json["code"] == "crs_unknown"
    station = client.patch(url(east), json={"default_crs": "utm"}, headers=officer.headers)
    assert station.status_code == 422 and station.json["code"] == "crs_unknown"


def test_positions_go_out_in_wgs84_unless_a_get_asks_for_another(client, east, duty):
    officer, task, volunteer = duty
    vol = volunteer("v")
    one = url(east, f"/tasks/{task['id']}")
    plain = client.get(one, headers=vol.headers).json
    assert (plain["lat"], plain["lon"], plain["crs"]) == (TASK[0], TASK[1], "wgs84")
    for crs in ("gcj02", "bd09"):
        moved = client.get(f"{one}?crs={crs}", headers=vol.headers).json
        assert moved["crs"] == crs
        assert (moved["lat"], moved["lon"]) == pytest.approx(datum.from_wgs84(crs, *TASK))
        listed = client.get(url(east, f"/tasks?crs={crs}"), headers=vol.headers).json
        assert [(t["lat"], t["lon"], t["crs"]) for t in listed] == [
            (moved["lat"], moved["lon"], crs)]
    mine = client.get("/api/v1/me/assignments?crs=gcj02", headers=vol.headers).json
    assert mine[0]["task"]["crs"] == "gcj02"
    assert (mine[0]["task"]["lat"], mine[0]["task"]["lon"]) == pytest.approx(
        datum.from_wgs84("gcj02", *TASK))
    # a write answers WGS-84 whatever the query says
    changed = client.patch(f"{one}?crs=gcj02", json={"title": "Gate duty (east)"},
                           headers=officer.headers).json
    assert (changed["lat"], changed["crs"]) == (TASK[0], "wgs84")


def test_a_near_filter_takes_its_point_in_the_datum_it_says(client, east, duty):
    """?lat=&lon= in GCJ-02 with ?crs=gcj02 finds the task there (and answers in GCJ-02); the
    same point read as WGS-84 is 500 m off and finds nothing within 100 m."""
    _officer, task, volunteer = duty
    vol = volunteer("v")
    pin = datum.from_wgs84("gcj02", *TASK)
    near = url(east, f"/tasks?lat={pin[0]}&lon={pin[1]}&radius_m=100")
    found = client.get(f"{near}&crs=gcj02", headers=vol.headers)
    assert found.status_code == 200, found.json
    assert [(t["id"], t["crs"]) for t in found.json] == [(task["id"], "gcj02")]
    assert client.get(near, headers=vol.headers).json == []
    wrong = client.get(f"{near}&crs=gps", headers=vol.headers)
    assert wrong.status_code == 422 and wrong.json["code"] == "crs_unknown"


def test_places_made_by_officers_are_stored_in_wgs84(client, east, duty):
    """A task placed from an AMap pin lands on the WGS-84 spot; moving half a position in
    another datum cannot be converted and is refused."""
    officer, _task, _volunteer = duty
    pin = datum.from_wgs84("gcj02", *TASK)
    made = client.post(url(east, "/tasks"), json=task_body(lat=pin[0], lon=pin[1], crs="gcj02"),
                       headers=officer.headers)
    assert made.status_code == 201 and made.json["crs"] == "wgs84"
    assert distance_m(made.json["lat"], made.json["lon"], *TASK) < 1
    half = client.patch(url(east, f"/tasks/{made.json['id']}"),
                        json={"lat": pin[0], "crs": "gcj02"}, headers=officer.headers)
    assert half.status_code == 422 and half.json["code"] == "position_incomplete"
    group = client.post(url(east, "/groups"), headers=officer.headers, json={
        "kind": "grid", "name": "Cell 1", "crs": "bd09",
        "polygon": [list(datum.from_wgs84("bd09", *TASK)),
                    list(datum.from_wgs84("bd09", TASK[0] + 0.001, TASK[1]))]})
    assert group.status_code == 201, group.json
    assert distance_m(*group.json["polygon"][0], *TASK) < 1
    seen = client.get(url(east, f"/groups/{group.json['id']}?crs=bd09"), headers=officer.headers)
    assert distance_m(*seen.json["polygon"][0], *datum.from_wgs84("bd09", *TASK)) < 1


def test_every_get_that_answers_positions_takes_crs(app):
    """The document lists ?crs= (and its 422) on each GET whose answer holds lat/lon."""
    with app.test_request_context():
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    schemas = spec["components"]["schemas"]

    def positioned(node, seen=()):
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                return name not in seen and positioned(schemas[name], (*seen, name))
            if "lat" in node.get("properties", {}):
                return True
            return any(positioned(v, seen) for v in node.values())
        if isinstance(node, list):
            return any(positioned(v, seen) for v in node)
        return False

    missing = []
    for path, item in spec["paths"].items():
        op = item.get("get")
        if not op:
            continue
        answer = op["responses"].get("200", {}).get("content", {}).get("application/json")
        if answer and positioned(answer["schema"]):
            names = {p.get("name") for p in op.get("parameters", [])}
            if "crs" not in names or "crs_unknown" not in op["x-error-codes"]["422"]:
                missing.append(path)
    assert missing == []
    assert schemas["Station"]["properties"]["default_crs"]["enum"] == list(datum.CRS)


def test_every_schema_holding_a_position_converts_it(app):
    """A plugin schema with a raw ``lat``/``lon`` would take a GCJ-02 pin as GPS, ~500 m off:
    every API schema of the running app that holds one is Positioned and lists the pair (the
    station file's are WGS-84 by its own rule, docs/station-file.md)."""
    from marshmallow import class_registry

    from api.positions import Positioned

    offenders = []
    for name, classes in class_registry._registry.items():
        for cls in classes if "." not in name else ():
            found = {key for key in cls._declared_fields
                     if key in ("lat", "lon") or key.endswith(("_lat", "_lon"))}
            if not found or "station_file" in cls.__module__:
                continue
            listed = ({key for pair in cls.POSITIONS for key in pair}
                      if issubclass(cls, Positioned) else set())
            if found - listed:
                offenders.append(f"{cls.__module__}.{cls.__name__}: {sorted(found - listed)}")
    assert not offenders, offenders
