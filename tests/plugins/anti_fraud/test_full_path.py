"""A resident's whole path over HTTP, and replays with an Idempotency-Key that change nothing."""

from __future__ import annotations

import sqlalchemy as sa

from core.models import Notification, PointsBalance, PointsEntry
from plugins.anti_fraud.models import Attempt, Coupon, Offer, Redemption


def ledger_agrees(session, station_id) -> None:
    """Every balance equals the sum of its ledger entries, and none is negative."""
    sums = dict(session.execute(sa.select(PointsEntry.user_id, sa.func.sum(PointsEntry.amount))
                                .where(PointsEntry.station_id == station_id)
                                .group_by(PointsEntry.user_id)).all())
    balances = dict(session.execute(sa.select(PointsBalance.user_id, PointsBalance.balance)
                                    .where(PointsBalance.station_id == station_id)).all())
    assert sums == balances
    assert all(b >= 0 for b in balances.values())


def test_attempt_pass_points_claim_qr_redeem_and_the_books_agree(alliance, session):
    alliance.bank()
    corner = alliance.shop("Corner Shop")
    reward = alliance.offer(corner, title="3 off, quiz reward", amount_off_cents=300,
                            min_spend_cents=0, points_cost=None, stock_total=5)
    offer = alliance.offer(corner, points_cost=30, stock_total=10)
    quiz = alliance.quiz(points=40, reward_offer_id=reward["id"])
    cashier = alliance.merchant(corner)
    zhao = alliance.resident("Zhao")

    attempt = alliance.attempt(zhao, quiz)
    assert attempt["status"] == "open" and len(attempt["questions"]) == 5
    result = alliance.ok(alliance.submit(zhao, attempt))
    assert result["passed"] is True and result["score"] == 5
    assert result["points_awarded"] == 40 and result["coupon_id"] is not None
    assert all(q["is_correct"] and q["explanation"].startswith("Because") for q in result["questions"])

    balance = session.scalar(sa.select(PointsBalance.balance).where(
        PointsBalance.user_id == zhao.id))
    assert balance == 40
    coupon = alliance.ok(alliance.claim(zhao, offer), 201)
    assert coupon["status"] == "active" and coupon["points_spent"] == 30
    assert coupon["shop"]["name"] == "Corner Shop" and coupon["offer"]["amount_off_cents"] == 500
    mine = alliance.ok(alliance.get(zhao, "/coupons"))
    assert {c["id"] for c in mine} == {coupon["id"], result["coupon_id"]}

    payload = alliance.qr(zhao, coupon)
    redemption = alliance.ok(alliance.redeem(cashier, payload, bill_cents=4200), 201)
    assert redemption["discount_cents"] == 500 and redemption["payable_cents"] == 3700
    reward_coupon = next(c for c in mine if c["id"] == result["coupon_id"])
    alliance.ok(alliance.redeem(cashier, alliance.qr(zhao, reward_coupon), bill_cents=1000), 201)

    # balances, stock, coupons and reports agree
    session.expire_all()
    assert session.scalar(sa.select(PointsBalance.balance).where(
        PointsBalance.user_id == zhao.id)) == 10
    ledger_agrees(session, alliance.station.id)
    assert session.get(Offer, offer["id"]).stock_left == 9
    assert session.get(Offer, reward["id"]).stock_left == 4
    assert alliance.ok(alliance.get(zhao, f"/coupons/{coupon['id']}"))["status"] == "redeemed"
    assert session.scalar(sa.select(sa.func.count()).select_from(Redemption)) == 2
    totals = alliance.ok(alliance.get(alliance.officer, "/reports/redemptions"))
    assert totals == [{"shop_id": corner["id"], "shop": "Corner Shop", "count": 2,
                       "bill_cents": 5200, "discount_cents": 800}]
    settlement = alliance.ok(alliance.get(alliance.officer,
                                          f"/reports/shops/{corner['id']}/redemptions"))
    assert settlement["count"] == 2 and settlement["discount_cents"] == 800
    assert {r["coupon_source"] for r in settlement["redemptions"]} == {"claim", "quiz"}
    quiz_report = alliance.ok(alliance.get(alliance.officer, f"/reports/quizzes/{quiz['id']}"))
    assert quiz_report["submitted"] == 1 and quiz_report["pass_rate"] == 1.0
    history = alliance.ok(alliance.get(cashier, f"/shops/{corner['id']}/redemptions"))
    assert [h["id"] for h in history][0] != redemption["id"]  # newest first
    assert redemption["id"] in {h["id"] for h in history}
    codes = set(session.scalars(sa.select(Notification.code).where(Notification.user_id == zhao.id)))
    assert codes == {"anti_fraud.coupon_granted", "anti_fraud.coupon_redeemed"}


