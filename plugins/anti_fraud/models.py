"""Anti-fraud tables: the question bank, quizzes and attempts, alliance shops, offers and coupons."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base, JSONType


class Question(Base):
    """A question of the station's bank; archived, never deleted, once residents have seen it."""

    __tablename__ = "anti_fraud_question"
    __table_args__ = (
        # An imported or starter question keeps its key, so loading a file again updates it.
        sa.UniqueConstraint("station_id", "key"),
        sa.Index("ix_anti_fraud_question_pool", "station_id", "locale", "category"),
        sa.CheckConstraint("difficulty BETWEEN 1 AND 3", name="difficulty_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    category: so.Mapped[str] = so.mapped_column(sa.String(32))
    locale: so.Mapped[str] = so.mapped_column(sa.String(10), default="zh-CN")
    difficulty: so.Mapped[int] = so.mapped_column(default=1)
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    choices: so.Mapped[list[str]] = so.mapped_column(JSONType())
    #: indexes into ``choices``; more than one makes it a multiple-choice question.
    correct: so.Mapped[list[int]] = so.mapped_column(JSONType())
    explanation: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    archived_at: so.Mapped[dt.datetime | None]
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Quiz(Base):
    __tablename__ = "anti_fraud_quiz"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "key"),
        sa.CheckConstraint("question_count >= 1", name="question_count_positive"),
        sa.CheckConstraint("pass_percent BETWEEN 1 AND 100", name="pass_percent_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"), index=True)
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: categories questions are drawn from; empty means every category.
    categories: so.Mapped[list[str]] = so.mapped_column(JSONType(), default=list)
    locale: so.Mapped[str] = so.mapped_column(sa.String(10), default="zh-CN")
    question_count: so.Mapped[int]
    pass_percent: so.Mapped[int]
    time_limit_s: so.Mapped[int]
    attempts_per_day: so.Mapped[int]
    opens_at: so.Mapped[dt.datetime | None]
    closes_at: so.Mapped[dt.datetime | None]
    #: points for the first pass; None takes the station's anti_fraud.quiz_passed rule.
    points: so.Mapped[int | None]
    #: an offer whose coupon the first pass grants (without spending points).
    reward_offer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("anti_fraud_offer.id"),
                                                              index=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Attempt(Base):
    __tablename__ = "anti_fraud_attempt"
    __table_args__ = (
        # The daily limit: the n-th attempt of a day takes number n, so two concurrent starts
        # cannot both take the last one (holds on SQLite and PostgreSQL alike).
        sa.UniqueConstraint("station_id", "quiz_id", "user_id", "local_day", "day_number"),
        sa.Index("ix_anti_fraud_attempt_user", "station_id", "user_id", "started_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    quiz_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("anti_fraud_quiz.id"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    local_day: so.Mapped[dt.date]
    day_number: so.Mapped[int]
    started_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    deadline: so.Mapped[dt.datetime]
    submitted_at: so.Mapped[dt.datetime | None]
    score: so.Mapped[int | None]
    total: so.Mapped[int]
    passed: so.Mapped[bool | None]
    points_awarded: so.Mapped[int] = so.mapped_column(default=0)
    coupon_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("anti_fraud_coupon.id"), index=True)

    @property
    def status(self) -> str:
        """open, submitted, or expired (past its deadline unsubmitted)."""
        if self.submitted_at is not None:
            return "submitted"
        return "expired" if clock.now() > self.deadline else "open"


class AttemptQuestion(Base):
    """A question as served in one attempt: its shuffled choices and the answer key of that time."""

    __tablename__ = "anti_fraud_attempt_question"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "attempt_id", "question_id"),
        sa.Index("ix_anti_fraud_attempt_question_question", "station_id", "question_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    attempt_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("anti_fraud_attempt.id"), index=True)
    question_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("anti_fraud_question.id"))
    position: so.Mapped[int]
    #: the question's choice indexes in the order shown.
    choice_order: so.Mapped[list[int]] = so.mapped_column(JSONType())
    #: the shown texts and the correct shown indexes, frozen at serving: an edit of the bank
    #: during the attempt changes nothing for it.
    shown_choices: so.Mapped[list[str]] = so.mapped_column(JSONType())
    correct_shown: so.Mapped[list[int]] = so.mapped_column(JSONType())
    chosen: so.Mapped[list[int] | None] = so.mapped_column(JSONType())
    is_correct: so.Mapped[bool | None]


class Shop(Base):
    """An alliance shop; its staff are the merchant members of its ``shop`` group."""

    __tablename__ = "anti_fraud_shop"
    __table_args__ = (sa.UniqueConstraint("station_id", "key"),
                      sa.UniqueConstraint("station_id", "name"),
                      sa.UniqueConstraint("station_id", "group_id"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    address: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    phone: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    group_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station_group.id"))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class DiscountKind(enum.StrEnum):
    PERCENT = "percent"
    AMOUNT = "amount"


class Offer(Base):
    __tablename__ = "anti_fraud_offer"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "key"),
        sa.Index("ix_anti_fraud_offer_shop", "station_id", "shop_id"),
        # The stock moves only by conditional UPDATEs; the CHECK is the last line of defence.
        sa.CheckConstraint("stock_left >= 0 AND stock_left <= stock_total", name="stock_within"),
        sa.CheckConstraint("valid_until > valid_from", name="window_ordered"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    shop_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("anti_fraud_shop.id"))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    kind: so.Mapped[DiscountKind]
    percent_off: so.Mapped[int | None]
    amount_off_cents: so.Mapped[int | None]
    min_spend_cents: so.Mapped[int] = so.mapped_column(default=0)
    #: None: not for sale, only granted by passing a quiz.
    points_cost: so.Mapped[int | None]
    stock_total: so.Mapped[int]
    stock_left: so.Mapped[int]
    per_resident_limit: so.Mapped[int] = so.mapped_column(default=1)
    valid_from: so.Mapped[dt.datetime]
    valid_until: so.Mapped[dt.datetime]
    coupon_days: so.Mapped[int]
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class CouponSource(enum.StrEnum):
    CLAIM = "claim"  # bought with points
    QUIZ = "quiz"  # granted by passing a quiz


class Coupon(Base):
    __tablename__ = "anti_fraud_coupon"
    __table_args__ = (
        # The per-resident limit: the n-th coupon of an offer takes number n.
        sa.UniqueConstraint("station_id", "offer_id", "user_id", "number"),
        # One coupon per quiz per resident, whatever is retried.
        sa.UniqueConstraint("station_id", "quiz_id", "user_id"),
        sa.Index("ix_anti_fraud_coupon_user", "station_id", "user_id", "issued_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    offer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("anti_fraud_offer.id"))
    shop_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("anti_fraud_shop.id"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    number: so.Mapped[int]
    source: so.Mapped[CouponSource]
    quiz_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("anti_fraud_quiz.id"))
    points_spent: so.Mapped[int] = so.mapped_column(default=0)
    issued_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    expires_at: so.Mapped[dt.datetime]
    redeemed_at: so.Mapped[dt.datetime | None]


class Redemption(Base):
    """A coupon used at the till; append-only, one per coupon."""

    __tablename__ = "anti_fraud_redemption"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "coupon_id"),
        sa.Index("ix_anti_fraud_redemption_shop_time", "station_id", "shop_id", "redeemed_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    coupon_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("anti_fraud_coupon.id"))
    shop_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("anti_fraud_shop.id"))
    offer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("anti_fraud_offer.id"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    staff_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    bill_cents: so.Mapped[int]
    discount_cents: so.Mapped[int]
    redeemed_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)

