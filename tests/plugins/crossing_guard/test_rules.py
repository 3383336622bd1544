"""The withdrawal cutoff, a coordinator's release, and swaps: each rule with its error code."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock
from core.models import Assignment, Task
from plugins.crossing_guard.models import SwapOffer

# The first shift below: Monday 2 March 2026, 07:10 in Shanghai = Sunday 23:10 UTC.
STARTS = dt.datetime(2026, 3, 1, 23, 10, tzinfo=dt.UTC)


def _shift(crossing, max_guards=2):
    made = crossing.school(posts=[{"name": "North gate", "min_guards": 1,
                                   "max_guards": max_guards}],
                           term=("2026-03-02", "2026-03-06"))
    crossing.generate(made["term"])
    return next(s for s in crossing.shifts() if s["date"] == "2026-03-02")


def _statuses(crossing, shift):
    rows = crossing.session.execute(sa.select(Assignment.user_id, Assignment.status).where(
        Assignment.task_id == shift["task_id"])).all()
    return {user_id: str(status) for user_id, status in rows}


def test_after_the_cutoff_only_a_coordinator_can_release_a_guard(crossing):
    shift = _shift(crossing)
    guard, waiting, peer = (crossing.guard("Guard A"), crossing.guard("Guard B"),
                            crossing.guard("Guard C"))
    crossing.post(f"/shifts/{shift['id']}/signups", guard)
    crossing.post(f"/shifts/{shift['id']}/signups", peer)
    crossing.post(f"/shifts/{shift['id']}/signups", waiting)  # third: waitlisted
    clock.freeze(STARTS - dt.timedelta(hours=11))  # inside the default 12 hours
    crossing.refresh()
    late = crossing.call("DELETE", f"/shifts/{shift['id']}/signups/me", guard)
    assert late.status_code == 409 and late.json["code"] == "withdrawal_cutoff_passed"
    assert late.json["details"]["cutoff_hours"] == 12
    assert "12" in late.json["message"]
    # Leaving a waitlist costs nobody a guard: always allowed.
    assert crossing.call("DELETE", f"/shifts/{shift['id']}/signups/me", waiting).status_code == 204
    crossing.post(f"/shifts/{shift['id']}/signups", waiting)

    not_coordinator = crossing.call("DELETE", f"/shifts/{shift['id']}/signups/{guard.id}",
                                    peer)
    assert not_coordinator.status_code == 403
    assert not_coordinator.json["code"] == "coordinator_required"
    released = crossing.call("DELETE", f"/shifts/{shift['id']}/signups/{guard.id}",
                             crossing.leader)
    assert released.status_code == 204
    assert _statuses(crossing, shift) == {guard.id: "withdrawn", peer.id: "signed_up",
                                          waiting.id: "signed_up"}
    told = crossing.notes(guard, "crossing_guard.released")
    assert len(told) == 1 and told[0].params["starts"] == "07:10"
    again = crossing.call("DELETE", f"/shifts/{shift['id']}/signups/{guard.id}",
                          crossing.leader)
    assert again.status_code == 404 and again.json["code"] == "not_on_shift"


def test_the_cutoff_is_a_station_setting(crossing):
    crossing.settings(withdrawal_cutoff_hours=2)
    shift = _shift(crossing)
    guard = crossing.guard("Guard A")
    crossing.post(f"/shifts/{shift['id']}/signups", guard)
    clock.freeze(STARTS - dt.timedelta(hours=3))
    crossing.refresh()
    assert crossing.call("DELETE", f"/shifts/{shift['id']}/signups/me", guard).status_code == 204
    crossing.post(f"/shifts/{shift['id']}/signups", guard)
    clock.freeze(STARTS - dt.timedelta(minutes=90))
    crossing.refresh()
    late = crossing.call("DELETE", f"/shifts/{shift['id']}/signups/me", guard)
    assert late.status_code == 409 and late.json["details"]["cutoff_hours"] == 2
    clock.freeze(STARTS + dt.timedelta(minutes=1))
    crossing.refresh()
    started = crossing.call("DELETE", f"/shifts/{shift['id']}/signups/{guard.id}",
                            crossing.leader)
    assert started.status_code == 409 and started.json["code"] == "shift_started"


def test_a_swap_changes_hands_in_one_step_past_the_waitlist(crossing):
    shift = _shift(crossing, max_guards=1)
    giver, waiting, taker = (crossing.guard("Guard A"), crossing.guard("Guard B"),
                             crossing.guard("Guard C"))
    crossing.post(f"/shifts/{shift['id']}/signups", giver)
    crossing.post(f"/shifts/{shift['id']}/signups", waiting)
    clock.freeze(STARTS - dt.timedelta(hours=6))  # past the cutoff: a swap is the way out
    crossing.refresh()
    offered = crossing.post(f"/shifts/{shift['id']}/swap-offers", giver, {"note": "Sick child"})
    assert offered.status_code == 201 and offered.json["status"] == "open"
    # Free qualified guards hear of it; the one already waiting on this shift too is skipped.
    assert len(crossing.notes(taker, "crossing_guard.swap_offered")) == 1
    assert crossing.notes(giver, "crossing_guard.swap_offered") == []
    assert crossing.notes(waiting, "crossing_guard.swap_offered") == []
    listed = crossing.get("/swap-offers", taker, query_string={"status": "open"})
    assert [o["id"] for o in listed.json] == [offered.json["id"]]

    taken = crossing.post(f"/swap-offers/{offered.json['id']}/take", taker)
    assert taken.status_code == 200, taken.json
    assert taken.json["status"] == "taken" and taken.json["taken_by"] == taker.id
    assert _statuses(crossing, shift) == {giver.id: "withdrawn", waiting.id: "waitlisted",
                                          taker.id: "signed_up"}
    task = crossing.session.get(Task, shift["task_id"])
    crossing.session.refresh(task)
    assert task.filled == 1
    assert len(crossing.notes(giver, "crossing_guard.swap_taken")) == 1
    assert crossing.notes(waiting, "core.waitlist_promoted") == []
    again = crossing.post(f"/swap-offers/{offered.json['id']}/take", waiting)
    assert again.status_code == 409 and again.json["code"] == "swap_not_open"


def test_swap_rules_each_with_its_code(crossing):
    shift = _shift(crossing)
    giver, other, named = (crossing.guard("Guard A"), crossing.guard("Guard B"),
                           crossing.guard("Guard C"))
    resident = crossing.guard("Resident", ["resident"])
    outsider = crossing.guard("Outsider", team=False)
    crossing.post(f"/shifts/{shift['id']}/signups", giver)

    not_mine = crossing.post(f"/shifts/{shift['id']}/swap-offers", other)
    assert not_mine.status_code == 409 and not_mine.json["code"] == "not_on_shift"
    offer = crossing.post(f"/shifts/{shift['id']}/swap-offers", giver)
    twice = crossing.post(f"/shifts/{shift['id']}/swap-offers", giver)
    assert twice.status_code == 409 and twice.json["code"] == "swap_already_offered"
    own = crossing.post(f"/swap-offers/{offer.json['id']}/take", giver)
    assert own.status_code == 409 and own.json["code"] == "swap_own_offer"
    for person in (resident, outsider):
        refused = crossing.post(f"/swap-offers/{offer.json['id']}/take", person)
        assert refused.status_code == 403 and refused.json["code"] == "not_eligible"
    not_yours = crossing.call("DELETE", f"/swap-offers/{offer.json['id']}", other)
    assert not_yours.status_code == 403 and not_yours.json["code"] == "swap_offer_not_yours"
    withdrawn = crossing.call("DELETE", f"/swap-offers/{offer.json['id']}", giver)
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "cancelled"
    gone = crossing.post(f"/swap-offers/{offer.json['id']}/take", other)
    assert gone.status_code == 409 and gone.json["code"] == "swap_not_open"

    to_named = crossing.post(f"/shifts/{shift['id']}/swap-offers", giver,
                             {"offered_to": named.id})
    assert to_named.status_code == 201
    assert crossing.notes(other, "crossing_guard.swap_offered") != []  # from the first offer
    assert len(crossing.notes(named, "crossing_guard.swap_offered")) == 2
    wrong = crossing.post(f"/swap-offers/{to_named.json['id']}/take", other)
    assert wrong.status_code == 403 and wrong.json["code"] == "swap_offered_to_other"
    hidden = crossing.get("/swap-offers", other, query_string={"status": "open"})
    assert hidden.json == []
    crossing.post(f"/shifts/{shift['id']}/signups", named)
    on_it = crossing.post(f"/swap-offers/{to_named.json['id']}/take", named)
    assert on_it.status_code == 409 and on_it.json["code"] == "already_on_shift"
    crossing.call("DELETE", f"/shifts/{shift['id']}/signups/me", named)
    # Withdrawing from the shift takes the giver's open offers with it.
    crossing.call("DELETE", f"/shifts/{shift['id']}/signups/me", giver)
    offer_row = crossing.session.get(SwapOffer, to_named.json["id"])
    crossing.session.refresh(offer_row)
    assert str(offer_row.status) == "cancelled"

    crossing.post(f"/shifts/{shift['id']}/signups", giver)
    late = crossing.post(f"/shifts/{shift['id']}/swap-offers", giver)
    clock.freeze(STARTS + dt.timedelta(minutes=5))
    crossing.refresh()
    started = crossing.post(f"/swap-offers/{late.json['id']}/take", other)
    assert started.status_code == 409 and started.json["code"] == "shift_started"


def test_a_swap_is_refused_to_someone_busy_at_that_time(crossing):
    made = crossing.school(posts=[{"name": "North gate"}, {"name": "South gate"}],
                           term=("2026-03-02", "2026-03-02"))
    crossing.generate(made["term"])
    north, south = crossing.shifts()
    giver, busy = crossing.guard("Guard A"), crossing.guard("Guard B")
    crossing.post(f"/shifts/{north['id']}/signups", giver)
    crossing.post(f"/shifts/{south['id']}/signups", busy)
    offer = crossing.post(f"/shifts/{north['id']}/swap-offers", giver)
    clash = crossing.post(f"/swap-offers/{offer.json['id']}/take", busy)
    assert clash.status_code == 409 and clash.json["code"] == "overlapping_shift"


def test_the_core_task_endpoints_cannot_get_round_the_rules(crossing):
    """Shifts are signed up for and left only through the plugin, which checks the team and
    the cutoff: the core's generic endpoints refuse before anything changes."""
    shift = _shift(crossing)
    outsider = crossing.guard("Outsider", team=False)
    guard = crossing.guard("Guard A")
    core = f"/api/v1/stations/east/tasks/{shift['task_id']}"
    refused = crossing.client.post(f"{core}/signups", headers=outsider.headers, json={})
    assert refused.status_code == 403 and refused.json["code"] == "task_managed_by_plugin"
    assert refused.json["details"] == {"kind": "crossing_shift", "action": "sign_up",
                                       "plugin": "crossing_guard"}
    assert crossing.post(f"/shifts/{shift['id']}/signups", guard).status_code == 201
    clock.freeze(STARTS - dt.timedelta(hours=2))
    crossing.refresh()
    late = crossing.client.delete(f"{core}/signups/me", headers=guard.headers)
    assert late.status_code == 403 and late.json["code"] == "task_managed_by_plugin"
    for method, path, body in (("PATCH", "", {"capacity": 9}), ("POST", "/cancel", {}),
                               ("POST", "/signups", {"user_id": outsider.id})):
        answer = crossing.client.open(f"{core}{path}", method=method, json=body,
                                      headers=crossing.officer.headers)
        assert answer.status_code == 403, (path, answer.json)
        assert answer.json["code"] == "task_managed_by_plugin"
    assert _statuses(crossing, shift) == {guard.id: "signed_up"}


def test_the_core_cannot_post_a_shift_of_its_own(crossing):
    """Shifts come from templates; a hand-made crossing_shift task would belong to no post."""
    answer = crossing.client.post("/api/v1/stations/east/tasks", headers=crossing.officer.headers, json={
        "kind": "crossing_shift", "title": "Shift", "starts_at": "2026-09-07T07:10:00+08:00",
        "ends_at": "2026-09-07T07:50:00+08:00", "capacity": 2})
    assert answer.status_code == 422 and answer.json["code"] == "task_kind_managed"
