"""Points: rules as data, balances and entries, adjustments, spending, earn-once, leaderboards."""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, ledger, stations, tasks
from core.access import load_actor
from core.errors import Conflict, Invalid
from core.models import AuditEvent, Notification, PointsBalance, PointsEntry, PointsRule
from tests.test_tasks import HERE, START, checkin_body, signed_in_again, url


@pytest.fixture
def east(world):
    return world.station("east")


def award(session, station, person, amount, source, at=None):
    if at is not None:
        clock.freeze(at)
    entry = ledger.award(session, station_id=station.id, user_id=person.id,
                         event_code="core.task_completed", source_type="test",
                         source_id=source, amount=amount)
    session.commit()
    return entry


def ledger_sum(session, station, person):
    return session.scalar(sa.select(sa.func.coalesce(sa.func.sum(PointsEntry.amount), 0)).where(
        PointsEntry.station_id == station.id, PointsEntry.user_id == person.id))


# Rules ------------------------------------------------------------------------------------------

def test_rules_list_defaults_and_overrides_and_change_only_what_comes_after(
        client, world, east, session):
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    path = url(east, "/points/rules")
    assert client.get(path, headers=vol.headers).status_code == 403
    listed = client.get(path, headers=officer.headers)
    assert listed.status_code == 200
    assert {"event_code": "core.task_completed", "default": 10, "override": None,
            "amount": 10} in listed.json["rules"]
    award(session, east, vol, None, "before")
    changed = client.put(path, json={"rules": {"core.task_completed": 25}}, headers=officer.headers)
    assert changed.status_code == 200
    assert {"event_code": "core.task_completed", "default": 10, "override": 25,
            "amount": 25} in changed.json["rules"]
    award(session, east, vol, None, "after")
    amounts = session.scalars(sa.select(PointsEntry.amount).where(PointsEntry.user_id == vol.id)
                              .order_by(PointsEntry.id)).all()
    assert amounts == [10, 25]  # the earlier entry keeps its amount
    back = client.put(path, json={"rules": {"core.task_completed": None}}, headers=officer.headers)
    assert {"event_code": "core.task_completed", "default": 10, "override": None,
            "amount": 10} in back.json["rules"]
    assert session.scalar(sa.select(sa.func.count()).select_from(PointsRule)) == 0
    unknown = client.put(path, json={"rules": {"core.juggling": 3}}, headers=officer.headers)
    assert unknown.status_code == 422 and unknown.json["code"] == "unknown_event_code"
    negative = client.put(path, json={"rules": {"core.task_completed": -1}},
                          headers=officer.headers)
    assert negative.status_code == 422
    audits = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action == "points.rules_changed")).all()
    assert len(audits) == 2


# Balance, entries, adjustments ------------------------------------------------------------------

def test_balance_and_entries_are_mine_and_officers_see_anyone(client, world, east, session):
    officer = world.person("officer", station=east, roles=["officer"])
    a, b = (world.person(n, station=east, roles=["volunteer"]) for n in "ab")
    award(session, east, a, 4, "x")
    award(session, east, b, 6, "y")
    assert client.get(url(east, "/points/balance"), headers=a.headers).json == {
        "user_id": a.id, "balance": 4}
    peek = client.get(url(east, f"/points/balance?user_id={b.id}"), headers=a.headers)
    assert peek.status_code == 403
    assert client.get(url(east, f"/points/entries?user_id={b.id}"),
                      headers=a.headers).status_code == 403
    assert client.get(url(east, f"/points/balance?user_id={b.id}"),
                      headers=officer.headers).json["balance"] == 6
    theirs = client.get(url(east, f"/points/entries?user_id={b.id}"), headers=officer.headers)
    assert [(e["user_id"], e["amount"]) for e in theirs.json] == [(b.id, 6)]
    everyone = client.get(url(east, "/points/entries"), headers=officer.headers)
    assert sorted(e["amount"] for e in everyone.json) == [4, 6]
    assert everyone.headers["X-Pagination"]


