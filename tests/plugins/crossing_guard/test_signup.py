"""Sign-up for one shift or a series, per-shift results, waitlist promotion, eligibility."""

from __future__ import annotations

import sqlalchemy as sa

from core.models import Assignment, AssignmentStatus, Task


def _setup(crossing, max_guards=2):
    made = crossing.school(posts=[{"name": "North gate", "min_guards": 1,
                                   "max_guards": max_guards}],
                           templates=[{"name": "Morning", "weekdays": [1, 5],
                                       "starts_time": "07:10", "ends_time": "07:50"}],
                           term=("2026-03-02", "2026-03-27"))
    crossing.generate(made["term"])
    return made


def test_series_sign_up_reports_each_shift_and_a_withdrawal_promotes_the_first_in_line(crossing):
    made = _setup(crossing)
    first, second, me = (crossing.guard("Guard A"), crossing.guard("Guard B"),
                         crossing.guard("Guard C"))
    mondays = [s for s in crossing.shifts() if s["date"] in ("2026-03-09", "2026-03-16")]
    for shift in mondays:  # two Mondays are full before I ask
        for guard in (first, second):
            assert crossing.post(f"/shifts/{shift['id']}/signups", guard).status_code == 201

    answer = crossing.post("/series-signups", me, {"template_id": made["templates"][0],
                                                   "weekdays": [1]})
    assert answer.status_code == 200, answer.json
    results = {r["date"]: r for r in answer.json["results"]}
    assert {d: r["result"] for d, r in results.items()} == {
        "2026-03-02": "signed_up", "2026-03-09": "waitlisted", "2026-03-16": "waitlisted",
        "2026-03-23": "signed_up"}
    assert results["2026-03-09"]["waitlist_position"] == 1
    assert (answer.json["signed_up"], answer.json["waitlisted"], answer.json["refused"]) == \
        (2, 2, 0)
    mine = crossing.shifts(me, mine=True)
    assert len(mine) == 4 and {s["my_status"] for s in mine} == {"signed_up", "waitlisted"}

    # First withdraws from 9 March (well before the cutoff): my place comes by itself.
    nine = results["2026-03-09"]["shift_id"]
    left = crossing.call("DELETE", f"/shifts/{nine}/signups/me", first)
    assert left.status_code == 204
    detail = crossing.get(f"/shifts/{nine}", me)
    assert detail.json["my_status"] == "signed_up" and detail.json["filled"] == 2
    assert {p["display_name"]: p["status"] for p in detail.json["roster"]} == {
        "Guard B": "signed_up", "Guard C": "signed_up"}
    promoted = crossing.notes(me, "core.waitlist_promoted")
    assert len(promoted) == 1 and promoted[0].params["task_id"] == detail.json["task_id"]


def test_series_without_waitlist_refuses_full_shifts_but_takes_the_rest(crossing):
    made = _setup(crossing, max_guards=1)
    other, me = crossing.guard("Guard A"), crossing.guard("Guard B")
    friday = next(s for s in crossing.shifts() if s["date"] == "2026-03-06")
    assert crossing.post(f"/shifts/{friday['id']}/signups", other).status_code == 201
    answer = crossing.post("/series-signups", me, {"template_id": made["templates"][0],
                                                   "weekdays": [5], "waitlist": False})
    results = {r["date"]: r["result"] for r in answer.json["results"]}
    assert results == {"2026-03-06": "task_full", "2026-03-13": "signed_up",
                       "2026-03-20": "signed_up", "2026-03-27": "signed_up"}
    waiting = crossing.session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
        Assignment.user_id == me.id, Assignment.status == AssignmentStatus.WAITLISTED))
    assert waiting == 0
    again = crossing.post("/series-signups", me, {"template_id": made["templates"][0],
                                                  "weekdays": [5]})
    assert {r["result"] for r in again.json["results"]} == {"waitlisted", "already_on_shift"}
    wrong_day = crossing.post("/series-signups", me, {"template_id": made["templates"][0],
                                                      "weekdays": [3]})
    assert wrong_day.status_code == 422 and wrong_day.json["code"] == "weekday_not_in_template"


