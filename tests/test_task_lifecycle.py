"""One task lifecycle across the core and the plugins: lists, hooks, no-shows, policies, points."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from api import create_app
from core import clock, ledger
from core.db import Database
from core.models import AuditEvent, PointsEntry
from core.plugins import Deployment, DeploymentConfig
from tests.fixtures.app import TEST_CONFIG
from tests.fixtures.plugins import _bound, write_distribution

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def url(station: Any, path: str) -> str:
    return f"/api/v1/stations/{station.code}{path}"


def post_task(client: FlaskClient, station: Any, officer: Any, **body: Any) -> dict[str, Any]:
    body = {"title": "Evening round", "starts_at": (NOON + HOUR).isoformat(),
            "ends_at": (NOON + 2 * HOUR).isoformat(), **body}
    made = client.post(url(station, "/tasks"), json=body, headers=officer.headers)
    assert made.status_code == 201, made.json
    return made.json


def assign(client: FlaskClient, station: Any, officer: Any, task: dict[str, Any],
           person: Any) -> None:
    answer = client.post(url(station, f"/tasks/{task['id']}/signups"),
                         json={"user_id": person.id}, headers=officer.headers)
    assert answer.status_code == 201, answer.json


def switch(client: FlaskClient, station: Any, admin: Any, plugin: str, enabled: bool) -> None:
    answer = client.put(url(station, f"/plugins/{plugin}"), json={"enabled": enabled},
                        headers=admin.headers)
    assert answer.status_code == 200, answer.json


def test_a_switched_off_plugins_tasks_are_in_no_list(client, world):
    clock.freeze(NOON)
    east = world.station("east", plugins=("patrol",))
    admin = world.person("admin", station=east, roles=["admin", "officer"])
    walker = world.person("walker", station=east, roles=["volunteer"])
    general = post_task(client, east, admin, title="Leaflets")
    patrol = post_task(client, east, admin, kind="patrol", title="Night patrol")
    for task in (general, patrol):
        assign(client, east, admin, task, walker)

    def listed() -> tuple[list[int], list[int], list[int], int]:
        seen = client.get(url(east, "/tasks"), headers=admin.headers).json
        mine = client.get(url(east, "/tasks"), query_string={"mine": "true"},
                          headers=walker.headers).json
        assignments = client.get("/api/v1/me/assignments", headers=walker.headers).json
        dashboard = client.get(url(east, "/dashboard"), headers=admin.headers).json
        return ([t["id"] for t in seen], [t["id"] for t in mine],
                [a["task"]["id"] for a in assignments], dashboard["core"]["open_tasks"])

    both = [general["id"], patrol["id"]]
    assert listed() == (both, both, both, 2)
    switch(client, east, admin, "patrol", False)
    assert listed() == ([general["id"]], [general["id"]], [general["id"]], 1)
    hidden = client.get(url(east, f"/tasks/{patrol['id']}"), headers=walker.headers)
    assert hidden.status_code == 404 and hidden.json["code"] == "plugin_disabled"
    switch(client, east, admin, "patrol", True)
    assert listed() == (both, both, both, 2)


# Hooks through pluggy ----------------------------------------------------------------------------

@pytest.fixture
def subset_client(site, test_database_url, connection) -> Iterator[FlaskClient]:
    """An app whose only plugin declares a subset of each hook's parameters."""
    from tests import subset_plugin

    write_distribution(site, "wardens_subset", {"subset": "tests.subset_plugin"})
    deployment = Deployment(Database(test_database_url),
                            DeploymentConfig.from_dict({"plugins": {"installed": ["subset"]}}))
    app = create_app(TEST_CONFIG, deployment=deployment)
    subset_plugin.HEARD.clear()
    try:
        for bound in _bound(app, connection):
            yield bound.test_client()
    finally:
        deployment.database.engine.dispose()