def test_adjustments_are_audited_notified_and_never_go_below_zero(client, world, east, session):
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    outsider = world.person("x")
    path = url(east, "/points/adjustments")
    assert client.post(path, json={"user_id": vol.id, "amount": 5, "reason": "x"},
                       headers=vol.headers).status_code == 403
    plus = client.post(path, json={"user_id": vol.id, "amount": 8, "reason": "Flood duty"},
                       headers=officer.headers)
    assert plus.status_code == 201 and plus.json["amount"] == 8
    assert plus.json["created_by"] == officer.id and plus.json["note"] == "Flood duty"
    minus = client.post(path, json={"user_id": vol.id, "amount": -3, "reason": "Double booked"},
                        headers=officer.headers)
    assert minus.status_code == 201 and minus.json["amount"] == -3
    too_much = client.post(path, json={"user_id": vol.id, "amount": -6, "reason": "Oops"},
                           headers=officer.headers)
    assert too_much.status_code == 409 and too_much.json["code"] == "insufficient_points"
    assert too_much.json["details"] == {"needed": 6, "balance": 5}
    assert client.post(path, json={"user_id": vol.id, "amount": 1, "reason": ""},
                       headers=officer.headers).status_code == 422
    assert client.post(path, json={"user_id": vol.id, "amount": 0, "reason": "zero"},
                       headers=officer.headers).status_code == 422
    stranger = client.post(path, json={"user_id": outsider.id, "amount": 1, "reason": "r"},
                           headers=officer.headers)
    assert stranger.status_code == 422 and stranger.json["code"] == "not_a_member"
    assert ledger.balance(session, east.id, vol.id) == 5 == ledger_sum(session, east, vol)
    audited = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "points.adjusted").order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.details["amount"], e.details["reason"]) for e in audited] == [
        (officer.id, 8, "Flood duty"), (officer.id, -3, "Double booked")]
    told = session.scalars(sa.select(Notification.params).where(
        Notification.user_id == vol.id, Notification.code == "core.points_adjusted")).all()
    assert [p["amount"] for p in told] == ["+8", "-3"]


# Spending and the ledger invariant --------------------------------------------------------------

def test_spend_refuses_overdraft_and_a_second_spend_of_one_source(session, world, east):
    vol = world.person("v", station=east, roles=["volunteer"])
    award(session, east, vol, 10, "seed")
    with pytest.raises(Conflict) as poor:
        ledger.spend(session, station_id=east.id, user_id=vol.id, amount=11,
                     event_code="shop.coupon", source_type="coupon", source_id="c1")
    assert poor.value.code == "insufficient_points"
    ledger.spend(session, station_id=east.id, user_id=vol.id, amount=4,
                 event_code="shop.coupon", source_type="coupon", source_id="c1")
    with pytest.raises(Conflict) as twice:
        ledger.spend(session, station_id=east.id, user_id=vol.id, amount=4,
                     event_code="shop.coupon", source_type="coupon", source_id="c1")
    assert twice.value.code == "already_spent"
    # a refused spend left nothing behind although the caller carried on
    session.commit()
    assert ledger.balance(session, east.id, vol.id) == 6 == ledger_sum(session, east, vol)


def test_spending_the_whole_balance_leaves_zero_and_nothing_or_less_is_refused(
        session, world, east):
    vol = world.person("v", station=east, roles=["volunteer"])
    award(session, east, vol, 10, "seed")
    for amount in (0, -3):
        with pytest.raises(Invalid) as bad:
            ledger.spend(session, station_id=east.id, user_id=vol.id, amount=amount,
                         event_code="shop.coupon", source_type="coupon", source_id=f"c{amount}")
        assert (bad.value.code, bad.value.details) == ("validation_error", {"field": "amount"})
    entry = ledger.spend(session, station_id=east.id, user_id=vol.id, amount=10,
                         event_code="shop.coupon", source_type="coupon", source_id="all")
    session.commit()
    assert (entry.amount, entry.source_type, entry.source_id, entry.note) == (
        -10, "coupon", "all", "")
    award(session, east, vol, 2, "more")
    noted = ledger.spend(session, station_id=east.id, user_id=vol.id, amount=2,
                         event_code="shop.coupon", source_type="coupon", source_id=7,
                         note="Tea")
    assert (noted.source_id, noted.note) == ("7", "Tea")
    assert ledger.balance(session, east.id, vol.id) == 0 == ledger_sum(session, east, vol)


