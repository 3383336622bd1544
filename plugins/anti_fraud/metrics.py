"""The anti-fraud plugin's dashboard figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.models import PointsEntry, Station
from plugins.anti_fraud.models import Attempt, Coupon, Quiz, Redemption


def dashboard(session: so.Session, station: Station, since: dt.datetime) -> dict[str, Any]:
    """Quizzes, attempts and coupons of the station since ``since``."""

    def count(model: Any, *where: Any) -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(
            model.station_id == station.id, *where)) or 0

    submitted = count(Attempt, Attempt.submitted_at >= since)
    passed = count(Attempt, Attempt.submitted_at >= since, Attempt.passed.is_(True))
    return {
        "quizzes_active": count(Quiz, Quiz.active.is_(True)),
        "attempts_submitted": submitted,
        "attempts_passed": passed,
        "pass_rate": round(passed / submitted, 4) if submitted else 0,
        "coupons_issued": count(Coupon, Coupon.issued_at >= since),
        "coupons_redeemed": count(Redemption, Redemption.redeemed_at >= since),
        "discount_cents": session.scalar(sa.select(
            sa.func.coalesce(sa.func.sum(Redemption.discount_cents), 0)).where(
            Redemption.station_id == station.id, Redemption.redeemed_at >= since)) or 0,
        "points_spent": -(session.scalar(sa.select(
            sa.func.coalesce(sa.func.sum(PointsEntry.amount), 0)).where(
            PointsEntry.station_id == station.id, PointsEntry.event_code == "anti_fraud.coupon_claimed",
            PointsEntry.created_at >= since)) or 0),
    }