def test_hook_implementations_with_a_subset_of_the_parameters_work_everywhere(
        subset_client, world):
    from tests.subset_plugin import HEARD

    clock.freeze(NOON)
    east = world.station("east", plugins=("subset",))
    admin = world.person("admin", station=east, roles=["admin", "officer"])
    vol = world.person("vol", station=east, roles=["volunteer"])
    task = post_task(subset_client, east, admin, starts_at=(NOON - HOUR).isoformat(),
                     ends_at=(NOON + HOUR).isoformat())
    signed = subset_client.post(url(east, f"/tasks/{task['id']}/signups"), json={},
                                headers=vol.headers)
    assert signed.status_code == 201, signed.json
    for kind in ("in", "out"):
        answer = subset_client.post(url(east, f"/tasks/{task['id']}/checkins"), json={
            "kind": kind, "lat": 30.0, "lon": 120.0, "accuracy_m": 5,
            "device_time": clock.now().isoformat(), "client_id": str(uuid.uuid4())},
            headers=vol.headers)
        assert answer.status_code == 201, answer.json
    dashboard = subset_client.get(url(east, "/dashboard"), headers=admin.headers)
    assert dashboard.status_code == 200, dashboard.json
    assert dashboard.json["plugins"] == {"subset": {"station_id": east.id}}
    exported = subset_client.get("/api/v1/me/export", headers=vol.headers)
    assert exported.status_code == 200, exported.json
    assert exported.json["plugins"] == {"subset": {"user_id": vol.id}}
    left = subset_client.delete(f"/api/v1/me/memberships/{east.code}", headers=vol.headers)
    assert left.status_code == 204, left.json
    switch(subset_client, east, admin, "subset", False)
    heard = list(HEARD)
    assert heard == [("assignment_changed", "None->signed_up"),
                     ("assignment_changed", "signed_up->checked_in"),
                     ("assignment_changed", "checked_in->completed"),
                     ("task_completed", task["id"]),
                     ("membership_removed", vol.id),
                     ("plugin_switched", "subset:False")]


# Points per event, once: every task kind of every built-in plugin ----------------------------

def _ledger(session: Any, station: Any, person: Any) -> list[tuple[str, int]]:
    return sorted(session.execute(
        sa.select(PointsEntry.event_code, PointsEntry.amount)
        .where(PointsEntry.station_id == station.id, PointsEntry.user_id == person.id)).all())


def _rule(session: Any, station: Any, code: str) -> int:
    return ledger.amount_for(session, station.id, code)