def test_spends_and_balances_are_per_station(session, world, east):
    west = world.station("west")
    vol = world.person("v", station=east, roles=["volunteer"])
    award(session, east, vol, 10, "east")
    award(session, west, vol, 3, "west")
    with pytest.raises(Conflict) as poor:
        ledger.spend(session, station_id=west.id, user_id=vol.id, amount=4,
                     event_code="shop.coupon", source_type="coupon", source_id="w")
    assert poor.value.details == {"needed": 4, "balance": 3}
    ledger.spend(session, station_id=east.id, user_id=vol.id, amount=4,
                 event_code="shop.coupon", source_type="coupon", source_id="e")
    session.commit()
    assert (ledger.balance(session, east.id, vol.id), ledger.balance(session, west.id, vol.id)) == (
        6, 3)


def test_a_rule_of_nothing_books_nothing_and_a_rule_of_one_books_one(session, world, east):
    vol = world.person("v", station=east, roles=["volunteer"])
    ledger.set_rules(session, east.id, {"core.task_completed": 0})
    assert ledger.award(session, station_id=east.id, user_id=vol.id,
                        event_code="core.task_completed", source_type="t", source_id=1) is None
    assert ledger.award_many(session, station_id=east.id, user_id=vol.id,
                             event_code="core.task_completed", source_type="t",
                             source_ids=[2, 3]) == 0
    ledger.set_rules(session, east.id, {"core.task_completed": 1})
    entry = ledger.award(session, station_id=east.id, user_id=vol.id,
                         event_code="core.task_completed", source_type="t", source_id=1)
    assert entry is not None and (entry.amount, entry.note) == (1, "")
    assert ledger.award_many(session, station_id=east.id, user_id=vol.id,
                             event_code="core.task_completed", source_type="t",
                             source_ids=[2, 3, 3]) == 2
    # Given amounts win over the rule; an event no rule or default knows is worth nothing.
    noted = ledger.award(session, station_id=east.id, user_id=vol.id,
                         event_code="core.task_completed", source_type="t", source_id=4,
                         note="Flood duty", amount=6)
    assert (noted.amount, noted.note) == (6, "Flood duty")
    assert ledger.award_many(session, station_id=east.id, user_id=vol.id,
                             event_code="core.task_completed", source_type="m",
                             source_ids=[5, 6], amount=2) == 4
    assert ledger.amount_for(session, east.id, "core.juggling") == 0
    assert ledger.award(session, station_id=east.id, user_id=vol.id, event_code="core.juggling",
                        source_type="t", source_id=7) is None
    session.commit()
    assert ledger.balance(session, east.id, vol.id) == 13 == ledger_sum(session, east, vol)
    notes = session.scalars(sa.select(PointsEntry.note).where(
        PointsEntry.user_id == vol.id, PointsEntry.source_type == "m")).all()
    assert notes == ["", ""]


