"""On the day, on a frozen clock: check-in at the post, points, no-shows, reminders, cover, records."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from core import clock, ledger
from core.jobs import run_due_jobs
from core.models import PointsEntry
from plugins.crossing_guard import jobs

# Monday 2 March 2026, 07:10-07:50 in Shanghai.
STARTS = dt.datetime(2026, 3, 1, 23, 10, tzinfo=dt.UTC)


def _day(crossing, posts=None):
    made = crossing.school(posts=posts or [{"name": "North gate", "min_guards": 2,
                                            "max_guards": 3}],
                           term=("2026-03-02", "2026-03-02"))
    crossing.generate(made["term"])
    made["shifts"] = crossing.shifts()
    return made


def _at(crossing, when):
    clock.freeze(when)
    crossing.refresh()


def _check(crossing, shift, who, kind, lat=35.0, lon=116.0):
    return crossing.post(f"/shifts/{shift['id']}/checkins", who, {
        "kind": kind, "lat": lat, "lon": lon, "accuracy_m": 8, "device_time": clock.now().isoformat(),
        "client_id": str(uuid.uuid4())})


def test_check_in_at_the_post_completes_the_shift_and_books_its_points(crossing):
    made = _day(crossing)
    shift = made["shifts"][0]
    guard = crossing.guard("Guard A")
    crossing.post(f"/shifts/{shift['id']}/signups", guard)
    _at(crossing, STARTS - dt.timedelta(minutes=5))
    far = _check(crossing, shift, guard, "in", lat=35.0045)  # some 500 m north
    assert far.status_code == 422 and far.json["code"] == "outside_geofence"
    assert far.json["details"]["radius_m"] == 50 and far.json["details"]["distance_m"] > 450
    inside = _check(crossing, shift, guard, "in", lat=35.0002)
    assert inside.status_code == 201 and inside.json["status"] == "checked_in"
    _at(crossing, STARTS + dt.timedelta(minutes=41))
    out = _check(crossing, shift, guard, "out")
    assert out.status_code == 201 and out.json["status"] == "completed"
    # The shift pays its own event, once; the core's generic completion does not pay as well.
    codes = dict(crossing.session.execute(
        sa.select(PointsEntry.event_code, PointsEntry.amount)
        .where(PointsEntry.user_id == guard.id)).all())
    assert codes == {"crossing_guard.shift_completed": 5}
    assert out.json["points"] == 5  # what the ledger booked
    assert ledger.balance(crossing.session, crossing.station.id, guard.id) == 5


def test_a_check_out_before_the_start_completes_nothing_and_pays_nothing(crossing):
    shift = _day(crossing)["shifts"][0]
    guard = crossing.guard("Guard A")
    crossing.post(f"/shifts/{shift['id']}/signups", guard)
    _at(crossing, STARTS - dt.timedelta(minutes=10))
    assert _check(crossing, shift, guard, "in").status_code == 201
    _at(crossing, STARTS - dt.timedelta(minutes=7))
    early = _check(crossing, shift, guard, "out")
    assert early.status_code == 422 and early.json["code"] == "checkout_before_start"
    detail = crossing.get(f"/shifts/{shift['id']}", crossing.leader).json
    assert [p["status"] for p in detail["roster"]] == ["checked_in"]
    assert ledger.balance(crossing.session, crossing.station.id, guard.id) == 0


def test_a_no_show_on_a_full_shift_gives_the_place_to_the_first_waiting(crossing, deployment):
    shift = _day(crossing, [{"name": "North gate", "min_guards": 1,
                             "max_guards": 1}])["shifts"][0]
    missed, first, second = (crossing.guard(n) for n in ("Guard A", "Guard B", "Guard C"))
    for guard in (missed, first, second):
        crossing.post(f"/shifts/{shift['id']}/signups", guard)
    _at(crossing, STARTS + dt.timedelta(minutes=10))
    run_due_jobs(deployment, clock.now())
    crossing.session.commit()
    detail = crossing.get(f"/shifts/{shift['id']}", crossing.leader).json
    assert {p["display_name"]: p["status"] for p in detail["roster"]} == {
        "Guard A": "no_show", "Guard B": "signed_up", "Guard C": "waitlisted"}
    assert len(crossing.notes(first, "core.waitlist_promoted")) == 1
    # The newcomer has the whole grace to arrive, and takes the place without task_full.
    _at(crossing, STARTS + dt.timedelta(minutes=15))
    run_due_jobs(deployment, clock.now())
    _at(crossing, STARTS + dt.timedelta(minutes=16))
    arrived = _check(crossing, shift, first, "in")
    assert arrived.status_code == 201 and arrived.json["status"] == "checked_in"


def test_the_points_follow_the_station_rule(crossing):
    from core.models import PointsRule

    crossing.session.add(PointsRule(station_id=crossing.station.id,
                                    event_code="crossing_guard.shift_completed", amount=8))
    crossing.session.commit()
    shift = _day(crossing)["shifts"][0]
    guard = crossing.guard("Guard A")
    crossing.post(f"/shifts/{shift['id']}/signups", guard)
    _at(crossing, STARTS)
    _check(crossing, shift, guard, "in")
    _check(crossing, shift, guard, "out")
    amount = crossing.session.scalar(sa.select(PointsEntry.amount).where(
        PointsEntry.user_id == guard.id,
        PointsEntry.event_code == "crossing_guard.shift_completed"))
    assert amount == 8


def test_no_shows_are_marked_after_the_grace_and_the_coordinator_is_told_once(crossing):
    shift = _day(crossing)["shifts"][0]
    came, missed = crossing.guard("Guard A"), crossing.guard("Guard B")
    for guard in (came, missed):
        crossing.post(f"/shifts/{shift['id']}/signups", guard)
    _at(crossing, STARTS - dt.timedelta(minutes=2))
    assert _check(crossing, shift, came, "in").status_code == 201
    station = crossing.station
    assert jobs.mark_no_shows(crossing.session, station, STARTS + dt.timedelta(minutes=9)) == 0
    assert jobs.mark_no_shows(crossing.session, station, STARTS + dt.timedelta(minutes=10)) == 1
    assert jobs.mark_no_shows(crossing.session, station, STARTS + dt.timedelta(minutes=15)) == 0
    crossing.session.commit()
    told = crossing.notes(crossing.leader, "crossing_guard.no_show")
    assert len(told) == 1
    assert told[0].params["names"] == "Guard B" and told[0].params["starts"] == "07:10"
    assert crossing.notes(came, "crossing_guard.no_show") == []
    detail = crossing.get(f"/shifts/{shift['id']}", crossing.leader).json
    assert {p["display_name"]: p["status"] for p in detail["roster"]} == {
        "Guard A": "checked_in", "Guard B": "no_show"}


def test_reminders_go_the_evening_before_and_an_hour_before_once_each(crossing):
    shift = _day(crossing, [{"name": "North gate", "min_guards": 1, "max_guards": 2}])["shifts"][0]
    first, second, waiting = (crossing.guard("Guard A"), crossing.guard("Guard B"),
                              crossing.guard("Guard C"))
    for guard in (first, second, waiting):
        crossing.post(f"/shifts/{shift['id']}/signups", guard)
    station, session = crossing.station, crossing.session
    evening = dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC)  # 19:00 in Shanghai
    assert jobs.send_reminders(session, station, evening - dt.timedelta(minutes=1)) == 0
    assert jobs.send_reminders(session, station, evening) == 2
    assert jobs.send_reminders(session, station, evening + dt.timedelta(minutes=5)) == 0
    assert jobs.send_reminders(session, station, STARTS - dt.timedelta(minutes=61)) == 0
    assert jobs.send_reminders(session, station, STARTS - dt.timedelta(minutes=60)) == 2
    assert jobs.send_reminders(session, station, STARTS - dt.timedelta(minutes=10)) == 0
    session.commit()
    for guard in (first, second):
        assert len(crossing.notes(guard, "crossing_guard.reminder_evening")) == 1
        hour = crossing.notes(guard, "crossing_guard.reminder_hour")
        assert len(hour) == 1 and hour[0].params["post"] == "North gate"
    assert crossing.notes(waiting) == []


def test_a_post_short_of_guards_asks_the_free_qualified_members_once(crossing):
    made = _day(crossing, [{"name": "North gate", "min_guards": 2, "max_guards": 3},
                           {"name": "South gate", "min_guards": 1, "max_guards": 2}])
    north, south = made["shifts"]
    on_north, on_south, free = (crossing.guard("Guard A"), crossing.guard("Guard B"),
                                crossing.guard("Guard C"))
    resident = crossing.guard("Resident", ["resident"])
    outsider = crossing.guard("Outsider", team=False)
    crossing.post(f"/shifts/{north['id']}/signups", on_north)
    crossing.post(f"/shifts/{south['id']}/signups", on_south)
    station, session = crossing.station, crossing.session
    assert jobs.request_cover(session, station, STARTS - dt.timedelta(hours=25)) == 0
    told = jobs.request_cover(session, station, STARTS - dt.timedelta(hours=23))
    assert jobs.request_cover(session, station, STARTS - dt.timedelta(hours=22)) == 0
    session.commit()
    asked = {p.id for p in (crossing.leader, free, on_north, on_south, resident, outsider)
             if crossing.notes(p, "crossing_guard.needs_cover")}
    assert asked == {crossing.leader.id, free.id} and told == 2
    note = crossing.notes(free, "crossing_guard.needs_cover")[0]
    assert (note.params["filled"], note.params["min_guards"]) == (1, 2)
    assert note.params["shift_id"] == north["id"]


def test_the_jobs_run_through_the_worker_entry_point(crossing, deployment):
    shift = _day(crossing)["shifts"][0]
    guard = crossing.guard("Guard A")
    crossing.post(f"/shifts/{shift['id']}/signups", guard)
    ran = run_due_jobs(deployment, STARTS - dt.timedelta(minutes=30))
    names = {name for name, station_id in ran if station_id == crossing.station.id}
    assert {"crossing_guard.reminders", "crossing_guard.no_shows",
            "crossing_guard.needs_cover"} <= names
    assert len(crossing.notes(guard, "crossing_guard.reminder_hour")) == 1
    # The post is below its minimum of 2 within the day: the free leader was asked.
    assert len(crossing.notes(crossing.leader, "crossing_guard.needs_cover")) == 1


def test_records_hours_no_shows_and_fill_rate(crossing):
    shift = _day(crossing)["shifts"][0]
    came, missed = crossing.guard("Guard A"), crossing.guard("Guard B")
    for guard in (came, missed):
        crossing.post(f"/shifts/{shift['id']}/signups", guard)
    _at(crossing, STARTS - dt.timedelta(minutes=4))
    _check(crossing, shift, came, "in")
    jobs.mark_no_shows(crossing.session, crossing.station, STARTS + dt.timedelta(minutes=10))
    crossing.session.commit()
    _at(crossing, STARTS + dt.timedelta(minutes=42))
    _check(crossing, shift, came, "out")

    hours = crossing.get("/reports/hours", crossing.leader)
    assert hours.status_code == 200, hours.json
    lines = {g["display_name"]: g for g in hours.json["guards"]}
    assert lines["Guard A"]["shifts_completed"] == 1
    assert lines["Guard A"]["scheduled_hours"] == 0.67
    assert lines["Guard A"]["on_site_hours"] == 0.77
    assert lines["Guard B"]["no_shows"] == 1 and lines["Guard B"]["shifts_completed"] == 0
    own = crossing.get("/reports/hours", missed)
    assert [g["display_name"] for g in own.json["guards"]] == ["Guard B"]

    fill = crossing.get("/reports/fill-rate", crossing.officer)
    assert fill.status_code == 200
    assert fill.json["weeks"] == [{
        "post_id": shift["post"]["id"], "post": "North gate", "school": "Sunny Primary",
        "week": "2026-W10", "shifts": 1, "places": 3, "taken": 2, "attended": 1,
        "below_minimum": 0, "fill_rate": 0.667}]
    refused = crossing.get("/reports/fill-rate", missed)
    assert refused.status_code == 403 and refused.json["code"] == "coordinator_required"
