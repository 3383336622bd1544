"""Anti-fraud alliance: quizzes that teach, points for passing, shop coupons redeemed at the till."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy import orm as so

from core.hookspecs import PluginInfo
from core.models import PointsEntry, Station, User
from core.plugins import hookimpl

NAME = "anti_fraud"


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from plugins.anti_fraud.messages import MESSAGES
    from plugins.anti_fraud.settings import AntiFraudSettingsSchema

    return PluginInfo(
        name=NAME, version="1.0", package=__name__,
        description="Anti-fraud quizzes, alliance shops and coupons",
        settings_schema=AntiFraudSettingsSchema,
        points_rules={"anti_fraud.quiz_passed": 20},
        group_kinds=("shop",),
        messages=MESSAGES,
    )


@hookimpl
def wardens_register_blueprints() -> list[Any]:
    from plugins.anti_fraud.api import blp

    return [blp]


@hookimpl
def wardens_register_commands(load_deployment: Callable[[], Any]) -> list[click.Command]:
    from plugins.anti_fraud.cli import commands

    return [commands(load_deployment)]


@hookimpl
def wardens_plugin_switched(session: so.Session, station: Station, plugin: str,
                            enabled: bool) -> None:
    """A station switching the plugin on gets the starter bank (questions it lacks only)."""
    if plugin != NAME or not enabled:
        return
    from plugins.anti_fraud import bank, settings

    locales = list(settings.for_station(session, station.id).starter_bank_locales)
    if locales:
        bank.load_starter_bank(session, station.id, locales, role="system")


@hookimpl
def wardens_station_sections() -> list[Any]:
    from plugins.anti_fraud.station_file import SECTION_SPEC

    return [SECTION_SPEC]


@hookimpl
def wardens_export_user(session: so.Session, user: User) -> dict[str, Any]:
    from plugins.anti_fraud import privacy

    return privacy.export_person(session, user)


@hookimpl
def wardens_seed_demo(session: so.Session, station: Station, people: dict[str, User]) -> None:
    from plugins.anti_fraud import demo

    demo.seed(session, station, people)


@hookimpl
def wardens_dashboard_metrics(session: so.Session, station: Station,
                              since: dt.datetime) -> dict[str, Any]:
    from plugins.anti_fraud.models import Attempt, Coupon, Quiz, Redemption

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