def test_adjustments_book_their_own_event_once_per_source_and_never_nothing(
        session, world, east):
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])

    def adjust(amount, source, reason="Flood duty"):
        return ledger.adjust(session, station_id=east.id, user_id=vol.id, amount=amount,
                             reason=reason, by=officer.id, source_id=source)

    with pytest.raises(Invalid) as nothing:
        adjust(0, "zero")
    assert (nothing.value.code, nothing.value.details) == ("validation_error", {"field": "amount"})
    plus, one = adjust(5, "s1"), adjust(1, "s2")
    with pytest.raises(Conflict) as again:
        adjust(5, "s1")
    assert again.value.code == "already_spent"
    minus = adjust(-2, "s3", "Double booked")
    session.commit()
    assert [(e.amount, e.event_code, e.source_type, e.source_id, e.note, e.created_by)
            for e in (plus, one, minus)] == [
        (5, "core.adjustment", "adjustment", "s1", "Flood duty", officer.id),
        (1, "core.adjustment", "adjustment", "s2", "Flood duty", officer.id),
        (-2, "core.adjustment", "adjustment", "s3", "Double booked", officer.id)]
    assert ledger.balance(session, east.id, vol.id) == 4 == ledger_sum(session, east, vol)


def test_rules_are_per_station_and_refuse_unknown_events_and_kinds(session, world, east):
    west = world.station("west")
    ledger.set_rules(session, east.id, {"core.task_completed": 25})
    ledger.set_rules(session, west.id, {"core.task_completed": 7})
    ledger.set_rules(session, east.id, {"patrol.checkpoint_ok": 4})
    ledger.set_rules(session, east.id, {"core.task_completed": 30})  # changes east's own rule
    assert ledger.amount_for(session, east.id, "core.task_completed") == 30
    assert ledger.amount_for(session, east.id, "patrol.checkpoint_ok") == 4
    assert ledger.amount_for(session, west.id, "core.task_completed") == 7
    with pytest.raises(Invalid) as unknown:
        ledger.set_rules(session, east.id, {"core.juggling": 3})
    assert (unknown.value.code, unknown.value.details) == (
        "unknown_event_code", {"field": "rules", "event_code": "core.juggling"})
    with pytest.raises(Invalid) as negative:
        ledger.set_rules(session, east.id, {"core.task_completed": -1})
    assert (negative.value.code, negative.value.details) == (
        "validation_error", {"field": "rules"})
    with pytest.raises(Invalid) as kind:
        ledger.set_task_completed_also_for(session, east, ["juggling"])
    assert (kind.value.code, kind.value.details) == (
        "unknown_task_kind", {"field": "task_completed_also_for", "kind": "juggling"})
    with pytest.raises(Invalid) as pays:
        ledger.set_task_completed_also_for(session, east, ["general"])
    assert (pays.value.code, pays.value.details) == (
        "task_kind_pays_task_completed", {"field": "task_completed_also_for", "kind": "general"})


def test_booked_for_sums_one_source_of_one_person_in_one_station(session, world, east):
    west = world.station("west")
    vol, other = (world.person(n, station=east, roles=["volunteer"]) for n in ("v", "o"))
    award(session, east, vol, 4, "s1")
    ledger.award(session, station_id=east.id, user_id=vol.id, event_code="core.task_completed",
                 source_type="bonus", source_id="s1", amount=2)
    ledger.award(session, station_id=east.id, user_id=vol.id, event_code="core.task_completed",
                 source_type="other", source_id="s1", amount=100)
    award(session, east, vol, 8, "s2")
    award(session, east, other, 16, "s1")
    award(session, west, vol, 32, "s1")

    def booked(types, source, station=east, person=vol):
        return ledger.booked_for(session, station_id=station.id, user_id=person.id,
                                 source_types=types, source_id=source)

    assert booked(["test", "bonus"], "s1") == 6
    assert booked(["test"], "s2") == 8
    assert booked(["test"], "s1", person=other) == 16
    assert booked(["test"], "s1", station=west) == 32
    assert booked(["test"], "none") == 0


def test_a_rule_left_behind_by_a_removed_default_still_lists(session, east, deployment,
                                                              monkeypatch):
    ledger.set_rules(session, east.id, {"patrol.checkpoint_ok": 3})
    # The deployment no longer knows the event (its plugin left plugins.toml).
    monkeypatch.delitem(deployment.points_defaults, "patrol.checkpoint_ok")
    [rule] = [r for r in ledger.rules(session, east.id) if r["event_code"] == "patrol.checkpoint_ok"]
    assert rule == {"event_code": "patrol.checkpoint_ok", "default": 0, "override": 3, "amount": 3}


