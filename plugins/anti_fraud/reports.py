"""Reports for officers: redemptions per shop (to settle), pass rates, the scams still missed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import csv_export
from core.access import Actor
from core.hookspecs import Report
from core.reports import Period
from plugins.anti_fraud import quizzes
from plugins.anti_fraud.models import (
    Attempt,
    AttemptQuestion,
    Coupon,
    CouponSource,
    Offer,
    Question,
    Quiz,
    Redemption,
    Shop,
)
from plugins.anti_fraud.questions import CATEGORIES

REDEMPTION_COLUMNS = ("redemption_id", "redeemed_at", "coupon_id", "offer_id", "offer",
                      "coupon_source", "staff_id", "bill_cents", "discount_cents")


_Query = TypeVar("_Query", bound=sa.Select)  # type: ignore[type-arg]


def _period(query: _Query, column: Any, since: dt.datetime | None,
            until: dt.datetime | None) -> _Query:
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# Redemptions ----------------------------------------------------------------------------------

def shop_redemptions_query(station_id: int, shop_id: int, since: dt.datetime | None = None,
                           until: dt.datetime | None = None,
                           ) -> sa.Select[Redemption, str, CouponSource]:
    query = (sa.select(Redemption, Offer.title, Coupon.source)
             .join(Offer, Offer.id == Redemption.offer_id)
             .join(Coupon, Coupon.id == Redemption.coupon_id)
             .where(Redemption.station_id == station_id, Redemption.shop_id == shop_id))
    return _period(query, Redemption.redeemed_at, since, until).order_by(
        Redemption.redeemed_at, Redemption.id)


def shop_settlement(session: so.Session, shop: Shop, since: dt.datetime | None,
                    until: dt.datetime | None) -> dict[str, Any]:
    """One shop's redemptions in a period with their totals: what the alliance owes the shop."""
    rows = session.execute(shop_redemptions_query(shop.station_id, shop.id, since, until)).all()
    items = [_redemption_item(r) for r in rows]
    return {"shop": {"id": shop.id, "name": shop.name}, "since": since, "until": until,
            "count": len(items), "bill_cents": sum(i["bill_cents"] for i in items),
            "discount_cents": sum(i["discount_cents"] for i in items), "redemptions": items}


def _redemption_item(row: Any) -> dict[str, Any]:
    redemption, title, source = row
    return {"redemption_id": redemption.id, "redeemed_at": redemption.redeemed_at,
            "coupon_id": redemption.coupon_id, "offer_id": redemption.offer_id, "offer": title,
            "coupon_source": str(source), "staff_id": redemption.staff_id,
            "bill_cents": redemption.bill_cents, "discount_cents": redemption.discount_cents}


def settlement_csv(report: dict[str, Any]) -> str:
    rows: list[list[Any]] = [
        [item[c].isoformat() if isinstance(item[c], dt.datetime) else item[c]
         for c in REDEMPTION_COLUMNS] for item in report["redemptions"]]
    rows.append(["total", "", "", "", "", "", "", report["bill_cents"], report["discount_cents"]])
    return csv_export.to_csv(REDEMPTION_COLUMNS, rows)


def redemptions_by_shop(session: so.Session, station_id: int, since: dt.datetime | None,
                        until: dt.datetime | None) -> list[dict[str, Any]]:
    """Every shop with its redemption count and totals in the period (shops without any too)."""
    totals = _period(
        sa.select(Redemption.shop_id, sa.func.count().label("count"),
                  sa.func.coalesce(sa.func.sum(Redemption.bill_cents), 0).label("bill"),
                  sa.func.coalesce(sa.func.sum(Redemption.discount_cents), 0).label("discount"))
        .where(Redemption.station_id == station_id), Redemption.redeemed_at, since, until
    ).group_by(Redemption.shop_id).subquery()
    rows = session.execute(
        sa.select(Shop.id, Shop.name, totals.c.count, totals.c.bill, totals.c.discount)
        .outerjoin(totals, totals.c.shop_id == Shop.id)
        .where(Shop.station_id == station_id).order_by(Shop.name, Shop.id)).all()
    return [{"shop_id": r[0], "shop": r[1], "count": r[2] or 0, "bill_cents": int(r[3] or 0),
             "discount_cents": int(r[4] or 0)} for r in rows]


# Quizzes --------------------------------------------------------------------------------------

def quiz_report(session: so.Session, quiz: Quiz, since: dt.datetime | None,
                until: dt.datetime | None) -> dict[str, Any]:
    """Attempts, pass rate, and per question and category the share answered wrongly."""
    attempts = _period(sa.select(
        sa.func.count(), sa.func.count(Attempt.submitted_at),
        sa.func.sum(sa.case((Attempt.passed.is_(True), 1), else_=0)),
        sa.func.count(sa.distinct(Attempt.user_id)),
        sa.func.count(sa.distinct(sa.case((Attempt.passed.is_(True), Attempt.user_id)))),
    ).where(Attempt.station_id == quiz.station_id, Attempt.quiz_id == quiz.id),
        Attempt.started_at, since, until)
    started, submitted, passed, residents, residents_passed = session.execute(attempts).one()
    passed = int(passed or 0)
    answered = _answers(quiz.station_id, since, until).where(Attempt.quiz_id == quiz.id)
    return {
        "quiz": {"id": quiz.id, "title": quiz.title}, "since": since, "until": until,
        "attempts": started, "submitted": submitted, "passed": passed,
        "pass_rate": _share(passed, submitted), "residents": residents,
        "residents_passed": residents_passed,
        "questions": _by_question(session, answered),
        "categories": _by_category(session, answered),
    }


