"""A whole patrol through HTTP, completion ratio, who may patrol, patrol tasks."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from core import clock
from core.models import StationPlugin
from plugins.patrol.models import Scan
from tests.plugins.patrol.conftest import T0, teammate

MIN = dt.timedelta(minutes=1)


def walk(scene, patrol_id, indexes, every=3 * MIN, person=None):
    answers = []
    for index in indexes:
        clock.advance(every)
        answers.append(scene.scan(patrol_id, index, person=person))
        assert answers[-1].status_code == 201, answers[-1].json
    return answers


def test_a_full_patrol_with_rotating_codes_is_summarised_and_paid_once(scene):
    patrol = scene.start()
    assert patrol["status"] == "active" and patrol["started_at"] == T0.isoformat()
    answers = walk(scene, patrol["id"], range(5))
    assert [a.status_code for a in answers] == [201] * 5
    assert all(a.json["status"] == "ok" and a.json["flags"] == [] for a in answers)
    assert all(a.json["assurance"] == "rotating" for a in answers)
    assert all(a.json["distance_m"] < 5 for a in answers)

    finished = scene.finish(patrol["id"])
    assert finished.status_code == 200, finished.json
    summary = finished.json["summary"]
    assert finished.json["status"] == "finished" and finished.json["completed"] is True
    assert {k: summary[k] for k in ("checkpoints_total", "ok", "ok_static", "flagged", "missed",
                                    "scans_rejected", "completed", "duration_s", "points")} == {
        "checkpoints_total": 5, "ok": 5, "ok_static": 0, "flagged": 0, "missed": 0,
        "scans_rejected": 0, "completed": True, "duration_s": 15 * 60, "points": 5 * 2 + 10}
    assert summary["distance_m"] == pytest.approx(600, abs=6)  # four legs of 150 m
    assert summary["completion_ratio"] == 1.0 and summary["flag_reasons"] == {}
    entries = scene.points()
    assert sorted(code for code, _, _ in entries) == ["patrol.checkpoint_ok"] * 5 + [
        "patrol.completed"]
    assert sum(amount for _, amount, _ in entries) == 20

    # Finishing again (a retry) answers the same and books nothing more.
    clock.advance(10 * MIN)
    again = scene.finish(patrol["id"])
    assert again.status_code == 200 and again.json["summary"] == summary
    assert again.json["finished_at"] == finished.json["finished_at"]
    assert scene.points() == entries
    # A finished patrol takes no more scans.
    late = scene.scan(patrol["id"], 0)
    assert late.status_code == 409 and late.json["code"] == "patrol_not_active"
    listed = scene.get("/patrols", scene.walker)
    assert listed.status_code == 200 and [p["id"] for p in listed.json] == [patrol["id"]]


def test_the_completion_ratio_decides_the_completion_points(scene):
    four = scene.start()
    walk(scene, four["id"], [0, 1, 2, 3])  # 4 of 5 = the default 80%
    summary = scene.finish(four["id"]).json["summary"]
    assert (summary["ok"], summary["missed"], summary["completed"]) == (4, 1, True)
    assert summary["points"] == 4 * 2 + 10

    other = teammate(scene)
    three = scene.start(other)
    walk(scene, three["id"], [0, 2, 4], every=5 * MIN, person=other)
    summary = scene.finish(three["id"], other).json["summary"]
    assert (summary["ok"], summary["missed"], summary["completed"]) == (3, 2, False)
    assert [code for code, _, _ in scene.points(other)] == ["patrol.checkpoint_ok"] * 3


def test_a_checkpoint_pays_a_person_once_per_period_whatever_the_patrol(scene):
    # T0 is 20:00 in the station's zone: the default 8-hour block runs 16:00-24:00.
    first = scene.start()
    walk(scene, first["id"], range(5))
    assert scene.finish(first["id"]).json["summary"]["points"] == 5 * 2 + 10
    again = scene.start()
    walk(scene, again["id"], range(5))
    summary = scene.finish(again["id"]).json["summary"]
    # Walked in full, so the round's completion pays; the same tags this block pay nothing.
    assert (summary["ok"], summary["completed"], summary["points"]) == (5, True, 10)
    assert sorted(code for code, _, _ in scene.points()) == (
        ["patrol.checkpoint_ok"] * 5 + ["patrol.completed"] * 2)

    clock.freeze(T0 + dt.timedelta(hours=4, minutes=1))  # 00:01 the next day: a new block
    late = scene.start()
    walk(scene, late["id"], [0, 1])
    assert scene.finish(late["id"]).json["summary"]["points"] == 2 * 2
    assert len(scene.points()) == 5 + 2 + 2 + 0


def test_a_station_sets_the_checkpoint_period(scene, session):
    row = session.scalar(sa.select(StationPlugin).where(StationPlugin.station_id == scene.station.id))
    row.settings = {"checkpoint_points_period_hours": 24}
    session.commit()
    first = scene.start()
    walk(scene, first["id"], [0])
    scene.finish(first["id"])
    clock.freeze(T0 + dt.timedelta(hours=3, minutes=30))  # 23:30 local: the same day
    second = scene.start()
    walk(scene, second["id"], [0])
    assert scene.finish(second["id"]).json["summary"]["points"] == 0


def test_station_rules_set_the_amounts_and_the_ratio(scene, session):
    from core.models import PointsRule

    session.add(PointsRule(station_id=scene.station.id, event_code="patrol.completed", amount=50))
    row = session.scalar(sa.select(StationPlugin).where(StationPlugin.station_id == scene.station.id))
    row.settings = {"completion_ratio": 0.5}
    session.commit()
    patrol = scene.start()
    walk(scene, patrol["id"], [0, 1, 2])
    summary = scene.finish(patrol["id"]).json["summary"]
    assert summary["completed"] is True and summary["points"] == 3 * 2 + 50


def test_who_may_patrol(scene, world):
    outsider = world.person("Not on the team", station=scene.station, roles=["volunteer"])
    refused = scene.post("/patrols", outsider, json={"route_id": scene.route_id})
    assert refused.status_code == 403 and refused.json["code"] == "not_on_patrol_team"
    resident = world.person("Resident", station=scene.station, roles=["resident"])
    assert scene.post("/patrols", resident, json={"route_id": scene.route_id}).status_code == 403
    other_station = world.station("west", plugins=("patrol",))
    stranger = world.person("Stranger", station=other_station, roles=["volunteer"])
    hidden = scene.post("/patrols", stranger, json={"route_id": scene.route_id})
    assert hidden.status_code == 404 and hidden.json["code"] == "station_not_found"
    # An officer may walk any route.
    assert scene.post("/patrols", scene.officer, json={"route_id": scene.route_id}).status_code == 201

    # One patrol at a time; another person's patrol is not even visible.
    patrol = scene.start()
    second = scene.post("/patrols", json={"route_id": scene.route_id})
    assert second.status_code == 409 and second.json["details"]["patrol_id"] == patrol["id"]
    mate = teammate(scene)
    assert scene.get(f"/patrols/{patrol['id']}", mate).status_code == 404
    assert scene.post(f"/patrols/{patrol['id']}/scans", mate,
                      json=scene.body(0)).status_code == 404


def test_a_start_resent_with_its_client_id_returns_the_first_patrol(scene):
    client_id = str(uuid.uuid4())
    first = scene.post("/patrols", json={"route_id": scene.route_id, "client_id": client_id})
    again = scene.post("/patrols", json={"route_id": scene.route_id, "client_id": client_id})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]


def test_a_patrol_started_offline_keeps_the_phone_start_time(scene):
    clock.advance(dt.timedelta(minutes=40))
    started = T0 + dt.timedelta(minutes=5)
    patrol = scene.start(started_at=started.isoformat())
    assert patrol["started_at"] == started.isoformat()
    scanned = scene.scan(patrol["id"], 0, started + MIN)
    assert scanned.status_code == 201 and scanned.json["flags"] == []
    too_old = scene.post("/patrols", teammate(scene), json={
        "route_id": scene.route_id, "started_at": (T0 - dt.timedelta(hours=13)).isoformat()})
    assert too_old.status_code == 422 and too_old.json["code"] == "device_time_too_old"


def core(scene, method, path, person=None, **kwargs):
    """The core's task API of the scene's station."""
    return scene.client.open(f"/api/v1/stations/{scene.station.code}{path}", method=method,
                             headers=scene.headers(person or scene.officer), **kwargs)


def patrol_task(scene, starts_at, ends_at, *people, kind="patrol", capacity=2):
    """A scheduled task posted by the officer, the people assigned, through the core's API."""
    made = core(scene, "POST", "/tasks", json={
        "kind": kind, "title": f"{kind} at {starts_at:%H:%M}", "capacity": capacity,
        "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    assert made.status_code == 201, made.json
    for person in people:
        assigned = core(scene, "POST", f"/tasks/{made.json['id']}/signups",
                        json={"user_id": person.id})
        assert assigned.status_code == 201, assigned.json
    return made.json


def test_a_patrol_from_a_scheduled_patrol_task(scene):
    task = patrol_task(scene, T0 + 10 * MIN, T0 + 2 * 60 * MIN, scene.walker)
    general = patrol_task(scene, T0, T0 + 60 * MIN, kind="general")

    no_route = scene.post("/patrols", json={"task_id": task["id"]})
    assert no_route.status_code == 422 and no_route.json["code"] == "task_has_no_route"
    linked = scene.put(f"/routes/{scene.route_id}/tasks/{task['id']}")
    assert linked.status_code == 200 and linked.json == {"route_id": scene.route_id,
                                                         "task_id": task["id"]}
    wrong_kind = scene.put(f"/routes/{scene.route_id}/tasks/{general['id']}")
    assert wrong_kind.status_code == 422 and wrong_kind.json["code"] == "task_not_patrol"

    mate = teammate(scene)
    unassigned = scene.post("/patrols", mate, json={"task_id": task["id"]})
    assert unassigned.status_code == 403 and unassigned.json["code"] == "not_assigned_to_task"
    patrol = scene.post("/patrols", json={"task_id": task["id"]})  # 10 min before: the lead
    assert patrol.status_code == 201, patrol.json
    assert (patrol.json["task_id"], patrol.json["route_id"]) == (task["id"], scene.route_id)
    scene.finish(patrol.json["id"])
    twice = scene.post("/patrols", json={"task_id": task["id"]})
    assert twice.status_code == 409 and twice.json["code"] == "patrol_exists"
    clock.advance(dt.timedelta(hours=3))
    assigned = core(scene, "POST", f"/tasks/{task['id']}/signups", json={"user_id": mate.id})
    assert assigned.status_code == 409 and assigned.json["code"] == "task_ended"


def test_a_scheduled_patrol_walked_in_full_completes_its_assignment_once(scene, deployment):
    from core.jobs import run_due_jobs

    task = patrol_task(scene, T0 + 5 * MIN, T0 + 60 * MIN, scene.walker)
    assert scene.put(f"/routes/{scene.route_id}/tasks/{task['id']}").status_code == 200
    patrol = scene.post("/patrols", json={"task_id": task["id"]}).json
    walk(scene, patrol["id"], range(5))
    mine = core(scene, "GET", "/tasks", scene.walker, query_string={"mine": "true"}).json
    assert [(t["id"], t["my_status"]) for t in mine] == [(task["id"], "checked_in")]
    finished = scene.finish(patrol["id"])
    assert finished.status_code == 200 and finished.json["summary"]["points"] == 5 * 2 + 10

    clock.advance(dt.timedelta(hours=3))  # long past the end and the no-show grace
    run_due_jobs(deployment, clock.now())
    people = core(scene, "GET", f"/tasks/{task['id']}/signups").json
    assert [(p["user_id"], p["status"]) for p in people] == [(scene.walker.id, "completed")]
    checkins = core(scene, "GET", f"/tasks/{task['id']}/checkins").json
    first, last = walk_times = (T0 + 3 * MIN, T0 + 15 * MIN)
    assert [(c["kind"], c["device_time"]) for c in checkins] == [
        ("in", first.isoformat()), ("out", finished.json["finished_at"])], walk_times
    assert last <= dt.datetime.fromisoformat(finished.json["finished_at"])
    # The patrol's own rules paid; the core's completion event booked nothing more for it.
    assert sorted(code for code, _, _ in scene.points()) == (
        ["patrol.checkpoint_ok"] * 5 + ["patrol.completed"])
    dashboard = core(scene, "GET", "/dashboard").json
    assert (dashboard["core"]["completions"], dashboard["core"]["no_shows"]) == (1, 0)
    # Finishing again moves nothing and books nothing.
    assert scene.finish(patrol["id"]).status_code == 200
    assert len(core(scene, "GET", f"/tasks/{task['id']}/checkins").json) == 2


def test_an_officer_finishes_a_forgotten_patrol_and_the_job_closes_stale_ones(scene, deployment):
    from core.jobs import run_due_jobs

    patrol = scene.start()
    walk(scene, patrol["id"], [0, 1, 2, 3, 4])
    mate = teammate(scene)
    forgotten = scene.start(mate)
    clock.advance(dt.timedelta(hours=14))
    run_due_jobs(deployment, clock.now())
    closed = scene.get(f"/patrols/{patrol['id']}").json
    assert closed["status"] == "finished" and closed["auto_finished"] is True
    assert closed["summary"]["ok"] == 5 and closed["completed"] is True
    assert closed["finished_at"] == (T0 + 15 * MIN).isoformat()  # at its last scan
    assert len(scene.points()) == 6
    assert scene.get(f"/patrols/{forgotten['id']}").json["summary"]["missed"] == 5


def test_routes_and_checkpoints_are_managed_by_officers(scene, world):
    volunteer = scene.walker
    refused = scene.post("/routes", volunteer, json={"name": "Mine"})
    assert refused.status_code == 403
    clash = scene.post("/routes", scene.officer, json={"name": "Night round"})
    assert clash.status_code == 409 and clash.json["code"] == "route_name_taken"
    bad_team = scene.post("/routes", scene.officer, json={"name": "X", "team_group_id": scene.grid_ids[0]})
    assert bad_team.status_code == 422 and bad_team.json["code"] == "team_group_invalid"
    added = scene.post(f"/routes/{scene.route_id}/checkpoints", scene.officer, json={
        "name": "Garage", "lat": 30.26, "lon": 120.17, "grid_group_id": scene.team_id})
    assert added.status_code == 422 and added.json["code"] == "grid_group_invalid"
    added = scene.post(f"/routes/{scene.route_id}/checkpoints", scene.officer, json={
        "name": "Garage", "lat": 30.26, "lon": 120.17})
    assert added.status_code == 201 and added.json["sequence"] == 6
    assert "secret" not in added.json
    route = scene.get(f"/routes/{scene.route_id}", volunteer)
    assert [c["name"] for c in route.json["checkpoints"]][-1] == "Garage"
    assert all("secret" not in c for c in route.json["checkpoints"])
    archived = scene.delete(f"/checkpoints/{added.json['id']}")
    assert archived.status_code == 204
    route = scene.get(f"/routes/{scene.route_id}", volunteer)
    assert len(route.json["checkpoints"]) == 5
    assert scene.get(f"/checkpoints/{scene.tags[0].id}/provisioning", volunteer).status_code == 403
    stored = scene.session.scalar(sa.select(sa.func.count()).select_from(Scan))
    assert stored == 0