def test_the_kinds_that_also_pay_keep_the_stations_other_point_settings(client, world, east):
    admin = world.person("admin", station=east, roles=["admin"])
    assert client.put(url(east, "/points/settings"), json={"approval_threshold": 77},
                      headers=admin.headers).status_code == 200
    changed = client.put(url(east, "/points/rules"), json={
        "rules": {"core.task_completed": 12}, "task_completed_also_for": ["care_visit"]},
        headers=admin.headers)
    assert changed.status_code == 200, changed.json
    assert changed.json["task_completed_also_for"] == ["care_visit"]
    settings = client.get(url(east, "/points/settings"), headers=admin.headers)
    assert settings.json["approval_threshold"] == 77


def test_entries_filter_by_time_and_event_and_come_newest_first(client, world, east, session):
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    day = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    # Booked in another order than their times: newest first is by time, not by id.
    award(session, east, vol, 5, "late", at=day + dt.timedelta(hours=2))
    award(session, east, vol, 3, "early", at=day)
    award(session, east, vol, 4, "middle", at=day + dt.timedelta(hours=1))
    clock.freeze(day + dt.timedelta(hours=3))
    ledger.spend(session, station_id=east.id, user_id=vol.id, amount=2, event_code="shop.coupon",
                 source_type="coupon", source_id="c")
    ledger.spend(session, station_id=east.id, user_id=vol.id, amount=1, event_code="shop.coupon",
                 source_type="coupon", source_id="d")  # the same instant: the later one first
    session.commit()

    def sources(query=""):
        answer = client.get(url(east, f"/points/entries?user_id={vol.id}&{query}"),
                            headers=officer.headers)
        assert answer.status_code == 200, answer.json
        return [e["source_id"] for e in answer.json]

    def at(hours):
        return (day + dt.timedelta(hours=hours)).isoformat().replace("+00:00", "Z")

    assert sources() == ["d", "c", "late", "middle", "early"]
    assert sources(f"since={at(1)}") == ["d", "c", "late", "middle"]
    assert sources(f"until={at(1)}") == ["early"]
    assert sources(f"since={at(1)}&until={at(3)}") == ["late", "middle"]
    assert sources("event_code=shop.coupon") == ["d", "c"]


def test_after_any_sequence_the_ledger_sums_to_the_balance(session, world, east):
    people = [world.person(n, station=east, roles=["volunteer"]) for n in "abc"]
    officer = world.person("o", station=east, roles=["officer"])
    rng = random.Random(7)
    for step in range(120):
        person = rng.choice(people)
        move = rng.choice(["award", "award-again", "spend", "adjust"])
        amount = rng.randint(1, 15)
        try:
            if move == "award":
                ledger.award(session, station_id=east.id, user_id=person.id,
                             event_code="core.task_completed", source_type="t",
                             source_id=step, amount=amount)
            elif move == "award-again":
                ledger.award(session, station_id=east.id, user_id=person.id,
                             event_code="core.task_completed", source_type="t",
                             source_id=max(0, step - 1), amount=amount)
            elif move == "spend":
                ledger.spend(session, station_id=east.id, user_id=person.id, amount=amount,
                             event_code="shop.coupon", source_type="c", source_id=step)
            else:
                ledger.adjust(session, station_id=east.id, user_id=person.id,
                              amount=rng.choice([-1, 1]) * amount, reason="r", by=officer.id,
                              source_id=str(uuid.uuid4()))
        except Conflict:
            pass
        if step % 10 == 0:
            session.commit()
    session.commit()
    for person in people:
        balance = ledger.balance(session, east.id, person.id)
        assert balance >= 0 and balance == ledger_sum(session, east, person)


