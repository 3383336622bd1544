"""The demo station from examples/demo-station.toml: built, planned, changed, applied over HTTP."""

from __future__ import annotations

import copy
import threading

import pytest
import sqlalchemy as sa

from core import demo
from core.models import Notification, Station, Task, TaskStatus
from core.station_file import document, plan
from core.station_file.document import FileErrors
from plugins.crossing_guard.models import Post, Shift
from plugins.patrol.models import Checkpoint, Route
from tests.fixtures.people import PASSWORD

FILE = demo.DEMO_FILE.read_text(encoding="utf-8")


def raw() -> dict:
    """The demo file as data, dates and times as ISO text (as a JSON body carries them)."""
    return document.plain(document.parse(FILE))


def four_changes(data: dict) -> dict:
    """Move a checkpoint, rename a route, add an offer, remove a post that has future shifts."""
    data = copy.deepcopy(data)
    route = data["patrol"]["routes"][0]
    route["name"] = "幸福里夜巡 Xingfuli night walk"
    route["checkpoints"][2]["lat"] = 30.26601
    shops = data["anti_fraud"]["shops"]
    shops[1]["offers"].append({
        "key": "cake-5-off", "title": "蛋糕减 5 元", "kind": "amount", "amount_off_cents": 500,
        "points_cost": 40, "stock_total": 20, "valid_from": "2026-01-01T00:00:00+08:00",
        "valid_until": "2030-12-31T23:59:59+08:00"})
    school = data["crossing_guard"]["schools"][0]
    school["posts"] = [p for p in school["posts"] if p["key"] != "north-gate"]
    return data


def sign_in(client, phone):
    answer = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": phone, "password": demo.DEMO_PASSWORD})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['access_token']}"}


@pytest.fixture
def demo_people(session):
    people = demo.seed(session)
    session.commit()
    return people


def test_the_demo_is_built_from_the_file_and_plans_no_change(session, demo_people):
    deployment = session.info["deployment"]
    root = demo_people["superuser"]
    assert plan.make_plan(session, root, document.read(deployment, FILE)).empty
    exported = plan.export_text(session, root, "demo")
    assert plan.make_plan(session, root, document.read(deployment, exported)).empty
    route = session.scalar(sa.select(Route).where(Route.key == "xingfuli-night"))
    assert route.name == "幸福里夜巡路线 Xingfuli night round"
    assert session.scalar(sa.select(sa.func.count()).select_from(Checkpoint).where(
        Checkpoint.route_id == route.id)) == 5


def test_four_edits_plan_as_four_changes_and_the_post_needs_allow(session, demo_people, client):
    deployment = session.info["deployment"]
    root = demo_people["superuser"]
    station = session.scalar(sa.select(Station).where(Station.code == "demo"))
    gate = session.scalar(sa.select(Post).where(Post.key == "north-gate"))
    guarded = session.execute(
        sa.select(Shift, Task).join(Task, Task.id == Shift.task_id)
        .where(Shift.post_id == gate.id, Task.status == TaskStatus.OPEN, Task.filled > 0)).all()
    assert guarded  # the demo signed volunteers up for the gate's next shifts
    wanted = document.validate(deployment, four_changes(raw()))

    found = plan.make_plan(session, root, wanted)
    assert sorted((c.action, c.path) for c in found.changes) == [
        ("archive", "crossing_guard.schools[demo-primary].posts[north-gate]"),
        ("create", "anti_fraud.shops[bakery].offers[cake-5-off]"),
        ("update", "patrol.routes[xingfuli-night]"),
        ("update", "patrol.routes[xingfuli-night].checkpoints[playground]"),
    ]
    assert found.harms == ["cancel_guarded_shifts"]

    admin = sign_in(client, "+8613800000001")
    body = {"text": FILE}
    assert client.post("/api/v1/stations/demo/definition/plan", json=body,
                       headers=admin).json["changes"] == []
    body = {"document": four_changes(raw())}
    refused = client.put("/api/v1/stations/demo/definition", json=body, headers=admin)
    assert refused.status_code == 409, refused.json
    assert refused.json["code"] == "station_file_harmful"
    session.expire_all()
    assert session.get(Post, gate.id).active  # nothing was applied

    done = client.put("/api/v1/stations/demo/definition",
                      json={**body, "allow": ["cancel_guarded_shifts"]}, headers=admin)
    assert done.status_code == 200, done.json
    assert done.json["summary"] == {"created": 1, "changed": 2, "archived": 1}
    session.expire_all()
    assert not session.get(Post, gate.id).active
    for _shift, task in guarded:
        assert session.get(Task, task.id).status == TaskStatus.CANCELLED
    told = session.scalars(sa.select(Notification.user_id).where(
        Notification.station_id == station.id,
        Notification.user_id == demo_people["volunteer1"].id)).all()
    assert told  # the guard signed up for the gate hears of the cancellation
    again = client.post("/api/v1/stations/demo/definition/plan", json=body, headers=admin)
    assert again.status_code == 200 and again.json["changes"] == []


