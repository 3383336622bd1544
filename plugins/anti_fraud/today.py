"""A resident's home screen: quizzes still to pass, coupons about to expire (wardens_today_cards)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import targets
from core.hookspecs import TodayCard
from core.models import Station, User
from plugins.anti_fraud.models import Attempt, Coupon, Offer, Quiz

OPEN_QUIZZES = 3
EXPIRING_COUPONS = 5
#: a coupon expiring this soon gets a card; within a day it is "now"
EXPIRING_WITHIN = dt.timedelta(days=3)
URGENT_WITHIN = dt.timedelta(days=1)


def cards(session: so.Session, station: Station, user: User, now: dt.datetime) -> list[TodayCard]:
    """Open quizzes the person has not passed, and their unused coupons expiring soon."""
    passed = sa.select(Attempt.id).where(Attempt.station_id == station.id,
                                         Attempt.quiz_id == Quiz.id, Attempt.user_id == user.id,
                                         Attempt.passed.is_(True))
    quizzes = session.scalars(
        sa.select(Quiz).where(Quiz.station_id == station.id, Quiz.active.is_(True),
                              sa.or_(Quiz.opens_at.is_(None), Quiz.opens_at <= now),
                              sa.or_(Quiz.closes_at.is_(None), Quiz.closes_at > now),
                              ~sa.exists(passed))
        .order_by(sa.func.coalesce(Quiz.closes_at, now + dt.timedelta(days=3650)), Quiz.id)
        .limit(OPEN_QUIZZES)).all()
    found = [TodayCard(kind="anti_fraud.quiz", title=quiz.title, ends_at=quiz.closes_at,
                       status="open", details={"points": quiz.points,
                                               "questions": quiz.question_count},
                       target=targets.target("anti_fraud.quiz", station.code, quiz_id=quiz.id))
             for quiz in quizzes]
    coupons = session.execute(
        sa.select(Coupon, Offer.title).join(Offer, Offer.id == Coupon.offer_id)
        .where(Coupon.station_id == station.id, Coupon.user_id == user.id,
               Coupon.redeemed_at.is_(None), Coupon.expires_at > now,
               Coupon.expires_at <= now + EXPIRING_WITHIN)
        .order_by(Coupon.expires_at, Coupon.id).limit(EXPIRING_COUPONS)).all()
    found.extend(TodayCard(
        kind="anti_fraud.coupon", title=title, ends_at=coupon.expires_at, status="active",
        now=coupon.expires_at <= now + URGENT_WITHIN, details={"shop_id": coupon.shop_id},
        target=targets.target("anti_fraud.coupon", station.code, coupon_id=coupon.id))
        for coupon, title in coupons)
    return found