@pytest.mark.postgres_only
def test_forty_concurrent_spends_of_a_whole_balance_one_succeeds(live_world):
    world = live_world
    east = world.station("east")
    vol = world.person("v", station=east, roles=["volunteer"])
    ledger.award(world.session, station_id=east.id, user_id=vol.id, event_code="x.y",
                 source_type="seed", source_id=1, amount=30)
    world.session.commit()
    factory = world.session.get_bind()
    barrier = threading.Barrier(40)
    outcomes: list[str] = []

    def spend(n: int) -> None:
        with so.Session(factory, info=world.session.info) as session:
            barrier.wait()
            try:
                with session.begin():
                    ledger.spend(session, station_id=east.id, user_id=vol.id, amount=30,
                                 event_code="shop.coupon", source_type="coupon", source_id=n)
                outcomes.append("ok")
            except Conflict as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert outcomes.count("insufficient_points") == 39
    session = world.session
    session.expire_all()
    assert ledger.balance(session, east.id, vol.id) == 0 == ledger_sum(session, east, vol)
    assert session.scalar(sa.select(PointsBalance.balance)
                          .where(PointsBalance.user_id == vol.id)) == 0


# Earn-once: one source is booked once, whatever path retried ---------------------------------

def test_completing_retrying_and_resending_never_books_a_second_award(client, world, east,
                                                                       session):
    clock.freeze(START)
    officer = world.person("officer", station=east, roles=["officer"])
    vol = world.person("v", station=east, roles=["volunteer"])
    task = client.post(url(east, "/tasks"), json={
        "title": "Patrol", "starts_at": START.isoformat(),
        "ends_at": (START + dt.timedelta(hours=1)).isoformat(), "lat": HERE[0], "lon": HERE[1]},
        headers=officer.headers).json
    base = url(east, f"/tasks/{task['id']}")
    client.post(f"{base}/signups", json={}, headers=vol.headers)
    client.post(f"{base}/checkins", json=checkin_body(), headers=vol.headers)
    clock.advance(dt.timedelta(minutes=14))
    out = checkin_body("out")
    keyed = {**vol.headers, "Idempotency-Key": "checkout"}
    first = client.post(f"{base}/checkins", json=out, headers=keyed)
    assert first.status_code == 201 and first.json["points_awarded"] == 10
    retried = client.post(f"{base}/checkins", json=out, headers=keyed)  # same key: a replay
    resent = client.post(f"{base}/checkins", json=out, headers=vol.headers)  # same client_id
    assert resent.status_code == 200 and resent.json["duplicate"] is True
    assert resent.json["points_awarded"] == 0
    another = client.post(f"{base}/checkins", json=checkin_body("out"), headers=vol.headers)
    assert another.status_code == 409 and another.json["code"] == "already_completed"
    assert retried.get_data() == first.get_data()
    assignment = tasks.find_assignment(session, session.get(tasks.Task, task["id"]), vol.id)
    again = ledger.award(session, station_id=east.id, user_id=vol.id,
                         event_code="core.task_completed", source_type="assignment",
                         source_id=assignment.id)
    assert again is None  # any other path that retries the award
    session.commit()
    assert [e.amount for e in session.scalars(
        sa.select(PointsEntry).where(PointsEntry.user_id == vol.id))] == [10]
    assert ledger.balance(session, east.id, vol.id) == 10


# Leaderboard ------------------------------------------------------------------------------------

