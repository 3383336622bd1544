"""One shape across plugins: sign-up, withdrawal, waitlist and check-in answer alike in the core
and in crossing; the first release's paths and field names stay one release, deprecated."""

from __future__ import annotations

import calendar
import datetime as dt
import uuid

import marshmallow as ma
import pytest
from flask import g

from api.fields import renamed
from api.smorest import RENAMED_ON, Schema
from core import clock
from tests.plugins.crossing_guard.conftest import FROZEN, build

POST = (35.0, 116.0)
DEPRECATION = f"@{calendar.timegm(RENAMED_ON.timetuple())}"
ASSIGNMENT_KEYS = {"id", "task_id", "user_id", "status", "assigned_by", "waitlist_position",
                   "created_at", "updated_at", "checked_in_at", "checked_out_at"}


def tomorrow_shift(world, max_guards=1):
    clock.freeze(FROZEN)  # Friday 10:00 in Shanghai
    crossing = build(world)
    made = crossing.school(posts=[{"name": "North gate", "min_guards": 1,
                                   "max_guards": max_guards}],
                           templates=[{"name": "Saturday", "weekdays": [6],
                                       "starts_time": "07:10", "ends_time": "07:50"}],
                           term=("2026-02-16", "2026-03-31"))
    crossing.generate(made["term"])
    return crossing, next(s for s in crossing.shifts() if s["date"] == "2026-02-21")


def checkin(kind="in", client_id=None):
    return {"kind": kind, "lat": POST[0], "lon": POST[1], "accuracy_m": 8,
            "device_time": clock.now().isoformat(), "client_id": client_id or str(uuid.uuid4())}


def test_sign_up_and_waitlist_answer_alike_in_the_core_and_in_crossing(world):
    crossing, shift = tomorrow_shift(world)
    first, second, third = (crossing.guard(n) for n in ("Guard A", "Guard B", "Guard C"))
    took = crossing.post(f"/shifts/{shift['id']}/signups", first)
    assert took.status_code == 201 and "Deprecation" not in took.headers
    assert set(took.json) == ASSIGNMENT_KEYS | {"shift_id"}
    assert (took.json["status"], took.json["shift_id"], took.json["task_id"]) == (
        "signed_up", shift["id"], shift["task_id"])
    # Full: waitlist true (the default) queues, false refuses, as on /tasks
    refused = crossing.post(f"/shifts/{shift['id']}/signups", second, {"waitlist": False})
    assert refused.status_code == 409 and refused.json["code"] == "task_full"
    queued = crossing.post(f"/shifts/{shift['id']}/signups", second)
    assert (queued.json["status"], queued.json["waitlist_position"]) == ("waitlisted", 1)

    base = f"/api/v1/stations/{crossing.code}"
    task = world.client.post(f"{base}/tasks", headers=crossing.officer.headers, json={
        "title": "Market day", "capacity": 1, "waitlist": True,
        "starts_at": (FROZEN + dt.timedelta(days=1)).isoformat(),
        "ends_at": (FROZEN + dt.timedelta(days=1, hours=2)).isoformat()}).json
    core_took = world.client.post(f"{base}/tasks/{task['id']}/signups", json={},
                                  headers=first.headers)
    assert set(core_took.json) == ASSIGNMENT_KEYS
    core_refused = world.client.post(f"{base}/tasks/{task['id']}/signups",
                                     json={"waitlist": False}, headers=third.headers)
    assert core_refused.status_code == 409 and core_refused.json["code"] == "task_full"
    core_queued = world.client.post(f"{base}/tasks/{task['id']}/signups", json={},
                                    headers=third.headers).json
    assert (core_queued["status"], core_queued["waitlist_position"]) == ("waitlisted", 1)

    # Withdrawal: .../signups/me on both; my place goes to the first in line
    left = crossing.call("DELETE", f"/shifts/{shift['id']}/signups/me", first)
    assert left.status_code == 204
    core_left = world.client.delete(f"{base}/tasks/{task['id']}/signups/me",
                                    headers=first.headers)
    assert core_left.status_code == 204
    mine = {a["task"]["id"]: a["status"] for a in world.client.get(
        "/api/v1/me/assignments", headers=second.headers).json}
    assert mine[shift["task_id"]] == "signed_up"