def _pay_task_completed_too(client: FlaskClient, station: Any, officer: Any, kind: str,
                            headers: dict[str, str] | None = None) -> None:
    """The station's points rules say this kind pays core.task_completed besides its event."""
    answer = client.put(url(station, "/points/rules"), json={"task_completed_also_for": [kind]},
                        headers=headers or officer.headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["task_completed_also_for"] == [kind]


def _also(session: Any, station: Any, also: bool) -> list[tuple[str, int]]:
    return [("core.task_completed", _rule(session, station, "core.task_completed"))] if also else []


def _general(client, session, world, also=False):
    clock.freeze(NOON)
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("vol", station=east, roles=["volunteer"])
    task = post_task(client, east, officer, starts_at=(NOON - HOUR).isoformat())
    assert client.post(url(east, f"/tasks/{task['id']}/signups"), json={},
                       headers=vol.headers).status_code == 201
    path = url(east, f"/tasks/{task['id']}/checkins")
    body = {"lat": 30.0, "lon": 120.0, "accuracy_m": 5, "device_time": NOON.isoformat()}
    assert client.post(path, json={**body, "kind": "in", "client_id": "general-in-1"},
                       headers=vol.headers).status_code == 201
    out = {**body, "kind": "out", "client_id": "general-out-1"}
    done = client.post(path, json=out, headers=vol.headers)
    again = client.post(path, json=out, headers=vol.headers)  # the phone re-sends it
    rule = _rule(session, east, "core.task_completed")
    assert (done.json["points_awarded"], again.status_code, again.json["points_awarded"]) == (
        rule, 200, 0)
    return [(east, vol, [("core.task_completed", rule)])]


def _patrol(client, session, world, also=False):
    from tests.plugins.patrol.conftest import T0, build_scene

    scene = build_scene(client, session, world)
    if also:
        _pay_task_completed_too(client, scene.station, scene.officer, "patrol",
                                scene.headers(scene.officer))
    task = client.post(url(scene.station, "/tasks"), headers=scene.officer.headers, json={
        "kind": "patrol", "title": "Night patrol", "starts_at": (T0 + 5 * MINUTE).isoformat(),
        "ends_at": (T0 + HOUR).isoformat()}).json
    assert client.post(url(scene.station, f"/tasks/{task['id']}/signups"),
                       json={"user_id": scene.walker.id},
                       headers=scene.officer.headers).status_code == 201
    assert scene.put(f"/routes/{scene.route_id}/tasks/{task['id']}").status_code == 200
    patrol = scene.post("/patrols", json={"task_id": task["id"]}).json
    bodies = []
    for index in range(5):
        clock.advance(3 * MINUTE)
        bodies.append(scene.body(index))
        assert scene.post(f"/patrols/{patrol['id']}/scans", json=bodies[-1]).status_code == 201
    resent = scene.post(f"/patrols/{patrol['id']}/scans/batch", json={"scans": bodies})
    assert {r["result"] for r in resent.json["results"]} == {"duplicate"}
    finished = scene.finish(patrol["id"]).json
    assert scene.finish(patrol["id"]).json["summary"]["points"] == finished["summary"]["points"]
    checkpoint = _rule(session, scene.station, "patrol.checkpoint_ok")
    completed = _rule(session, scene.station, "patrol.completed")
    generic = _also(session, scene.station, also)
    assert finished["summary"]["points"] == 5 * checkpoint + completed + sum(a for _, a in generic)
    return [(scene.station, scene.walker,
             sorted([("patrol.checkpoint_ok", checkpoint)] * 5 + [("patrol.completed", completed)]
                    + generic))]


def _crossing(client, session, world, also=False):
    from tests.plugins.crossing_guard.conftest import FROZEN, build

    clock.freeze(FROZEN)
    crossing = build(world)
    if also:
        _pay_task_completed_too(client, crossing.station, crossing.officer, "crossing_shift")
    made = crossing.school(posts=[{"name": "North gate", "min_guards": 1, "max_guards": 2}],
                           term=("2026-03-02", "2026-03-02"))
    crossing.generate(made["term"])
    shift = crossing.shifts()[0]
    guard = crossing.guard("Guard A")
    assert crossing.post(f"/shifts/{shift['id']}/signups", guard).status_code == 201
    starts = dt.datetime.fromisoformat(shift["starts_at"])

    def check(kind: str, at: dt.datetime, client_id: str) -> Any:
        clock.freeze(at)
        crossing.refresh()
        return crossing.post(f"/shifts/{shift['id']}/checkins", guard, {
            "kind": kind, "lat": 35.0, "lon": 116.0, "accuracy_m": 8,
            "device_time": at.isoformat(), "client_id": client_id})

    assert check("in", starts - 10 * MINUTE, "shift-in-1").status_code == 201
    early = check("out", starts - 7 * MINUTE, "shift-out-early")
    assert early.status_code == 422 and early.json["code"] == "checkout_before_start"
    assert _ledger(session, crossing.station, guard) == []  # an early check-out pays nothing
    done = check("out", starts + 40 * MINUTE, "shift-out-1")
    again = check("out", starts + 41 * MINUTE, "shift-out-1")
    rule = _rule(session, crossing.station, "crossing_guard.shift_completed")
    generic = _also(session, crossing.station, also)
    booked = rule + sum(a for _, a in generic)
    assert (done.json["points"], again.json["duplicate"], again.json["points"]) == (booked, True, 0)
    return [(crossing.station, guard, sorted([("crossing_guard.shift_completed", rule)] + generic))]


def _care(client, session, world, also=False):
    from tests.plugins.care_visits.conftest import HOME, build, north_of

    care = build(world, client, session)
    if also:
        _pay_task_completed_too(client, care.station, care.officer_care, "care_visit")
    clean = care.recipient(named_visitor_ids=[care.volunteer_named.id])
    flagged = care.recipient(named_visitor_ids=[care.volunteer_team.id])
    care.post("/plan", care.officer_care)

    def visit_of(recipient: dict[str, Any]) -> dict[str, Any]:
        return care.get(f"/visits?recipient_id={recipient['id']}", care.officer_care).json[0]

    good, bad = visit_of(clean), visit_of(flagged)
    assert care.checkin(good["task_id"], care.volunteer_named).status_code == 201
    far = care.checkin(bad["task_id"], care.volunteer_team, at=north_of(HOME, 190), accuracy=50)
    assert far.status_code == 201
    clock.advance(40 * MINUTE)
    care.refresh()
    out = {"kind": "out", "client_id": "care-out-1"}
    done = care.checkin(good["task_id"], care.volunteer_named, **out)
    again = care.checkin(good["task_id"], care.volunteer_named, **out)
    # Nothing to review: the visit is accepted at its check-out, which says what it booked.
    rule = _rule(session, care.station, "care_visits.visit_completed")
    generic = _also(session, care.station, also)
    booked = rule + sum(a for _, a in generic)
    assert (done.status_code, done.json["points_awarded"]) == (201, booked)
    assert (again.status_code, again.json["points_awarded"]) == (200, 0)
    # The flagged visit completes but pays nothing until accepted; rejected, it never pays.
    left = care.checkin(bad["task_id"], care.volunteer_team, kind="out")
    assert left.status_code == 201 and left.json["points_awarded"] == 0
    rejected = care.post(f"/visits/{bad['id']}/review", care.officer_care,
                         json={"decision": "reject", "note": "not at home"})
    assert rejected.status_code == 200 and rejected.json["review"] == "rejected"
    return [(care.station, care.volunteer_named,
             sorted([("care_visits.visit_completed", rule)] + generic)),
            (care.station, care.volunteer_team, [])]


FLOWS = {"general": _general, "patrol": _patrol, "crossing_shift": _crossing,
         "care_visit": _care}


def test_every_task_kind_is_covered_below(deployment):
    assert set(FLOWS) == set(deployment.task_kinds)


@pytest.mark.parametrize("kind", sorted(FLOWS))
def test_each_kind_through_its_own_flow_books_exactly_its_rules_once(kind, client, session,
                                                                       world):
    for station, person, expected in FLOWS[kind](client, session, world):
        assert _ledger(session, station, person) == expected, person.user.display_name


#: the kinds that pay an event of their own, so core.task_completed only where a station says so
OWN_EVENT = sorted(set(FLOWS) - {"general"})


@pytest.mark.parametrize("kind", OWN_EVENT)
def test_a_station_whose_rules_say_so_pays_core_task_completed_besides_the_kinds_event(
        kind, client, session, world):
    for station, person, expected in FLOWS[kind](client, session, world, also=True):
        assert _ledger(session, station, person) == expected, person.user.display_name


def test_only_a_kind_with_an_event_of_its_own_can_be_made_to_pay_task_completed_too(
        client, session, world):
    east = world.station("east", plugins=("patrol",))
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("vol", station=east, roles=["volunteer"])
    path = url(east, "/points/rules")
    assert client.get(path, headers=officer.headers).json["task_completed_also_for"] == []
    refused = {kind: client.put(path, json={"task_completed_also_for": [kind]},
                                headers=officer.headers).json["code"]
               for kind in ("general", "juggling")}
    assert refused == {"general": "task_kind_pays_task_completed",
                       "juggling": "unknown_task_kind"}
    assert client.put(path, json={"task_completed_also_for": ["patrol"]},
                      headers=vol.headers).status_code == 403
    both = client.put(path, json={"task_completed_also_for": ["patrol", "crossing_shift"],
                                  "rules": {"core.task_completed": 4}}, headers=officer.headers)
    assert both.status_code == 200, both.json
    assert both.json["task_completed_also_for"] == ["crossing_shift", "patrol"]
    assert {"event_code": "core.task_completed", "default": 10, "override": 4,
            "amount": 4} in both.json["rules"]
    amounts_only = client.put(path, json={"rules": {"core.task_completed": None}},
                              headers=officer.headers)
    assert amounts_only.json["task_completed_also_for"] == ["crossing_shift", "patrol"]
    cleared = client.put(path, json={"task_completed_also_for": []}, headers=officer.headers)
    assert cleared.json["task_completed_also_for"] == []
    changes = session.scalars(sa.select(AuditEvent.details).where(
        AuditEvent.action == "points.rules_changed").order_by(AuditEvent.id)).all()
    assert [c["changes"].get("task_completed_also_for") for c in changes] == [
        [[], ["crossing_shift", "patrol"]], None, [["crossing_shift", "patrol"], []]]