def test_leaderboard_periods_follow_the_station_time_zone_and_ties_share_a_rank(
        client, world, east, session):
    # Wednesday 2026-03-04 10:00 in Shanghai; the week began Monday 2026-03-02 00:00 (+08:00),
    # that is Sunday 2026-03-01 16:00 UTC
    now = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
    a, b, c, d = (world.person(n, station=east, roles=["volunteer"]) for n in "abcd")
    award(session, east, a, 5, "a1", at=dt.datetime(2026, 3, 1, 15, 59, tzinfo=dt.UTC))  # last week
    award(session, east, a, 7, "a2", at=dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC))  # this week
    award(session, east, b, 7, "b1", at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    award(session, east, c, 3, "c1", at=dt.datetime(2026, 2, 27, 0, 0, tzinfo=dt.UTC))  # February
    award(session, east, d, 20, "d1", at=dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC))
    ledger.spend(session, station_id=east.id, user_id=d.id, amount=15, event_code="shop.coupon",
                 source_type="coupon", source_id="d")  # spending does not lower points earned
    session.commit()
    clock.freeze(now)
    a = signed_in_again(world, a)

    def board(query):
        answer = client.get(url(east, f"/points/leaderboard?{query}"), headers=a.headers)
        assert answer.status_code == 200, answer.json
        return answer.json

    week = board("period=week")
    assert week["since"] == "2026-03-01T16:00:00+00:00" and week["timezone"] == "Asia/Shanghai"
    assert [(e["rank"], e["display_name"], e["points"]) for e in week["entries"]] == [
        (1, "d", 20), (2, "a", 7), (2, "b", 7)]
    month = board("period=month")
    assert month["since"] == "2026-02-28T16:00:00+00:00"
    assert [(e["rank"], e["display_name"], e["points"]) for e in month["entries"]] == [
        (1, "d", 20), (2, "a", 12), (3, "b", 7)]
    everything = board("period=all&limit=3")
    assert everything["since"] is None
    assert [e["display_name"] for e in everything["entries"]] == ["d", "a", "b"]
    assert client.get(url(east, "/points/leaderboard?period=year"),
                      headers=a.headers).status_code == 422
    assert client.get(url(east, "/points/leaderboard?limit=101"),
                      headers=a.headers).status_code == 422


def test_leaderboard_of_a_group(client, world, east, session):
    officer = world.person("officer", station=east, roles=["officer"])
    a, b = (world.person(n, station=east, roles=["volunteer"]) for n in "ab")
    award(session, east, a, 5, "a")
    award(session, east, b, 9, "b")
    who = load_actor(session, "east", officer.user)
    team = stations.create_group(session, who, kind="grid", name="Team A")
    stations.put_group_member(session, who, team.id, a.id, leader=False)
    other = stations.create_group(session, who, kind="grid", name="Team B")
    stations.put_group_member(session, who, other.id, b.id, leader=False)
    session.commit()
    answer = client.get(url(east, f"/points/leaderboard?period=all&group={team.id}"),
                        headers=a.headers)
    assert [(e["rank"], e["user_id"]) for e in answer.json["entries"]] == [(1, a.id)]
    missing = client.get(url(east, "/points/leaderboard?group=999999"), headers=a.headers)
    assert missing.status_code == 404 and missing.json["code"] == "group_not_found"


def test_leaderboard_counts_only_this_stations_points(client, world, east, session):
    west = world.station("west")
    a = world.person("a", station=east, roles=["volunteer"])
    b = world.person("b", station=east, roles=["volunteer"])
    award(session, east, a, 5, "a")
    award(session, west, b, 50, "b-west")  # b also volunteers in west
    award(session, east, b, 1, "b")  # a single point is points earned too
    answer = client.get(url(east, "/points/leaderboard?period=all"), headers=a.headers)
    assert [(e["rank"], e["user_id"], e["points"]) for e in answer.json["entries"]] == [
        (1, a.id, 5), (2, b.id, 1)]


def test_period_start_in_the_station_zone():
    now = dt.datetime(2026, 3, 31, 20, 0, tzinfo=dt.UTC)  # 1 April 04:00 in Shanghai
    assert ledger.period_start("month", "Asia/Shanghai", now) == dt.datetime(
        2026, 3, 31, 16, 0, tzinfo=dt.UTC)
    assert ledger.period_start("month", "UTC", now) == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert ledger.period_start("week", "Asia/Shanghai", now) == dt.datetime(
        2026, 3, 29, 16, 0, tzinfo=dt.UTC)
    assert ledger.period_start("all", "UTC", now) is None
    with pytest.raises(Invalid) as unknown:
        ledger.period_start("year", "UTC", now)
    assert (unknown.value.code, unknown.value.details) == ("validation_error", {"field": "period"})