def categories_report(session: so.Session, station_id: int, since: dt.datetime | None,
                      until: dt.datetime | None, locale: str | None = None) -> list[dict[str, Any]]:
    """Across all quizzes: which scam types residents still fall for, most missed first."""
    answered = _answers(station_id, since, until)
    if locale:
        answered = answered.where(Question.locale == locale)
    return _by_category(session, answered)


def missed(session: so.Session, who: Actor, period: Period,
           locale: str | None = None) -> dict[str, Any]:
    """What residents still get wrong in the period (station days), across all quizzes: per
    question and per scam category, the share of answers wrong, most missed first (officers)."""
    who.require("officer", "admin")
    answered = _answers(who.station.id, period.since, period.until)
    if locale:
        answered = answered.where(Question.locale == locale)
    return {"start": period.start, "end": period.end, "time_zone": period.zone.key,
            "questions": _by_question(session, answered),
            "categories": _by_category(session, answered)}


def _answers(station_id: int, since: dt.datetime | None,
             until: dt.datetime | None) -> sa.Select[Any]:
    """Graded answers of submitted attempts, with their question, in the period."""
    wrong = sa.case((AttemptQuestion.is_correct.is_(False), 1), else_=0)
    query = (sa.select(Question.id.label("question_id"), Question.category, Question.text,
                       wrong.label("wrong"))
             .select_from(AttemptQuestion)
             .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
             .join(Question, Question.id == AttemptQuestion.question_id)
             .where(AttemptQuestion.station_id == station_id, Attempt.submitted_at.is_not(None)))
    return _period(query, Attempt.submitted_at, since, until)


def _by_question(session: so.Session, answered: sa.Select[Any]) -> list[dict[str, Any]]:
    sub = answered.subquery()
    rows = session.execute(
        sa.select(sub.c.question_id, sub.c.category, sub.c.text, sa.func.count(),
                  sa.func.sum(sub.c.wrong))
        .group_by(sub.c.question_id, sub.c.category, sub.c.text)).all()
    items = [{"question_id": r[0], "category": r[1], "text": r[2], "answered": r[3],
              "wrong": int(r[4] or 0), "wrong_share": _share(int(r[4] or 0), r[3])} for r in rows]
    return sorted(items, key=lambda i: (-(i["wrong_share"] or 0), i["question_id"]))


def _by_category(session: so.Session, answered: sa.Select[Any]) -> list[dict[str, Any]]:
    sub = answered.subquery()
    rows = session.execute(
        sa.select(sub.c.category, sa.func.count(), sa.func.sum(sub.c.wrong))
        .group_by(sub.c.category)).all()
    items = [{"category": r[0], "labels": CATEGORIES.get(r[0], {"zh-CN": r[0], "en": r[0]}),
              "answered": r[1], "wrong": int(r[2] or 0),
              "wrong_share": _share(int(r[2] or 0), r[1])} for r in rows]
    return sorted(items, key=lambda i: (-(i["wrong_share"] or 0), i["category"]))


# Spreadsheets (the console's Reports page) ------------------------------------------------------

def _yuan(cents: int) -> float:
    return round(cents / 100, 2)


def pass_rates(session: so.Session, who: Actor, period: Period) -> list[Sequence[Any]]:
    """Per quiz (switched off ones too): attempts started in the period, submitted, passed, the
    pass rate (% of submitted) and residents, as ``GET .../reports/quizzes/<id>`` counts them."""
    who.require("officer", "admin")
    rows: list[Sequence[Any]] = []
    for quiz in session.scalars(quizzes.quizzes_query(who, include_inactive=True)
                                .order_by(None).order_by(Quiz.title, Quiz.id)):
        report = quiz_report(session, quiz, period.since, period.until)
        rate = report["pass_rate"]
        rows.append((quiz.title, quiz.locale, report["attempts"], report["submitted"],
                     report["passed"], None if rate is None else round(rate * 100, 1),
                     report["residents"], report["residents_passed"]))
    return rows


def redemptions(session: so.Session, who: Actor, period: Period) -> list[Sequence[Any]]:
    """Per alliance shop: coupons redeemed in the period, the bills and the discounts (yuan),
    as ``GET .../reports/redemptions`` gives them."""
    who.require("officer", "admin")
    return [(line["shop"], line["count"], _yuan(line["bill_cents"]),
             _yuan(line["discount_cents"]))
            for line in redemptions_by_shop(session, who.station.id, period.since, period.until)]


PASS_RATES = Report(
    name="anti_fraud.pass_rates",
    title={"en": "Anti-fraud quiz pass rates", "zh-CN": "反诈答题通过率"},
    columns=({"en": "Quiz", "zh-CN": "答题"}, {"en": "Language", "zh-CN": "语言"},
             {"en": "Attempts", "zh-CN": "答题次数"}, {"en": "Submitted", "zh-CN": "已交卷"},
             {"en": "Passed", "zh-CN": "通过"}, {"en": "Pass rate (%)", "zh-CN": "通过率（%）"},
             {"en": "Residents", "zh-CN": "参与居民"},
             {"en": "Residents passed", "zh-CN": "通过居民"}),
    rows=pass_rates)

REDEMPTIONS = Report(
    name="anti_fraud.redemptions",
    title={"en": "Coupon redemptions per shop", "zh-CN": "各商户优惠券核销"},
    columns=({"en": "Shop", "zh-CN": "商户"}, {"en": "Redemptions", "zh-CN": "核销张数"},
             {"en": "Bills (yuan)", "zh-CN": "消费金额（元）"},
             {"en": "Discounts (yuan)", "zh-CN": "优惠金额（元）"}),
    rows=redemptions)
