"""What the anti-fraud plugin holds about a person, for their copy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import orm as so

from core.export import rows
from core.models import User
from plugins.anti_fraud.models import Attempt, Coupon, Redemption


def export_person(session: so.Session, user: User) -> dict[str, Any]:
    """Their quiz attempts (scores, never the questions' answers), coupons and redemptions."""
    return {
        "quiz_attempts": rows(session, Attempt, Attempt.user_id == user.id),
        "coupons": rows(session, Coupon, Coupon.user_id == user.id),
        "redemptions": rows(session, Redemption, Redemption.user_id == user.id),
    }
