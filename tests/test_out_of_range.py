"""Numbers and dates the database cannot hold are refused cleanly, never a 500."""

from __future__ import annotations

import pytest

HUGE = 2**70


@pytest.fixture
def boss(world, session):
    plugins = tuple(world.client.application.extensions["wardens"].plugins)
    station = world.station("east", plugins=plugins)
    return world.person("boss", station=station, roles=["admin", "officer", "volunteer"])


@pytest.mark.parametrize("method,path,body", [
    ("get", f"/api/v1/stations/east/tasks/{HUGE}", None),
    ("get", f"/api/v1/stations/east/points/balance?user_id={HUGE}", None),
    ("get", f"/api/v1/stations/east/points/entries?user_id={HUGE}", None),
    ("get", f"/api/v1/stations/east/audit?actor_id={HUGE}", None),
    ("get", f"/api/v1/me/notifications?page={HUGE}", None),
    ("post", "/api/v1/stations/east/points/adjustments", {"user_id": HUGE, "amount": 5,
                                                          "reason": "x"}),
    ("get", "/api/v1/stations/east/tasks?since=0001-01-01T00:00:00%2B14:00", None),
    ("get", "/api/v1/stations/east/audit?since=9999-12-31T23:59:59-12:00", None),
    ("post", "/api/v1/stations/east/tasks", {
        "title": "far", "starts_at": "9999-12-31T20:00:00-12:00",
        "ends_at": "9999-12-31T23:59:59-12:00", "capacity": 1}),
])
def test_out_of_range_values_are_4xx(client, boss, method, path, body):
    answer = getattr(client, method)(path, headers=boss.headers, json=body)
    assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.json)
    assert answer.json["code"] in ("value_out_of_range", "not_found", "validation_error",
                                   "task_not_found", "member_not_found")


def test_a_switched_off_plugins_tasks_are_out_of_reach_through_the_core(client, world, session):
    from core import tasks
    from core.models import StationPlugin

    station = world.station("east", plugins=("crossing_guard",))
    officer = world.person("o", station=station, roles=["officer"])
    volunteer = world.person("v", station=station, roles=["volunteer"])
    import datetime as dt

    from core import clock
    start = clock.now() + dt.timedelta(days=1)
    task = tasks.create_task(session, station.id, kind="crossing_shift", title="Shift",
                             starts_at=start, ends_at=start + dt.timedelta(hours=1),
                             capacity=2, created_by=officer.id)
    row = session.query(StationPlugin).filter_by(station_id=station.id).one()
    row.enabled = False
    session.commit()
    signup = client.post(f"/api/v1/stations/east/tasks/{task.id}/signups", json={},
                         headers=volunteer.headers)
    assert signup.status_code == 404 and signup.json["code"] == "plugin_disabled"