def test_the_api_reports_every_mistake_with_its_path(session, demo_people, client):
    admin = sign_in(client, "+8613800000001")
    data = raw()
    data["patrol"]["routes"][0]["checkpoints"][0]["lat"] = 91
    data["station"]["timezone"] = "Nowhere/Else"
    data["anti_fraud"]["bank"] = "/etc/passwd"
    answer = client.post("/api/v1/stations/demo/definition/plan", json={"document": data},
                         headers=admin)
    assert answer.status_code == 422
    assert answer.json["code"] == "station_file_invalid"
    assert {(e["path"], e["message"]) for e in answer.json["details"]["errors"]} == {
        ("station.timezone", "not a known time zone (e.g. Asia/Shanghai)"),
        ("patrol.routes[0].checkpoints[0].lat", "must be between -90 and 90"),
        ("anti_fraud.bank", "a file path is read by the command line only: send the questions"
                            " inline"),
    }
    other = client.post("/api/v1/stations/demo/definition/plan", json={
        "text": FILE.replace('code = "demo"', 'code = "elsewhere"')}, headers=admin)
    assert other.status_code == 422
    assert other.json["details"]["errors"][0]["path"] == "station.code"


def test_only_the_stations_admins_plan_or_apply(session, demo_people, client):
    officer = sign_in(client, "+8613800000002")
    answer = client.post("/api/v1/stations/demo/definition/plan", json={"text": FILE},
                         headers=officer)
    assert answer.status_code == 403
    resident = sign_in(client, "+8613800000006")
    answer = client.put("/api/v1/stations/demo/definition", json={"text": FILE},
                        headers=resident)
    assert answer.status_code == 403


def test_the_definition_endpoints_are_declared(client):
    spec = client.get("/api/openapi.json").json
    plan_op = spec["paths"]["/api/v1/stations/{station}/definition/plan"]["post"]
    apply_op = spec["paths"]["/api/v1/stations/{station}/definition"]["put"]
    assert plan_op["operationId"] == "station_definition_plan"
    assert {"200", "403", "404", "422"} <= set(plan_op["responses"])
    assert {"200", "409", "422"} <= set(apply_op["responses"])


# Two applies at once -----------------------------------------------------------------------------

@pytest.mark.postgres_only
def test_two_applies_at_once_give_one_files_state_never_a_mix(live_world, committed):
    deployment = committed
    with deployment.database.writer() as session, session.begin():
        people = demo.seed(session)
    root_id = people["superuser"].id
    first = document.validate(deployment, four_changes(raw()))
    second_raw = raw()
    school = second_raw["crossing_guard"]["schools"][0]
    school["posts"] = [p for p in school["posts"] if p["key"] != "north-gate"]
    second_raw["patrol"]["routes"][0]["name"] = "Second file's route"
    second_raw["anti_fraud"]["shops"][0]["name"] = "Second file's shop"
    second = document.validate(deployment, second_raw)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(wanted: dict, allow: set[str]) -> None:
        try:
            with deployment.database.writer() as session, session.begin():
                user = session.get(type(people["superuser"]), root_id)
                barrier.wait()
                plan.apply(session, user, wanted, allow=allow)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    allow = {"cancel_guarded_shifts"}
    threads = [threading.Thread(target=run, args=(first, allow)),
               threading.Thread(target=run, args=(second, allow))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Both remove the gate; the one that waits plans against what the other left.
    assert not errors, errors
    with deployment.database.reader() as session:
        root = session.get(type(people["superuser"]), root_id)
        as_first = plan.make_plan(session, root, first).empty
        as_second = plan.make_plan(session, root, second).empty
    assert as_first != as_second  # exactly one file's state: the one applied last


def test_a_file_that_cannot_be_read_touches_nothing(session, demo_people):
    deployment = session.info["deployment"]
    with pytest.raises(FileErrors) as caught:
        document.read(deployment, "[station\ncode = 1")
    assert caught.value.errors[0]["path"] == ""
    assert caught.value.errors[0]["message"].startswith("not valid TOML")
    assert PASSWORD  # (the demo logins are untouched: see tests/test_demo.py)
