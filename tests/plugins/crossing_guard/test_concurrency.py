"""PostgreSQL: many guards at once for the last places, the same swap, the same generation."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from core import clock
from core.models import Assignment, AssignmentStatus, Task
from plugins.crossing_guard.models import Shift
from tests.plugins.crossing_guard.conftest import FROZEN, build


def _at_once(app: Any, count: int, call: Callable[[Any, int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def run(index: int) -> None:
        with app.test_client() as client:
            barrier.wait()
            answers[index] = call(client, index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _one_shift(live_world: Any) -> tuple[Any, dict[str, Any]]:
    clock.freeze(FROZEN)
    crossing = build(live_world)
    made = crossing.school(posts=[{"name": "North gate", "min_guards": 2, "max_guards": 3}],
                           term=("2026-03-02", "2026-03-02"))
    crossing.generate(made["term"])
    return crossing, crossing.shifts()[0]


@pytest.mark.postgres_only
def test_thirty_guards_at_once_for_three_places(app, live_world):
    crossing, shift = _one_shift(live_world)
    guards = [crossing.guard(f"Guard {i}") for i in range(30)]
    url = crossing.url(f"/shifts/{shift['id']}/signups")
    # Half of them would rather not wait in line.
    answers = _at_once(app, 30, lambda client, i: client.post(
        url, headers=guards[i].headers, json={"waitlist": i % 2 == 0}))
    outcome = Counter(
        a.json["status"] if a.status_code == 201 else a.json["code"] for a in answers)
    assert outcome["signed_up"] == 3
    assert outcome["signed_up"] + outcome["waitlisted"] + outcome["task_full"] == 30
    with crossing.world.session as session:
        task = session.get(Task, shift["task_id"])
        session.refresh(task)
        assert task.filled == 3
        held = session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
            Assignment.task_id == task.id, Assignment.status == AssignmentStatus.SIGNED_UP))
        assert held == 3
        waiting = session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
            Assignment.task_id == task.id, Assignment.status == AssignmentStatus.WAITLISTED))
        assert waiting == outcome["waitlisted"]


@pytest.mark.postgres_only
def test_twenty_guards_take_the_same_swap_and_one_gets_it(app, live_world):
    crossing, shift = _one_shift(live_world)
    giver = crossing.guard("Giver")
    assert crossing.post(f"/shifts/{shift['id']}/signups", giver).status_code == 201
    offer = crossing.post(f"/shifts/{shift['id']}/swap-offers", giver).json
    takers = [crossing.guard(f"Taker {i}") for i in range(20)]
    url = crossing.url(f"/swap-offers/{offer['id']}/take")
    answers = _at_once(app, 20, lambda client, i: client.post(url, headers=takers[i].headers))
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: 1, 409: 19}
    assert {a.json["code"] for a in answers if a.status_code == 409} == {"swap_not_open"}
    winner = next(a.json["taken_by"] for a in answers if a.status_code == 200)
    with crossing.world.session as session:
        rows = dict(session.execute(sa.select(Assignment.user_id, Assignment.status).where(
            Assignment.task_id == shift["task_id"])).all())
        assert rows == {giver.id: AssignmentStatus.WITHDRAWN,
                        winner: AssignmentStatus.SIGNED_UP}
        task = session.get(Task, shift["task_id"])
        session.refresh(task)
        assert task.filled == 1


@pytest.mark.postgres_only
def test_two_generations_at_once_make_each_shift_once(app, live_world):
    clock.freeze(FROZEN)
    crossing = build(live_world)
    made = crossing.school(term=("2026-03-02", "2026-03-27"))
    url = crossing.url(f"/terms/{made['term']}/generate")
    answers = _at_once(app, 4, lambda client, i: client.post(url,
                                                             headers=crossing.officer.headers))
    assert {a.status_code for a in answers} == {200}
    assert sum(a.json["created"] for a in answers) == 8
    with crossing.world.session as session:
        live = session.scalar(sa.select(sa.func.count()).select_from(Shift).where(
            Shift.station_id == crossing.station.id))
        tasks = session.scalar(sa.select(sa.func.count()).select_from(Task).where(
            Task.station_id == crossing.station.id))
        assert live == tasks == 8


@pytest.mark.postgres_only
def test_one_guard_asking_for_two_shifts_at_the_same_time_at_once_gets_one(app, live_world):
    clock.freeze(FROZEN)
    crossing = build(live_world)
    made = crossing.school(posts=[{"name": "North gate"}, {"name": "South gate"}],
                           term=("2026-03-02", "2026-03-02"))
    crossing.generate(made["term"])
    same_time = [s for s in crossing.shifts() if s["date"] == "2026-03-02"]
    assert len(same_time) == 2
    guard = crossing.guard("Guard A")
    answers = _at_once(app, 8, lambda client, i: client.post(
        crossing.url(f"/shifts/{same_time[i % 2]['id']}/signups"), headers=guard.headers,
        json={}))
    assert Counter(a.status_code for a in answers) == {201: 1, 409: 7}
    with crossing.world.session as session:
        held = session.scalars(sa.select(Assignment.task_id).where(
            Assignment.user_id == guard.id, Assignment.status == AssignmentStatus.SIGNED_UP)).all()
        assert len(held) == 1