def test_a_single_full_shift_without_waitlist_is_409_task_full(crossing):
    _setup(crossing, max_guards=1)
    other, me = crossing.guard("Guard A"), crossing.guard("Guard B")
    shift = crossing.shifts()[0]
    crossing.post(f"/shifts/{shift['id']}/signups", other)
    refused = crossing.post(f"/shifts/{shift['id']}/signups", me, {"waitlist": False})
    assert refused.status_code == 409 and refused.json["code"] == "task_full"
    waits = crossing.post(f"/shifts/{shift['id']}/signups", me)
    assert waits.status_code == 201 and waits.json["status"] == "waitlisted"
    assert waits.json["waitlist_position"] == 1
    twice = crossing.post(f"/shifts/{shift['id']}/signups", me)
    assert twice.status_code == 409 and twice.json["code"] == "already_on_shift"


def test_only_volunteers_and_officers_of_the_crossing_team_may_guard(crossing):
    _setup(crossing)
    shift = crossing.shifts()[0]
    resident = crossing.guard("Resident in team", ["resident"])
    outsider = crossing.guard("Volunteer not in team", ["volunteer"], team=False)
    officer = crossing.guard("Officer in team", ["officer"])
    for person in (resident, outsider):
        refused = crossing.post(f"/shifts/{shift['id']}/signups", person)
        assert refused.status_code == 403 and refused.json["code"] == "not_eligible"
    assert crossing.post(f"/shifts/{shift['id']}/signups", officer).status_code == 201
    task = crossing.session.get(Task, shift["task_id"])
    crossing.session.refresh(task)
    assert task.filled == 1


def test_a_school_with_its_own_team_takes_only_that_team(crossing):
    from core.models import Group, GroupMember

    other_team = Group(station_id=crossing.station.id, kind="crossing_team", name="Hill team")
    crossing.session.add(other_team)
    crossing.session.commit()
    made = _setup(crossing)
    linked = crossing.call("PATCH", f"/schools/{made['school']}", crossing.officer,
                           json={"team_group_id": other_team.id})
    assert linked.status_code == 200
    mine = crossing.guard("Main team guard")
    hill = crossing.guard("Hill guard", team=False)
    crossing.session.add(GroupMember(station_id=crossing.station.id, group_id=other_team.id,
                                     user_id=hill.id))
    crossing.session.commit()
    shift = crossing.shifts()[0]
    assert crossing.post(f"/shifts/{shift['id']}/signups", mine).json["code"] == "not_eligible"
    assert crossing.post(f"/shifts/{shift['id']}/signups", hill).status_code == 201


def test_a_guard_cannot_hold_two_shifts_at_the_same_time(crossing):
    made = crossing.school(posts=[{"name": "North gate"}, {"name": "South gate"}],
                           term=("2026-03-02", "2026-03-06"))
    crossing.generate(made["term"])
    guard = crossing.guard("Guard A")
    same_time = [s for s in crossing.shifts() if s["date"] == "2026-03-02"]
    assert len(same_time) == 2
    assert crossing.post(f"/shifts/{same_time[0]['id']}/signups", guard).status_code == 201
    clash = crossing.post(f"/shifts/{same_time[1]['id']}/signups", guard)
    assert clash.status_code == 409 and clash.json["code"] == "overlapping_shift"


def test_a_coordinator_puts_a_guard_on_a_shift_and_the_guard_is_told(crossing):
    _setup(crossing)
    guard, peer = crossing.guard("Guard A"), crossing.guard("Guard B")
    shift = crossing.shifts()[0]
    refused = crossing.post(f"/shifts/{shift['id']}/signups", peer, {"user_id": guard.id})
    assert refused.status_code == 403 and refused.json["code"] == "coordinator_required"
    placed = crossing.post(f"/shifts/{shift['id']}/signups", crossing.leader,
                           {"user_id": guard.id})
    assert placed.status_code == 201 and placed.json["user_id"] == guard.id
    assert len(crossing.notes(guard, "core.task_assigned")) == 1
