"""The patrol plugin: routes with checkpoint codes, patrols and scans, incidents, roster, coverage."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import orm as so

from core.hookspecs import PluginInfo, RetainedPositions, TaskKind
from core.jobs import Job
from core.models import Station, User
from core.plugins import hookimpl
from plugins.patrol import models  # noqa: F401  (tables known before the prefix check)

VERSION = "1.0.0"


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from plugins.patrol.messages import FIELD_MESSAGES, NOTIFICATIONS, all_messages
    from plugins.patrol.settings import PatrolSettingsSchema

    return PluginInfo(
        name="patrol", version=VERSION, package=__name__,
        description="Red-armband patrols: checkpoint codes, incidents, duty roster, coverage",
        settings_schema=PatrolSettingsSchema,
        points_rules={"patrol.checkpoint_ok": 2, "patrol.completed": 10},
        # A patrol pays through its own rules (checkpoints, completion) at finish, scheduled or
        # ad hoc: the core books nothing more for the patrol task.
        task_kinds=(TaskKind("patrol", pays=None),),
        group_kinds=("patrol_team",),
        messages=all_messages(), notifications=NOTIFICATIONS, field_messages=FIELD_MESSAGES,
        # Where a patroller stood at each scan; a resolved incident's report position.
        retained_positions=(
            RetainedPositions("patrol_scan", "server_time"),
            RetainedPositions("patrol_incident", "resolved_at", only_when={"status": "resolved"}),
        ),
    )


@hookimpl
def wardens_register_blueprints() -> list[Any]:
    from plugins.patrol.api import blp

    return [blp]


@hookimpl
def wardens_scheduled_jobs() -> list[Job]:
    from plugins.patrol.jobs import JOBS

    return JOBS


@hookimpl
def wardens_station_sections() -> list[Any]:
    from plugins.patrol.station_file import SECTION_SPEC

    return [SECTION_SPEC]


@hookimpl
def wardens_export_user(session: so.Session, user: User) -> dict[str, Any]:
    from plugins.patrol import privacy

    return privacy.export_person(session, user)


@hookimpl
def wardens_membership_removed(session: so.Session, station: Station, user: User) -> None:
    from plugins.patrol import privacy

    privacy.on_membership_removed(session, station, user)


@hookimpl
def wardens_user_erased(session: so.Session, user: User) -> None:
    """Scan positions, the reporter's words, position and photos go; every count stays
    (see :func:`plugins.patrol.privacy.erase_person`)."""
    from plugins.patrol import privacy

    privacy.erase_person(session, user)


@hookimpl
def wardens_seed_demo(session: so.Session, station: Station, people: dict[str, User]) -> None:
    from plugins.patrol import demo

    demo.seed(session, station, people)


@hookimpl
def wardens_console_pages() -> list[Any]:
    from plugins.patrol.console import PAGES

    return [PAGES]


@hookimpl
def wardens_reports() -> list[Any]:
    from plugins.patrol.reports import COVERAGE

    return [COVERAGE]


@hookimpl
def wardens_console_panels(session: so.Session, actor: Any) -> list[Any]:
    from plugins.patrol import console

    return console.panels(session, actor)


@hookimpl
def wardens_dashboard_metrics(session: so.Session, station: Station,
                              since: dt.datetime) -> dict[str, Any]:
    from plugins.patrol import metrics

    return metrics.dashboard(session, station, since)


@hookimpl
def wardens_today_cards(session: so.Session, station: Any, user: Any,
                        now: dt.datetime) -> list[Any]:
    from plugins.patrol import today

    return today.cards(session, station, user, now)
