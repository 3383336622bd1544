"""Anti-fraud alliance: quizzes that teach, points for passing, shop coupons redeemed at the till."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import orm as so

from core.hookspecs import PluginInfo
from core.models import Station, User
from core.plugins import hookimpl

NAME = "anti_fraud"


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from plugins.anti_fraud.messages import MESSAGES, NOTIFICATIONS
    from plugins.anti_fraud.settings import AntiFraudSettingsSchema

    return PluginInfo(
        name=NAME, version="1.0.0", package=__name__,
        description="Anti-fraud quizzes, alliance shops and coupons",
        settings_schema=AntiFraudSettingsSchema,
        points_rules={"anti_fraud.quiz_passed": 20},
        group_kinds=("shop",),
        messages=MESSAGES, notifications=NOTIFICATIONS,
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
    from plugins.anti_fraud import metrics

    return metrics.dashboard(session, station, since)


@hookimpl
def wardens_today_cards(session: so.Session, station: Any, user: Any,
                        now: dt.datetime) -> list[Any]:
    from plugins.anti_fraud import today

    return today.cards(session, station, user, now)


@hookimpl
def wardens_console_pages() -> list[Any]:
    from plugins.anti_fraud.console import PAGES

    return [PAGES]


@hookimpl
def wardens_reports() -> list[Any]:
    from plugins.anti_fraud.reports import PASS_RATES, REDEMPTIONS

    return [PASS_RATES, REDEMPTIONS]