def test_a_shift_checks_in_alike_through_the_core_and_through_crossing(world):
    crossing, shift = tomorrow_shift(world, max_guards=2)
    guard = crossing.guard("Guard A")
    crossing.post(f"/shifts/{shift['id']}/signups", guard)
    clock.freeze(dt.datetime(2026, 2, 20, 23, 5, tzinfo=dt.UTC))  # Saturday 07:05, local
    crossing.refresh()
    came = world.client.post(f"/api/v1/stations/east/tasks/{shift['task_id']}/checkins",
                             json=checkin("in"), headers=guard.headers)
    assert came.status_code == 201, came.json
    clock.freeze(dt.datetime(2026, 2, 20, 23, 51, tzinfo=dt.UTC))
    crossing.refresh()
    body = checkin("out")
    went = crossing.post(f"/shifts/{shift['id']}/checkins", guard, body)
    assert went.status_code == 201, went.json
    assert set(went.json) == set(came.json)  # one answer, wherever the shift checks in
    assert (came.json["status"], came.json["points"]) == ("checked_in", 0)
    assert (went.json["status"], went.json["points"]) == ("completed", 5)
    # the first release's names still carry the same values, for one release
    assert (went.json["assignment_status"], went.json["points_awarded"]) == ("completed", 5)
    again = crossing.post(f"/shifts/{shift['id']}/checkins", guard, body)
    assert again.status_code == 200 and again.json["duplicate"] is True
    assert again.json["id"] == went.json["id"]


def test_the_old_paths_still_work_marked_deprecated(world, client):
    crossing, shift = tomorrow_shift(world, max_guards=2)
    guard = crossing.guard("Guard A")
    old = crossing.post(f"/shifts/{shift['id']}/signup", guard)
    assert old.status_code == 201 and old.json["status"] == "signed_up"
    assert old.headers["Deprecation"] == DEPRECATION
    assert old.headers["Link"] == (f'</api/v1/stations/east/crossing-guard/shifts/{shift["id"]}'
                                   '/signups>; rel="successor-version"')
    released = crossing.post(f"/shifts/{shift['id']}/release", crossing.leader,
                             {"user_id": guard.id})
    assert released.status_code == 200 and released.json["status"] == "withdrawn"
    assert released.headers["Deprecation"] == DEPRECATION
    crossing.post(f"/shifts/{shift['id']}/signups", guard)
    left = crossing.call("DELETE", f"/shifts/{shift['id']}/signup", guard)
    assert left.status_code == 204 and left.headers["Deprecation"] == DEPRECATION

    document = client.get("/api/openapi.json").json
    paths = document["paths"]
    base = "/api/v1/stations/{station}/crossing-guard/shifts/{shift_id}"
    signup = paths[f"{base}/signup"]["post"]
    assert signup["deprecated"] is True and signup["x-successor"] == "crossing_signups_create"
    assert signup["responses"]["201"]["headers"]["Deprecation"]
    assert "deprecated" not in paths[f"{base}/signups"]["post"]
    fields = document["components"]["schemas"]["CheckinResult"]["properties"]
    assert fields["assignment_status"]["deprecated"] is True
    assert fields["assignment_status"]["x-renamed-to"] == "status"
    assert "deprecated" not in fields["status"]
    listed = {d["operation"]: d["successor"] for d in client.get("/api/v1/meta").json["deprecated"]}
    assert listed == {"crossing_shifts_signup": "crossing_signups_create",
                      "crossing_shifts_withdraw": "crossing_signups_delete_mine",
                      "crossing_shifts_release": "crossing_signups_delete"}


class _Renamed(Schema):
    radius_m = ma.fields.Integer()
    radius = renamed(ma.fields.Integer(), to="radius_m")


def test_an_old_field_name_loads_into_the_new_one_and_marks_the_answer(app):
    with app.test_request_context("/api/v1/meta"):
        assert _Renamed().load({"radius_m": 5}) == {"radius_m": 5}
        assert "wardens_deprecated_since" not in g
        assert _Renamed().load({"radius": 5}) == {"radius_m": 5}
        assert g.wardens_deprecated_since == RENAMED_ON
        with pytest.raises(ma.ValidationError, match="radius_m"):
            _Renamed().load({"radius": 5, "radius_m": 6})
