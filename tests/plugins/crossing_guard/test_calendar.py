"""Term generation in the station's time zone, closures, and changes reaching future shifts."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core.models import Task, TaskStatus
from plugins.crossing_guard.models import Shift
from tests.plugins.crossing_guard.conftest import build

TWO_TEMPLATES = [
    {"name": "Morning", "weekdays": [1, 5], "starts_time": "07:10", "ends_time": "07:50"},
    {"name": "Afternoon", "weekdays": [1, 5], "starts_time": "16:30", "ends_time": "17:10"},
]
# Mondays and Fridays from 2 March to 3 April 2026, less the closures made below:
# the school's exam day (Fri 13 March) and the station's holiday week (16-20 March).
OPEN_DAYS = ["2026-03-02", "2026-03-06", "2026-03-09", "2026-03-23", "2026-03-27",
             "2026-03-30", "2026-04-03"]


def _close(crossing, made):
    exam = crossing.post("/closures", crossing.officer, {
        "school_id": made["school"], "kind": "exam", "starts_on": "2026-03-13",
        "ends_on": "2026-03-13", "reason": "Exams"})
    holiday = crossing.post("/closures", crossing.officer, {
        "kind": "holiday", "starts_on": "2026-03-16", "ends_on": "2026-03-20",
        "reason": "Spring break"})
    assert exam.status_code == holiday.status_code == 201
    assert exam.json["shifts_cancelled"] == 0


def _starts(shifts):
    return sorted((s["date"], s["starts_at"], s["ends_at"]) for s in shifts)


def test_shanghai_term_skips_closures_and_a_second_run_creates_nothing(crossing):
    made = crossing.school(templates=TWO_TEMPLATES, term=("2026-03-02", "2026-04-03"))
    _close(crossing, made)
    first = crossing.generate(made["term"])
    assert first == {"created": 14, "existing": 0, "closed": 6, "past": 0, "cancelled": 0}
    shifts = crossing.shifts()
    assert sorted({s["date"] for s in shifts}) == OPEN_DAYS
    # No daylight saving in Shanghai: 07:10 local is 23:10 UTC the evening before, all term.
    monday = [s for s in shifts if s["date"] == "2026-03-02"]
    assert sorted((s["starts_at"], s["ends_at"]) for s in monday) == [
        ("2026-03-01T23:10:00+00:00", "2026-03-01T23:50:00+00:00"),
        ("2026-03-02T08:30:00+00:00", "2026-03-02T09:10:00+00:00")]
    late = [s for s in shifts if s["date"] == "2026-04-03"]
    assert min(s["starts_at"] for s in late) == "2026-04-02T23:10:00+00:00"
    first_shift = shifts[0]
    assert first_shift["capacity"] == 3 and first_shift["filled"] == 0
    assert first_shift["below_minimum"] is True and first_shift["post"]["min_guards"] == 2
    task = crossing.session.get(Task, first_shift["task_id"])
    assert task.kind == "crossing_shift" and task.waitlist is True
    assert (task.lat, task.lon, task.radius_m) == (35.0, 116.0, 50)

    again = crossing.generate(made["term"])
    assert again == {"created": 0, "existing": 14, "closed": 6, "past": 0, "cancelled": 0}
    assert _starts(crossing.shifts()) == _starts(shifts)
    count = crossing.session.scalar(sa.select(sa.func.count()).select_from(Shift).where(
        Shift.station_id == crossing.station.id))
    assert count == 14


def test_london_term_keeps_wall_clock_times_across_the_clock_change(world):
    from core import clock
    from tests.plugins.crossing_guard.conftest import FROZEN

    clock.freeze(FROZEN)
    crossing = build(world, code="london", timezone="Europe/London")
    made = crossing.school(templates=TWO_TEMPLATES, term=("2026-03-02", "2026-04-03"))
    _close(crossing, made)
    assert crossing.generate(made["term"])["created"] == 14
    shifts = crossing.shifts()
    assert sorted({s["date"] for s in shifts}) == OPEN_DAYS
    mornings = {s["date"]: s["starts_at"] for s in shifts if s["title"].endswith("Morning")}
    # GMT until Sunday 29 March, then BST (UTC+1): 07:10 on the wall clock all term.
    assert mornings["2026-03-27"] == "2026-03-27T07:10:00+00:00"
    assert mornings["2026-03-30"] == "2026-03-30T06:10:00+00:00"
    assert mornings["2026-04-03"] == "2026-04-03T06:10:00+00:00"
    afternoons = {s["date"]: s["ends_at"] for s in shifts if s["title"].endswith("Afternoon")}
    assert afternoons["2026-03-23"] == "2026-03-23T17:10:00+00:00"
    assert afternoons["2026-03-30"] == "2026-03-30T16:10:00+00:00"
    assert crossing.generate(made["term"])["created"] == 0


def test_days_already_begun_are_not_generated(crossing):
    from core import clock

    # Monday 2 March, 08:00 in Shanghai: the morning shift has begun, the afternoon has not.
    clock.freeze(dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC))
    crossing.refresh()
    made = crossing.school(templates=TWO_TEMPLATES, term=("2026-03-02", "2026-03-06"))
    assert crossing.generate(made["term"]) == {"created": 3, "existing": 0, "closed": 0,
                                                "past": 1, "cancelled": 0}


def test_a_new_closure_cancels_coming_shifts_tells_the_guards_and_can_be_undone(crossing):
    made = crossing.school(term=("2026-03-02", "2026-03-13"))
    crossing.generate(made["term"])
    guard = crossing.guard("Guard Wang")
    friday = next(s for s in crossing.shifts() if s["date"] == "2026-03-06")
    assert crossing.post(f"/shifts/{friday['id']}/signups", guard).status_code == 201

    closure = crossing.post("/closures", crossing.officer, {
        "kind": "adhoc", "starts_on": "2026-03-06", "ends_on": "2026-03-06",
        "reason": "Typhoon warning"})
    assert closure.status_code == 201 and closure.json["shifts_cancelled"] == 1
    assert "2026-03-06" not in {s["date"] for s in crossing.shifts()}
    cancelled = crossing.shifts(include_cancelled=True)
    gone = next(s for s in cancelled if s["id"] == friday["id"])
    assert gone["status"] == "cancelled" and gone["cancel_reason"] == "closure"
    told = crossing.notes(guard, "core.task_cancelled")
    assert len(told) == 1 and told[0].params["reason"] == "Typhoon warning"

    removed = crossing.call("DELETE", f"/closures/{closure.json['id']}", crossing.officer)
    assert removed.status_code == 204
    back = [s for s in crossing.shifts() if s["date"] == "2026-03-06"]
    assert len(back) == 1 and back[0]["id"] != friday["id"] and back[0]["status"] == "open"
    assert crossing.generate(made["term"])["created"] == 0


def test_a_template_change_moves_future_shifts_and_tells_the_people_on_them(crossing):
    made = crossing.school(term=("2026-03-02", "2026-03-13"))
    crossing.generate(made["term"])
    guard = crossing.guard("Guard Wang")
    waiting = crossing.guard("Guard Zhao")
    monday = next(s for s in crossing.shifts() if s["date"] == "2026-03-02")
    assert crossing.post(f"/shifts/{monday['id']}/signups", guard).status_code == 201

    changed = crossing.call("PATCH", f"/templates/{made['templates'][0]}", crossing.officer,
                            json={"starts_time": "07:00", "ends_time": "07:45",
                                  "weekdays": [1, 3]})
    assert changed.status_code == 200, changed.json
    # Mondays moved (2 and 9 March), Fridays went (6 and 13), Wednesdays came (4 and 11).
    assert changed.json["shifts"] == {"moved": 2, "cancelled": 2, "created": 2}
    shifts = crossing.shifts()
    assert sorted(s["date"] for s in shifts) == ["2026-03-02", "2026-03-04", "2026-03-09",
                                                 "2026-03-11"]
    moved = next(s for s in shifts if s["id"] == monday["id"])
    assert moved["starts_at"] == "2026-03-01T23:00:00+00:00"
    assert moved["ends_at"] == "2026-03-01T23:45:00+00:00"
    assert moved["my_status"] is None
    told = crossing.notes(guard, "crossing_guard.shift_changed")
    assert len(told) == 1
    assert told[0].params["starts"] == "07:00" and told[0].params["date"] == "2026-03-02"
    assert crossing.notes(waiting) == []
    shift = crossing.session.scalar(sa.select(Shift).where(Shift.id == monday["id"]))
    assert shift.sequence == 1


def test_a_post_switched_off_cancels_its_shifts_and_a_bigger_post_takes_more(crossing):
    made = crossing.school(term=("2026-03-02", "2026-03-06"))
    crossing.generate(made["term"])
    bigger = crossing.call("PATCH", f"/posts/{made['posts'][0]}", crossing.officer,
                           json={"max_guards": 5, "radius_m": 80})
    assert bigger.status_code == 200 and bigger.json["shifts"]["changed"] == 2
    assert {s["capacity"] for s in crossing.shifts()} == {5}
    off = crossing.call("PATCH", f"/posts/{made['posts'][0]}", crossing.officer,
                        json={"active": False})
    assert off.json["shifts"]["cancelled"] == 2 and crossing.shifts() == []
    tasks = crossing.session.scalars(sa.select(Task).where(
        Task.station_id == crossing.station.id)).all()
    assert {t.status for t in tasks} == {TaskStatus.CANCELLED}


def test_calendar_rules_and_who_may_plan(crossing):
    guard = crossing.guard("Guard Wang")
    refused = crossing.post("/schools", guard, {"name": "X", "lat": 1, "lon": 1})
    assert refused.status_code == 403 and refused.json["code"] == "role_required"
    made = crossing.school()
    bad_term = crossing.post("/terms", crossing.officer, {"name": "T", "starts_on": "2026-03-02",
                                                          "ends_on": "2026-03-01"})
    assert bad_term.status_code == 422 and bad_term.json["code"] == "dates_out_of_order"
    bad_times = crossing.post(f"/posts/{made['posts'][0]}/templates", crossing.officer, {
        "name": "Backwards", "weekdays": [1], "starts_time": "08:00", "ends_time": "07:00"})
    assert bad_times.status_code == 422 and bad_times.json["code"] == "times_out_of_order"
    bad_day = crossing.post(f"/posts/{made['posts'][0]}/templates", crossing.officer, {
        "name": "Bad", "weekdays": [0], "starts_time": "07:00", "ends_time": "08:00"})
    assert bad_day.status_code == 422
    bad_guards = crossing.post(f"/schools/{made['school']}/posts", crossing.officer, {
        "name": "Corner", "kind": "crossing", "lat": 1, "lon": 1, "min_guards": 4,
        "max_guards": 2})
    assert bad_guards.status_code == 422 and bad_guards.json["code"] == "guards_out_of_order"
    twice = crossing.post("/schools", crossing.officer, {"name": "Sunny Primary", "lat": 1,
                                                         "lon": 1})
    assert twice.status_code == 409 and twice.json["code"] == "school_name_taken"
    not_team = crossing.post("/schools", crossing.officer, {"name": "Other", "lat": 1, "lon": 1,
                                                            "team_group_id": 999999})
    assert not_team.status_code == 422
    busy = crossing.call("DELETE", f"/schools/{made['school']}", crossing.officer)
    assert busy.status_code == 409 and busy.json["code"] == "school_has_posts"


def test_plugin_switched_off_is_404_and_strangers_see_nothing(crossing, world):
    other = world.station("west")
    stranger = world.person("Stranger", station=other, roles=["officer"])
    hidden = world.client.get("/api/v1/stations/east/crossing-guard/schools",
                              headers=stranger.headers)
    assert hidden.status_code == 404 and hidden.json["code"] == "station_not_found"
    member = world.person("Member", station=other, roles=["officer"])
    off = world.client.get("/api/v1/stations/west/crossing-guard/schools",
                           headers=member.headers)
    assert off.status_code == 404 and off.json["code"] == "plugin_disabled"
