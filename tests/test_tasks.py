"""Tasks: the service API plugins call, the whole HTTP flow, and concurrent sign-ups."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from core import clock, geofence, tasks
from core.access import load_actor
from core.errors import Conflict, Invalid, NotFound
from core.hookspecs import TaskKind
from core.models import Assignment, Checkin, Notification, PointsEntry, StationPlugin, Task
from core.models.tasks import AssignmentStatus

START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
HERE = (31.2304, 121.4737)
METRES_PER_DEGREE_LAT = 111_195.0


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / METRES_PER_DEGREE_LAT, point[1]


def make_task(session, station, **fields) -> Task:
    values = dict(title="Night patrol", starts_at=START, ends_at=START + dt.timedelta(hours=2),
                  lat=HERE[0], lon=HERE[1], radius_m=100, capacity=2)
    values.update(fields)
    task = tasks.create_task(session, station.id, **values)
    session.commit()
    return task


def check(session, task, person, kind="in", at=HERE, accuracy=10.0, client_id=None, **extra):
    return tasks.check_in(session, task, person.id, kind=kind, lat=at[0], lon=at[1],
                          accuracy_m=accuracy, device_time=extra.pop("device_time", clock.now()),
                          client_id=client_id or str(uuid.uuid4()), **extra)


@pytest.fixture
def east(world):
    return world.station("east")


# The geofence rule ------------------------------------------------------------------------------

def test_haversine_distance_and_the_inside_rule():
    assert geofence.distance_m(*HERE, *HERE) == 0
    assert geofence.distance_m(*HERE, *north_of(HERE, 500)) == pytest.approx(500, rel=0.002)
    # Shanghai to Beijing, about 1068 km
    assert geofence.distance_m(31.2304, 121.4737, 39.9042, 116.4074) == pytest.approx(
        1_067_000, rel=0.01)
    assert geofence.is_inside(140, 100, accuracy_m=40)
    assert not geofence.is_inside(141, 100, accuracy_m=40)
    # accuracy credit is capped at 50 m
    assert geofence.is_inside(150, 100, accuracy_m=90)
    assert not geofence.is_inside(151, 100, accuracy_m=90)


def test_station_rules_default_and_override():
    assert geofence.station_rules({}) == geofence.DEFAULTS
    own = geofence.station_rules({"tasks": {"accuracy_limit_m": 30, "unknown": 1}})
    assert own["accuracy_limit_m"] == 30 and own["checkin_opens_minutes"] == 15
    assert "unknown" not in own


# Service: creating -------------------------------------------------------------------------------

def test_create_task_validates_window_position_and_kind(session, east):
    with pytest.raises(Invalid) as bad:
        tasks.create_task(session, east.id, title="x", starts_at=START, ends_at=START)
    assert bad.value.code == "task_window_invalid"
    with pytest.raises(Invalid) as half:
        tasks.create_task(session, east.id, title="x", starts_at=START,
                          ends_at=START + dt.timedelta(hours=1), lat=31.0)
    assert half.value.code == "position_incomplete"
    with pytest.raises(Invalid) as kind:
        tasks.create_task(session, east.id, title="x", kind="juggling", starts_at=START,
                          ends_at=START + dt.timedelta(hours=1))
    assert kind.value.code == "unknown_task_kind"
    task = make_task(session, east, capacity=3, waitlist=True)
    stored = session.get(Task, task.id)
    assert (stored.kind, stored.capacity, stored.filled, stored.status) == ("general", 3, 0, "open")


# Service: places ---------------------------------------------------------------------------------

def test_sign_up_until_full_then_task_full(session, world, east):
    clock.freeze(START - dt.timedelta(days=1))
    task = make_task(session, east)
    a, b, c = (world.person(n, station=east, roles=["volunteer"]) for n in "abc")
    assert tasks.sign_up(session, task, a.id).status == AssignmentStatus.SIGNED_UP
    assert tasks.sign_up(session, task, b.id).status == AssignmentStatus.SIGNED_UP
    session.commit()
    with pytest.raises(Conflict) as full:
        tasks.sign_up(session, task, c.id)
    assert full.value.code == "task_full" and full.value.details == {"capacity": 2}
    with pytest.raises(Conflict) as twice:
        tasks.sign_up(session, task, a.id)
    assert twice.value.code == "already_signed_up"
    session.rollback()
    assert session.get(Task, task.id).filled == 2


def test_waitlist_promotes_in_order_and_notifies(session, world, east):
    clock.freeze(START - dt.timedelta(days=1))
    task = make_task(session, east, capacity=1, waitlist=True)
    a, b, c = (world.person(n, station=east, roles=["volunteer"]) for n in "abc")
    tasks.sign_up(session, task, a.id)
    second = tasks.sign_up(session, task, b.id)
    clock.advance(dt.timedelta(minutes=1))
    third = tasks.sign_up(session, task, c.id)
    assert second.status == third.status == AssignmentStatus.WAITLISTED
    assert tasks.waitlist_position(session, second) == 1
    assert tasks.waitlist_position(session, third) == 2
    tasks.withdraw(session, task, a.id)
    session.commit()
    statuses = dict(session.execute(sa.select(Assignment.user_id, Assignment.status)
                                    .where(Assignment.task_id == task.id)).all())
    assert statuses == {a.id: "withdrawn", b.id: "signed_up", c.id: "waitlisted"}
    told = session.scalars(sa.select(Notification).where(Notification.user_id == b.id)).all()
    assert [(n.code, n.params["task_id"]) for n in told] == [("core.waitlist_promoted", task.id)]
    assert not session.scalars(sa.select(Notification).where(Notification.user_id == c.id)).all()
    assert session.get(Task, task.id).filled == 1


def test_raising_capacity_promotes_and_lowering_below_filled_is_refused(session, world, east):
    clock.freeze(START - dt.timedelta(days=1))
    task = make_task(session, east, capacity=1, waitlist=True)
    a, b = (world.person(n, station=east, roles=["volunteer"]) for n in "ab")
    tasks.sign_up(session, task, a.id)
    tasks.sign_up(session, task, b.id)
    tasks.update_task(session, task, {"capacity": 2})
    assert tasks.find_assignment(session, task, b.id).status == AssignmentStatus.SIGNED_UP
    with pytest.raises(Conflict) as below:
        tasks.update_task(session, task, {"capacity": 1})
    assert below.value.code == "capacity_below_filled"


def test_withdrawn_person_may_sign_up_again_and_cannot_withdraw_after_check_in(
        session, world, east):
    clock.freeze(START)
    task = make_task(session, east)
    a = world.person("a", station=east, roles=["volunteer"])
    tasks.sign_up(session, task, a.id)
    tasks.withdraw(session, task, a.id)
    with pytest.raises(NotFound):
        tasks.withdraw(session, task, a.id)
    assert tasks.sign_up(session, task, a.id).status == AssignmentStatus.SIGNED_UP
    check(session, task, a)
    with pytest.raises(Conflict) as late:
        tasks.withdraw(session, task, a.id)
    assert late.value.code == "cannot_withdraw"


def test_cancel_notifies_everyone_expecting_to_take_part(session, world, east):
    clock.freeze(START - dt.timedelta(days=1))
    task = make_task(session, east, capacity=1, waitlist=True)
    a, b, c = (world.person(n, station=east, roles=["volunteer"]) for n in "abc")
    tasks.sign_up(session, task, a.id)
    tasks.sign_up(session, task, b.id)
    tasks.sign_up(session, task, c.id)
    tasks.withdraw(session, task, c.id)
    told = tasks.cancel_task(session, task, reason="Storm warning")
    assert told == [a.id, b.id]
    with pytest.raises(Conflict) as closed:
        tasks.sign_up(session, task, c.id)
    assert closed.value.code == "task_not_open"


# Service: check-in -------------------------------------------------------------------------------

def test_check_in_out_completes_and_awards_once(session, world, east):
    clock.freeze(START - dt.timedelta(minutes=10))
    task = make_task(session, east)
    a = world.person("a", station=east, roles=["volunteer"])
    tasks.sign_up(session, task, a.id)
    far = north_of(HERE, 500)
    with pytest.raises(Invalid) as outside:
        check(session, task, a, at=far)
    assert outside.value.code == "outside_geofence"
    assert outside.value.details["distance_m"] == 500 and outside.value.details["radius_m"] == 100
    with pytest.raises(Invalid) as vague:
        check(session, task, a, accuracy=150)
    assert vague.value.code == "position_inaccurate"
    first = check(session, task, a, at=north_of(HERE, 120), accuracy=30, is_mock=True)
    assert first.assignment.status == AssignmentStatus.CHECKED_IN and not first.duplicate
    assert first.checkin.distance_m == pytest.approx(120, abs=1) and first.checkin.is_mock
    clock.advance(dt.timedelta(hours=2))
    out_id = str(uuid.uuid4())
    done = check(session, task, a, kind="out", client_id=out_id)
    assert done.assignment.status == AssignmentStatus.COMPLETED and done.points == 10
    again = check(session, task, a, kind="out", client_id=out_id)
    assert again.duplicate and again.checkin.id == done.checkin.id and again.points == 0
    with pytest.raises(Conflict) as twice:
        check(session, task, a, kind="out")
    assert twice.value.code == "already_completed"
    session.commit()
    entries = session.scalars(sa.select(PointsEntry).where(PointsEntry.user_id == a.id)).all()
    assert [(e.amount, e.event_code, e.source_type, e.source_id) for e in entries] == [
        (10, "core.task_completed", "assignment", str(done.assignment.id))]
    assert session.scalar(sa.select(sa.func.count()).select_from(Checkin)
                          .where(Checkin.task_id == task.id)) == 2


def test_check_in_window_and_device_time_rules(session, world, east):
    task = make_task(session, east)
    a = world.person("a", station=east, roles=["volunteer"])
    clock.freeze(START - dt.timedelta(days=1))
    tasks.sign_up(session, task, a.id)
    clock.freeze(START - dt.timedelta(minutes=16))
    with pytest.raises(Invalid) as early:
        check(session, task, a)
    assert early.value.code == "checkin_not_open"
    assert early.value.details["opens_at"] == "2026-03-02T00:45:00Z"
    with pytest.raises(Invalid) as future:
        check(session, task, a, device_time=clock.now() + dt.timedelta(minutes=30))
    assert future.value.code == "device_time_in_future"
    clock.freeze(START + dt.timedelta(hours=3))
    with pytest.raises(Invalid) as closed:
        check(session, task, a)
    assert closed.value.code == "checkin_closed"
    # sent late from a phone that was offline during the window: judged on its device time
    late = check(session, task, a, device_time=START + dt.timedelta(minutes=5))
    assert late.assignment.status == AssignmentStatus.CHECKED_IN
    assert late.checkin.server_time == clock.now()


def test_station_settings_change_the_rules(session, world, east):
    east.settings = {"tasks": {"accuracy_limit_m": 20, "refuse_mock_locations": True}}
    session.commit()
    clock.freeze(START)
    task = make_task(session, east)
    a = world.person("a", station=east, roles=["volunteer"])
    tasks.sign_up(session, task, a.id)
    with pytest.raises(Invalid) as vague:
        check(session, task, a, accuracy=25)
    assert vague.value.details["limit_m"] == 20
    with pytest.raises(Invalid) as mock:
        check(session, task, a, is_mock=True)
    assert mock.value.code == "mock_location_refused"


def test_check_in_needs_a_place_and_client_ids_are_not_shared(session, world, east):
    clock.freeze(START)
    task = make_task(session, east, capacity=1, waitlist=True)
    a, b = (world.person(n, station=east, roles=["volunteer"]) for n in "ab")
    tasks.sign_up(session, task, a.id)
    tasks.sign_up(session, task, b.id)
    with pytest.raises(Conflict) as waiting:
        check(session, task, b)
    assert waiting.value.code == "not_assigned"
    with pytest.raises(Conflict) as out_first:
        check(session, task, a, kind="out")
    assert out_first.value.code == "not_checked_in"
    used = check(session, task, a)
    with pytest.raises(Conflict) as reused:
        check(session, task, b, client_id=used.checkin.client_id)
    assert reused.value.code == "client_id_reused"


def test_task_without_a_place_has_no_fence(session, world, east):
    clock.freeze(START)
    task = make_task(session, east, lat=None, lon=None)
    a = world.person("a", station=east, roles=["volunteer"])
    tasks.sign_up(session, task, a.id)
    result = check(session, task, a, at=(0.0, 0.0))
    assert result.checkin.distance_m is None


# Service: visibility -----------------------------------------------------------------------------

def test_visibility_of_public_private_and_private_kind_tasks(session, world, east, deployment,
                                                             monkeypatch):
    monkeypatch.setitem(deployment.task_kinds, "care_visit", TaskKind("care_visit", private=True))
    clock.freeze(START - dt.timedelta(days=1))
    session.add(StationPlugin(station_id=east.id, name="care_visits", enabled=True))
    public = make_task(session, east, title="public")
    private = make_task(session, east, title="private", visibility="private")
    care = make_task(session, east, title="care", kind="care_visit")
    vol = world.person("v", station=east, roles=["volunteer"])
    assignee = world.person("w", station=east, roles=["volunteer"])
    officer = world.person("o", station=east, roles=["officer"])
    resident = world.person("r", station=east, roles=["resident"])
    tasks.sign_up(session, care, assignee.id, by=officer.id)
    session.commit()

    def titles(person, **kwargs):
        who = load_actor(session, "east", person.user)
        return [t.title for t, _ in session.execute(tasks.visible_tasks(session, who, **kwargs))]

    assert titles(vol) == ["public"]
    assert titles(assignee) == ["public", "care"]
    assert titles(assignee, mine=True) == ["care"]
    assert titles(officer) == ["public", "private"]
    assert titles(officer, duty_kinds=["care_visit"]) == ["public", "private", "care"]
    assert titles(resident) == []
    who = load_actor(session, "east", vol.user)
    with pytest.raises(NotFound):
        tasks.get_visible_task(session, who, private.id)
    assert tasks.get_visible_task(session, who, public.id)[0].id == public.id


# HTTP: the whole flow, from creating a task to its points ------------------------------------------

def url(station, path=""):
    return f"/api/v1/stations/{station.code}{path}"


def task_body(**fields):
    body = {"title": "Evening patrol", "starts_at": START.isoformat(),
            "ends_at": (START + dt.timedelta(hours=2)).isoformat(), "lat": HERE[0],
            "lon": HERE[1], "radius_m": 100, "capacity": 2}
    body.update(fields)
    return body


def checkin_body(kind="in", at=HERE, accuracy=12.0, **fields):
    body = {"kind": kind, "lat": at[0], "lon": at[1], "accuracy_m": accuracy, "is_mock": False,
            "device_time": clock.now().isoformat(), "client_id": str(uuid.uuid4())}
    body.update(fields)
    return body


def signed_in_again(world, *people):
    """Access tokens live 15 minutes: after moving the clock, a phone has refreshed its token."""
    renewed = tuple(world.sign_in(p.user, p.phone) for p in people)
    return renewed if len(renewed) > 1 else renewed[0]


def test_the_volunteer_flow_through_http(client, world, east):
    clock.freeze(START - dt.timedelta(days=1))
    officer = world.person("officer", station=east, roles=["officer"])
    v1, v2, v3 = (world.person(f"v{i}", station=east, roles=["volunteer"]) for i in (1, 2, 3))
    resident = world.person("resident", station=east, roles=["resident"])
    west = world.station("west")
    stranger = world.person("stranger", station=west, roles=["officer"])

    refused = client.post(url(east, "/tasks"), json=task_body(), headers=resident.headers)
    assert refused.status_code == 403 and refused.json["code"] == "role_required"
    hidden = client.get(url(east, "/tasks"), headers=stranger.headers)
    assert hidden.status_code == 404 and hidden.json["code"] == "station_not_found"
    assert client.post(url(east, "/tasks"), json=task_body(),
                       headers=stranger.headers).status_code == 404

    rules = client.put(url(east, "/points/rules"), json={"rules": {"core.task_completed": 15}},
                       headers=officer.headers)
    assert rules.status_code == 200, rules.json
    created = client.post(url(east, "/tasks"), json=task_body(), headers=officer.headers)
    assert created.status_code == 201, created.json
    task = created.json
    assert (task["capacity"], task["filled"], task["status"]) == (2, 0, "open")
    signups = url(east, f"/tasks/{task['id']}/signups")
    for person in (v1, v2):
        answer = client.post(signups, json={}, headers=person.headers)
        assert answer.status_code == 201 and answer.json["status"] == "signed_up"
    full = client.post(signups, json={}, headers=v3.headers)
    assert full.status_code == 409 and full.json["code"] == "task_full"
    assert full.json["details"] == {"capacity": 2}
    assert client.get(url(east, f"/tasks/{task['id']}"),
                      headers=v1.headers).json["my_status"] == "signed_up"

    # the same with a waitlist: the third waits and is promoted when someone withdraws
    queued = client.post(url(east, "/tasks"), json=task_body(title="Market day", waitlist=True),
                         headers=officer.headers).json
    queue = url(east, f"/tasks/{queued['id']}/signups")
    client.post(queue, json={}, headers=v1.headers)
    client.post(queue, json={}, headers=v2.headers)
    waiting = client.post(queue, json={}, headers=v3.headers)
    assert waiting.status_code == 201
    assert (waiting.json["status"], waiting.json["waitlist_position"]) == ("waitlisted", 1)
    assert client.delete(f"{queue}/me", headers=v2.headers).status_code == 204
    mine = client.get("/api/v1/me/assignments", headers=v3.headers).json
    assert [(a["task"]["id"], a["status"]) for a in mine] == [(queued["id"], "signed_up")]
    inbox = client.get("/api/v1/me/notifications", headers=v3.headers).json
    assert [n["code"] for n in inbox] == ["core.waitlist_promoted"]
    assert "Market day" in inbox[0]["text"]

    # on the day: 500 m away is refused with the distance, inside is accepted
    clock.freeze(START - dt.timedelta(minutes=5))
    v1 = signed_in_again(world, v1)
    checkins = url(east, f"/tasks/{task['id']}/checkins")
    far = client.post(checkins, json=checkin_body(at=north_of(HERE, 500)), headers=v1.headers)
    assert far.status_code == 422 and far.json["code"] == "outside_geofence"
    assert far.json["details"]["distance_m"] == 500 and far.json["details"]["radius_m"] == 100
    inside = client.post(checkins, json=checkin_body(at=north_of(HERE, 60)), headers=v1.headers)
    assert inside.status_code == 201, inside.json
    assert inside.json["assignment_status"] == "checked_in" and inside.json["points_awarded"] == 0
    clock.advance(dt.timedelta(hours=2))
    v1, v2 = signed_in_again(world, v1, v2)
    out = client.post(checkins, json=checkin_body("out"), headers=v1.headers)
    assert out.status_code == 201
    assert out.json["assignment_status"] == "completed" and out.json["points_awarded"] == 15

    board = client.get(url(east, "/points/leaderboard?period=all"), headers=v2.headers)
    assert board.status_code == 200
    assert board.json["entries"] == [
        {"rank": 1, "user_id": v1.id, "display_name": "v1", "points": 15}]
    entries = client.get(url(east, "/points/entries"), headers=v1.headers).json
    assert [(e["amount"], e["event_code"]) for e in entries] == [(15, "core.task_completed")]
    assert client.get(url(east, "/points/balance"), headers=v1.headers).json["balance"] == 15
    assert client.get(url(east, f"/tasks/{task['id']}"),
                      headers=v1.headers).json["my_status"] == "completed"


def test_a_resent_check_in_is_a_duplicate_not_a_second_one(client, world, east, session):
    clock.freeze(START)
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    task = client.post(url(east, "/tasks"), json=task_body(), headers=officer.headers).json
    client.post(url(east, f"/tasks/{task['id']}/signups"), json={}, headers=vol.headers)
    body = checkin_body()
    first = client.post(url(east, f"/tasks/{task['id']}/checkins"), json=body,
                        headers=vol.headers)
    again = client.post(url(east, f"/tasks/{task['id']}/checkins"), json=body,
                        headers=vol.headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["duplicate"] is True and again.json["id"] == first.json["id"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Checkin)
                          .where(Checkin.task_id == task["id"])) == 1
    naive = client.post(url(east, f"/tasks/{task['id']}/checkins"),
                        json=checkin_body(device_time="2026-03-02T09:00:00"),
                        headers=vol.headers)
    assert naive.status_code == 422


def test_task_lists_filter_and_hide_what_a_person_may_not_see(client, world, east):
    clock.freeze(START - dt.timedelta(days=1))
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    early = client.post(url(east, "/tasks"), json=task_body(title="early"),
                        headers=officer.headers).json
    later = START + dt.timedelta(days=3)
    client.post(url(east, "/tasks"), json=task_body(
        title="later", starts_at=later.isoformat(),
        ends_at=(later + dt.timedelta(hours=1)).isoformat()), headers=officer.headers)
    secret = client.post(url(east, "/tasks"), json=task_body(title="secret", visibility="private"),
                         headers=officer.headers).json
    client.post(url(east, f"/tasks/{early['id']}/signups"), json={}, headers=vol.headers)

    def titles(person, query=""):
        answer = client.get(url(east, f"/tasks{query}"), headers=person.headers)
        assert answer.status_code == 200, answer.json
        return [t["title"] for t in answer.json]

    assert titles(vol) == ["early", "later"]
    assert titles(officer) == ["early", "secret", "later"]
    assert titles(vol, "?mine=true") == ["early"]
    until = (START + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert titles(vol, f"?until={until}") == ["early"]
    assert titles(officer, "?status=cancelled") == []
    assert client.get(url(east, f"/tasks/{secret['id']}"), headers=vol.headers).status_code == 404
    # an officer may assign a volunteer to a private task; then they see it
    assigned = client.post(url(east, f"/tasks/{secret['id']}/signups"),
                           json={"user_id": vol.id}, headers=officer.headers)
    assert assigned.status_code == 201 and assigned.json["assigned_by"] == officer.id
    assert titles(vol) == ["early", "secret", "later"]
    assert client.post(url(east, f"/tasks/{early['id']}/signups"), json={"user_id": officer.id},
                       headers=vol.headers).status_code == 403


def test_officers_edit_cancel_and_see_who_signed_up(client, world, east, session):
    clock.freeze(START - dt.timedelta(days=1))
    officer = world.person("officer", station=east, roles=["officer"])
    a, b = (world.person(n, station=east, roles=["volunteer"]) for n in "ab")
    task = client.post(url(east, "/tasks"), json=task_body(capacity=1, waitlist=True),
                       headers=officer.headers).json
    path = url(east, f"/tasks/{task['id']}")
    client.post(f"{path}/signups", json={}, headers=a.headers)
    client.post(f"{path}/signups", json={}, headers=b.headers)
    people = client.get(f"{path}/signups", headers=officer.headers)
    assert [(p["display_name"], p["status"]) for p in people.json] == [
        ("a", "signed_up"), ("b", "waitlisted")]
    assert client.get(f"{path}/signups", headers=a.headers).status_code == 403
    below = client.patch(path, json={"capacity": 0}, headers=officer.headers)
    assert below.status_code == 422
    wider = client.patch(path, json={"capacity": 2, "title": "Two guards"},
                         headers=officer.headers)
    assert wider.status_code == 200 and wider.json["filled"] == 2
    assert wider.json["title"] == "Two guards"
    bad = client.patch(path, json={"ends_at": START.isoformat()}, headers=officer.headers)
    assert bad.status_code == 422 and bad.json["code"] == "task_window_invalid"
    cancelled = client.post(f"{path}/cancel", json={"reason": "Storm"}, headers=officer.headers)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    for person in (a, b):
        codes = [n["code"] for n in client.get("/api/v1/me/notifications",
                                               headers=person.headers).json]
        assert "core.task_cancelled" in codes
    again = client.post(f"{path}/cancel", json={}, headers=officer.headers)
    assert again.status_code == 409 and again.json["code"] == "task_not_open"
    actions = session.scalars(sa.text(
        "SELECT action FROM audit_event WHERE record_type = 'task' ORDER BY id")).all()
    assert actions == ["task.created", "task.updated", "task.cancelled"]


def test_task_settings_are_read_by_members_and_changed_by_admins(client, world, east, session):
    admin = world.person("admin", station=east, roles=["admin"])
    vol = world.person("v", station=east, roles=["volunteer"])
    path = url(east, "/task-settings")
    assert client.get(path, headers=vol.headers).json == geofence.DEFAULTS
    assert client.put(path, json={"accuracy_limit_m": 30},
                      headers=vol.headers).status_code == 403
    changed = client.put(path, json={"accuracy_limit_m": 30, "checkin_opens_minutes": 30},
                         headers=admin.headers)
    assert changed.status_code == 200 and changed.json["accuracy_limit_m"] == 30
    session.expire_all()
    assert geofence.station_rules(session.get(type(east), east.id).settings)[
        "checkin_opens_minutes"] == 30


def test_creating_a_task_of_an_unknown_kind_is_refused(client, world, east):
    officer = world.person("officer", station=east, roles=["officer"])
    answer = client.post(url(east, "/tasks"), json=task_body(kind="juggling"),
                         headers=officer.headers)
    assert answer.status_code == 422 and answer.json["code"] == "unknown_task_kind"


# PostgreSQL: concurrent sign-ups and check-ins never overfill or double-book ----------------------

def run_together(app, count, request):
    """Run ``request(client, i)`` from ``count`` threads released at once; return the answers."""
    import threading

    barrier = threading.Barrier(count)
    answers: list = [None] * count

    def worker(i: int) -> None:
        with app.test_client() as client:
            barrier.wait()
            answers[i] = request(client, i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


@pytest.mark.postgres_only
def test_thirty_volunteers_sign_up_at_once_for_three_places(app, live_world):
    world = live_world
    clock.freeze(START - dt.timedelta(days=1))
    east = world.station("east")
    task = make_task(world.session, east, capacity=3)
    people = [world.person(f"v{i}", station=east, roles=["volunteer"]) for i in range(30)]
    path = url(east, f"/tasks/{task.id}/signups")
    answers = run_together(app, 30, lambda client, i: client.post(
        path, json={}, headers=people[i].headers))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 3 + [409] * 27
    assert {a.json["code"] for a in answers if a.status_code == 409} == {"task_full"}
    session = world.session
    session.expire_all()
    held = session.scalars(sa.select(Assignment.status).where(Assignment.task_id == task.id)).all()
    assert held == ["signed_up"] * 3
    assert session.get(Task, task.id).filled == 3


@pytest.mark.postgres_only
def test_concurrent_withdrawals_promote_each_waiting_person_once(app, live_world):
    world = live_world
    clock.freeze(START - dt.timedelta(days=1))
    east = world.station("east")
    task = make_task(world.session, east, capacity=5, waitlist=True)
    people = [world.person(f"v{i}", station=east, roles=["volunteer"]) for i in range(10)]
    path = url(east, f"/tasks/{task.id}/signups")
    for person in people:
        assert world.client.post(path, json={}, headers=person.headers).status_code == 201
    answers = run_together(app, 5, lambda client, i: client.delete(
        f"{path}/me", headers=people[i].headers))
    assert [a.status_code for a in answers] == [204] * 5
    session = world.session
    session.expire_all()
    statuses = dict(session.execute(sa.select(Assignment.user_id, Assignment.status)
                                    .where(Assignment.task_id == task.id)).all())
    assert sorted(statuses[p.id] for p in people[5:]) == ["signed_up"] * 5
    assert session.get(Task, task.id).filled == 5
    promoted = session.scalars(sa.select(Notification.user_id).where(
        Notification.code == "core.waitlist_promoted")).all()
    assert sorted(promoted) == sorted(p.id for p in people[5:])


def test_a_closed_task_takes_late_check_outs_but_no_check_ins(session, world, east):
    clock.freeze(START)
    task = make_task(session, east)
    a, b = (world.person(n, station=east, roles=["volunteer"]) for n in "ab")
    tasks.sign_up(session, task, a.id)
    tasks.sign_up(session, task, b.id)
    check(session, task, a)
    tasks.finish_task(session, task)
    with pytest.raises(Conflict) as closed:
        check(session, task, b)
    assert closed.value.code == "task_not_open"
    assert tasks.mark_no_show(session, task, tasks.find_assignment(session, task, b.id))
    assert not tasks.mark_no_show(session, task, tasks.find_assignment(session, task, a.id))
    clock.advance(dt.timedelta(hours=2, minutes=30))
    late = check(session, task, a, kind="out")
    assert late.assignment.status == AssignmentStatus.COMPLETED and late.points == 10


def test_every_code_raised_or_notified_here_has_both_texts():
    import inspect
    import re

    from api.resources import inbox, points
    from api.resources import tasks as task_api
    from core import clock, ledger, messages, point_requests, task_requests

    codes = set()
    for module in (tasks, geofence, ledger, task_api, points, inbox, clock, point_requests,
                   task_requests):
        source = inspect.getsource(module)
        codes |= set(re.findall(r'(?:Invalid|Conflict|NotFound|PermissionDenied)\(\s*"(\w+)"',
                                source))
        codes |= set(re.findall(r'notify\(\s*session,\s*[^,]+,\s*"([\w.]+)"', source))
    assert {"task_full", "outside_geofence", "core.waitlist_promoted", "core.points_adjusted"} <= codes
    for code in sorted(codes):
        assert set(messages.MESSAGES.get(code, {})) >= {"en", "zh-CN"}, code


@pytest.mark.postgres_only
def test_concurrent_check_ins_record_one_and_report_the_rest(app, live_world):
    world = live_world
    clock.freeze(START)
    east = world.station("east")
    task = make_task(world.session, east, capacity=2)
    a, b = (world.person(n, station=east, roles=["volunteer"]) for n in "ab")
    for person in (a, b):
        tasks.sign_up(world.session, task, person.id)
    world.session.commit()
    path = url(east, f"/tasks/{task.id}/checkins")
    same = checkin_body()
    resent = run_together(app, 10, lambda client, i: client.post(path, json=same,
                                                                   headers=a.headers))
    assert sorted(r.status_code for r in resent) == [200] * 9 + [201]
    assert {r.json["id"] for r in resent} == {next(r.json["id"] for r in resent
                                                   if r.status_code == 201)}
    assert all(r.json["duplicate"] for r in resent if r.status_code == 200)
    assert {r.json["assignment_status"] for r in resent} == {"checked_in"}
    others = run_together(app, 10, lambda client, i: client.post(path, json=checkin_body(),
                                                                   headers=b.headers))
    assert sorted(r.status_code for r in others) == [201] + [409] * 9
    assert {r.json["code"] for r in others if r.status_code == 409} == {"already_checked_in"}
    session = world.session
    count = session.scalars(sa.select(Checkin.user_id).where(Checkin.task_id == task.id)).all()
    assert sorted(count) == sorted([a.id, b.id])


def test_officers_take_someone_off_and_read_every_check_in(client, world, east, session):
    clock.freeze(START)
    officer = world.person("officer", station=east, roles=["officer"])
    a, b, c = (world.person(n, station=east, roles=["volunteer"]) for n in "abc")
    task = client.post(url(east, "/tasks"), json=task_body(capacity=2, waitlist=True),
                       headers=officer.headers).json
    path = url(east, f"/tasks/{task['id']}")
    for person in (a, b, c):
        client.post(f"{path}/signups", json={}, headers=person.headers)
    client.post(f"{path}/checkins", json=checkin_body(), headers=a.headers)
    assert client.delete(f"{path}/signups/{b.id}", headers=a.headers).status_code == 403
    assert client.delete(f"{path}/signups/{b.id}", headers=officer.headers).status_code == 204
    assert client.delete(f"{path}/signups/{b.id}",
                         headers=officer.headers).json["code"] == "assignment_not_found"
    checked_in = client.delete(f"{path}/signups/{a.id}", headers=officer.headers)
    assert checked_in.status_code == 409 and checked_in.json["code"] == "cannot_withdraw"
    assert tasks.find_assignment(session, session.get(Task, task["id"]), c.id).status == \
        AssignmentStatus.SIGNED_UP
    client.post(f"{path}/checkins", json=checkin_body(), headers=c.headers)
    everyone = client.get(f"{path}/checkins", headers=officer.headers).json
    assert sorted(x["user_id"] for x in everyone) == sorted([a.id, c.id])
    own = client.get(f"{path}/checkins", headers=c.headers).json
    assert [x["user_id"] for x in own] == [c.id]
    audited = session.scalars(sa.text(
        "SELECT action FROM audit_event WHERE action = 'task.unassigned'")).all()
    assert audited == ["task.unassigned"]
