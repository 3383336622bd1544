"""Races on coupons, quizzes and balances: many clients released together on PostgreSQL, and
nothing is redeemed, claimed, spent, graded, rewarded or started more often than allowed."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from core.db import create_engine
from core.models import PointsBalance, PointsEntry
from plugins.anti_fraud.models import Attempt, Coupon, Offer, Redemption
from tests.plugins.anti_fraud.conftest import Alliance

pytestmark = pytest.mark.postgres_only

CONNECTIONS = 40


@pytest.fixture
def wide_pool(live_world: Any, deployment: Any, test_database_url: str) -> Any:
    """A pool as wide as the crowd, so 40 requests really hold 40 connections at once."""
    engine = create_engine(test_database_url, pool_size=CONNECTIONS + 2, max_overflow=0)
    deployment.database.bind(engine)
    yield live_world
    deployment.database.bind(deployment.database.engine)
    engine.dispose()


def race(app: Any, threads: int, call: Callable[[Any, int], list[Any]]) -> list[tuple[int, str]]:
    """Run ``call(client, n)`` on ``threads`` threads, one client each, released together."""
    barrier = threading.Barrier(threads)
    results: list[list[Any]] = [[] for _ in range(threads)]

    def run(n: int) -> None:
        with app.test_client() as client:
            barrier.wait()
            results[n] = call(client, n)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [(r.status_code, (r.json or {}).get("code", "")) for batch in results for r in batch]


def ledger_agrees(session: Any, station_id: int) -> None:
    sums = dict(session.execute(sa.select(PointsEntry.user_id, sa.func.sum(PointsEntry.amount))
                                .where(PointsEntry.station_id == station_id)
                                .group_by(PointsEntry.user_id)).all())
    balances = dict(session.execute(sa.select(PointsBalance.user_id, PointsBalance.balance)
                                    .where(PointsBalance.station_id == station_id)).all())
    assert sums == balances and all(b >= 0 for b in balances.values())


def test_200_redemptions_of_one_coupon_over_40_connections_redeem_once(app, wide_pool):
    alliance = Alliance(wide_pool)
    shop = alliance.shop()
    offer = alliance.offer(shop, points_cost=0, min_spend_cents=0)
    cashier = alliance.merchant(shop)
    resident = alliance.resident()
    coupon = alliance.ok(alliance.claim(resident, offer), 201)
    payload = alliance.qr(resident, coupon)
    url = f"{alliance.url}/redemptions"

    def redeem_five(client: Any, n: int) -> list[Any]:
        return [client.post(url, json={"payload": payload, "bill_cents": 1000 + n},
                            headers=cashier.headers) for _ in range(5)]

    outcomes = Counter(race(app, CONNECTIONS, redeem_five))
    assert outcomes == {(201, ""): 1, (409, "coupon_already_redeemed"): 199}
    session = wide_pool.session
    assert session.scalar(sa.select(sa.func.count()).select_from(Redemption)) == 1
    assert session.scalar(sa.select(Coupon.redeemed_at).where(Coupon.id == coupon["id"]))


def test_40_claims_of_the_last_10_coupons_issue_exactly_10(app, wide_pool):
    alliance = Alliance(wide_pool)
    shop = alliance.shop()
    offer = alliance.offer(shop, points_cost=30, stock_total=10, per_resident_limit=1)
    residents = [alliance.resident(f"r{n}", points=50) for n in range(CONNECTIONS)]
    url = f"{alliance.url}/offers/{offer['id']}/claims"

    def claim(client: Any, n: int) -> list[Any]:
        return [client.post(url, headers=residents[n].headers)]

    outcomes = Counter(race(app, CONNECTIONS, claim))
    assert outcomes == {(201, ""): 10, (409, "offer_out_of_stock"): 30}
    session = wide_pool.session
    session.expire_all()
    assert session.get(Offer, offer["id"]).stock_left == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Coupon)) == 10
    balances = Counter(session.scalars(sa.select(PointsBalance.balance)))
    assert balances == {20: 10, 50: 30}
    ledger_agrees(session, alliance.station.id)


def test_40_claims_spending_one_balance_succeed_as_far_as_it_goes(app, wide_pool):
    alliance = Alliance(wide_pool)
    shop = alliance.shop()
    offer = alliance.offer(shop, points_cost=50, stock_total=100, per_resident_limit=40)
    spender = alliance.resident("spender", points=120)  # enough for two claims, not three
    url = f"{alliance.url}/offers/{offer['id']}/claims"

    def claim(client: Any, n: int) -> list[Any]:
        return [client.post(url, headers=spender.headers)]

    outcomes = Counter(race(app, CONNECTIONS, claim))
    assert outcomes == {(201, ""): 2, (409, "insufficient_points"): 38}
    session = wide_pool.session
    session.expire_all()
    assert session.scalar(sa.select(PointsBalance.balance).where(
        PointsBalance.user_id == spender.id)) == 20
    assert sorted(session.scalars(sa.select(Coupon.number))) == [1, 2]
    assert session.get(Offer, offer["id"]).stock_left == 98
    ledger_agrees(session, alliance.station.id)


def test_concurrent_submissions_of_one_attempt_grade_once(app, wide_pool):
    alliance = Alliance(wide_pool)
    alliance.bank()
    shop = alliance.shop()
    reward = alliance.offer(shop, points_cost=None, stock_total=5)
    quiz = alliance.quiz(points=25, reward_offer_id=reward["id"])
    resident = alliance.resident()
    attempt = alliance.attempt(resident, quiz)
    body = {"answers": alliance.answers(attempt)}
    url = f"{alliance.url}/attempts/{attempt['id']}/submission"

    def submit(client: Any, n: int) -> list[Any]:
        return [client.post(url, json=body, headers=resident.headers)]

    outcomes = Counter(race(app, 20, submit))
    assert outcomes == {(200, ""): 1, (409, "attempt_already_submitted"): 19}
    session = wide_pool.session
    assert [e.amount for e in session.scalars(sa.select(PointsEntry))] == [25]
    assert session.scalar(sa.select(sa.func.count()).select_from(Coupon)) == 1


def test_concurrent_passes_of_different_attempts_reward_once(app, wide_pool):
    alliance = Alliance(wide_pool)
    alliance.bank()
    shop = alliance.shop()
    reward = alliance.offer(shop, points_cost=None, stock_total=5, per_resident_limit=5)
    quiz = alliance.quiz(points=25, reward_offer_id=reward["id"], attempts_per_day=10)
    resident = alliance.resident()
    attempts = [alliance.attempt(resident, quiz) for _ in range(10)]

    def submit(client: Any, n: int) -> list[Any]:
        return [client.post(f"{alliance.url}/attempts/{attempts[n]['id']}/submission",
                             json={"answers": alliance.answers(attempts[n])},
                             headers=resident.headers)]

    outcomes = Counter(race(app, 10, submit))
    assert outcomes == {(200, ""): 10}
    session = wide_pool.session
    assert [e.amount for e in session.scalars(sa.select(PointsEntry))] == [25]
    assert session.scalar(sa.select(sa.func.count()).select_from(Coupon)) == 1
    assert session.scalar(sa.select(Offer.stock_left).where(Offer.id == reward["id"])) == 4
    assert session.scalar(sa.select(sa.func.count()).select_from(Attempt).where(
        Attempt.coupon_id.is_not(None))) == 1


def test_concurrent_starts_never_pass_the_daily_limit(app, wide_pool):
    alliance = Alliance(wide_pool)
    alliance.bank()
    quiz = alliance.quiz(attempts_per_day=3)
    resident = alliance.resident()
    url = f"{alliance.url}/quizzes/{quiz['id']}/attempts"

    def start(client: Any, n: int) -> list[Any]:
        return [client.post(url, headers=resident.headers)]

    outcomes = Counter(race(app, 20, start))
    assert outcomes[(201, "")] == 3
    assert set(outcomes) <= {(201, ""), (409, "attempt_limit_reached"), (409, "conflict")}
    session = wide_pool.session
    assert sorted(session.scalars(sa.select(Attempt.day_number))) == [1, 2, 3]
