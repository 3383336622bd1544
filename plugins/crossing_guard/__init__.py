"""School-crossing guards: recurring shifts at school gates, filled, checked and covered."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import orm as so

from core.hookspecs import PluginInfo, TaskKind
from core.plugins import hookimpl

NAME = "crossing_guard"
TASK_KIND = "crossing_shift"
SHIFT_COMPLETED = "crossing_guard.shift_completed"


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from plugins.crossing_guard import models  # noqa: F401  (the tables join the metadata)
    from plugins.crossing_guard.messages import FIELD_MESSAGES, MESSAGES, NOTIFICATIONS
    from plugins.crossing_guard.settings import SettingsSchema

    return PluginInfo(
        name=NAME, version="1.0.0", package=__name__,
        description="School-crossing posts: shifts at school gates, filled, checked and covered",
        settings_schema=SettingsSchema, task_kinds=(TaskKind(
            # Sign-ups check the team, withdrawals the cutoff: only the plugin changes shifts.
            TASK_KIND, managed=True, generic_sign_up=False, generic_withdraw=False,
            generic_edit=False, generic_cancel=False, generic_assign=False,
            complete_not_before_start=True, pays=SHIFT_COMPLETED, no_show_from="start",
            no_show_grace_setting="no_show_grace_minutes"),),
        points_rules={SHIFT_COMPLETED: 5}, messages=MESSAGES, notifications=NOTIFICATIONS,
        field_messages=FIELD_MESSAGES, group_kinds=("crossing_team",))


@hookimpl
def wardens_register_blueprints() -> list[Any]:
    from plugins.crossing_guard.api import blp

    return [blp]


@hookimpl
def wardens_scheduled_jobs() -> list[Any]:
    from plugins.crossing_guard.jobs import JOBS

    return JOBS


@hookimpl
def wardens_user_erased(session: so.Session, user: Any) -> None:
    """The person's calendar address goes; their shifts stay, anonymous, for the records."""
    from plugins.crossing_guard import privacy

    privacy.erase_person(session, user)


@hookimpl
def wardens_membership_removed(session: so.Session, station: Any, user: Any) -> None:
    """A guard leaving the station: their calendar address stops working, their offers close."""
    from plugins.crossing_guard import feed, swaps

    feed.forget(session, station.id, user.id)
    swaps.void_person(session, station.id, user.id)


@hookimpl
def wardens_export_user(session: so.Session, user: Any) -> dict[str, Any]:
    from plugins.crossing_guard import privacy

    return privacy.export_person(session, user)


@hookimpl
def wardens_station_sections() -> list[Any]:
    from plugins.crossing_guard.station_file import SECTION_SPEC

    return [SECTION_SPEC]


@hookimpl
def wardens_seed_demo(session: so.Session, station: Any, people: dict[str, Any]) -> None:
    from plugins.crossing_guard.demo import seed

    seed(session, station, people)


@hookimpl
def wardens_console_pages() -> list[Any]:
    from plugins.crossing_guard.console import PAGES

    return [PAGES]


@hookimpl
def wardens_reports() -> list[Any]:
    from plugins.crossing_guard.reports import HOURS

    return [HOURS]


@hookimpl
def wardens_dashboard_metrics(session: so.Session, station: Any,
                              since: dt.datetime) -> dict[str, Any]:
    from plugins.crossing_guard import metrics

    return metrics.dashboard(session, station, since)


@hookimpl
def wardens_today_cards(session: so.Session, station: Any, user: Any,
                        now: dt.datetime) -> list[Any]:
    from plugins.crossing_guard import today

    return today.cards(session, station, user, now)


@hookimpl
def wardens_task_targets(session: so.Session, tasks: list[Any]) -> dict[int, Any]:
    from plugins.crossing_guard import today

    return today.task_targets(session, tasks)