def test_replaying_a_passed_submission_with_its_key_has_one_effect(alliance, session):
    alliance.bank()
    quiz = alliance.quiz(points=25)
    li = alliance.resident("Li")
    attempt = alliance.attempt(li, quiz)
    key = {"Idempotency-Key": "submit-1"}
    first = alliance.submit(li, attempt, headers=key)
    again = alliance.submit(li, attempt, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    entries = session.scalars(sa.select(PointsEntry).where(PointsEntry.user_id == li.id)).all()
    assert [e.amount for e in entries] == [25]
    # without the key a second submission is refused, and still nothing more is booked
    refused = alliance.submit(li, attempt)
    assert refused.status_code == 409 and refused.json["code"] == "attempt_already_submitted"
    assert session.scalar(sa.select(sa.func.count()).select_from(PointsEntry).where(
        PointsEntry.user_id == li.id)) == 1


def test_replaying_a_claim_with_its_key_has_one_effect(alliance, session):
    shop = alliance.shop()
    offer = alliance.offer(shop, points_cost=30, per_resident_limit=3)
    wang = alliance.resident("Wang", points=100)
    key = {"Idempotency-Key": "claim-abc"}
    first = alliance.claim(wang, offer, headers=key)
    again = alliance.claim(wang, offer, headers=key)
    assert first.status_code == again.status_code == 201 and again.json == first.json
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(Coupon)) == 1
    assert session.get(Offer, offer["id"]).stock_left == 9
    assert session.scalar(sa.select(PointsBalance.balance).where(
        PointsBalance.user_id == wang.id)) == 70
    # another key is another claim
    assert alliance.claim(wang, offer, headers={"Idempotency-Key": "claim-def"}).status_code == 201
    assert session.scalar(sa.select(sa.func.count()).select_from(Coupon)) == 2
    ledger_agrees(session, alliance.station.id)


def test_points_and_reward_coupon_come_once_per_quiz_whatever_is_retried(alliance, session):
    alliance.bank()
    shop = alliance.shop()
    reward = alliance.offer(shop, points_cost=None, per_resident_limit=5, stock_total=5)
    quiz = alliance.quiz(points=15, reward_offer_id=reward["id"])
    chen = alliance.resident("Chen")
    for _ in range(3):
        attempt = alliance.attempt(chen, quiz)
        assert alliance.ok(alliance.submit(chen, attempt))["passed"] is True
    attempts = session.scalars(sa.select(Attempt).where(Attempt.user_id == chen.id)
                               .order_by(Attempt.id)).all()
    assert [a.points_awarded for a in attempts] == [15, 0, 0]
    assert [a.coupon_id is not None for a in attempts] == [True, False, False]
    assert session.scalar(sa.select(sa.func.count()).select_from(Coupon)) == 1
    assert session.scalar(sa.select(sa.func.sum(PointsEntry.amount)).where(
        PointsEntry.user_id == chen.id)) == 15
    last = alliance.ok(alliance.get(chen, f"/attempts/{attempts[-1].id}"))
    assert last["points_awarded"] == 0 and last["coupon_id"] is None
