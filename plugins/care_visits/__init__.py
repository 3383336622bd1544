"""Care visits: planned, verified and private home visits to disabled, elderly and hardship residents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import orm as so

from core.hookspecs import PluginInfo, RetainedPositions, TaskKind
from core.jobs import Job
from core.models import Assignment, Station, Task, User
from core.plugins import hookimpl
from plugins.care_visits.access import CARE_TEAM, TASK_KIND
from plugins.care_visits.settings import NAME


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from plugins.care_visits.messages import FIELD_MESSAGES, MESSAGES, NOTIFICATIONS
    from plugins.care_visits.settings import SettingsSchema

    return PluginInfo(
        name=NAME, version="1.0.0",
        description="Planned home visits to disabled, elderly and hardship residents.",
        settings_schema=SettingsSchema,
        points_rules={"care_visits.visit_completed": 5},
        # Visits are changed only through the plugin (care officers, consent, the visit
        # record); a visit pays once an officer accepts it (flagged ones are reviewed).
        task_kinds=(TaskKind(TASK_KIND, private=True, generic_sign_up=False,
                             generic_withdraw=False, generic_edit=False, generic_cancel=False,
                             generic_assign=False, needs_acceptance=True,
                             pays="care_visits.visit_completed"),),
        group_kinds=(CARE_TEAM,),
        messages=MESSAGES, notifications=NOTIFICATIONS, field_messages=FIELD_MESSAGES,
        package="plugins.care_visits",
        # Where the first visitor checked in; the check-ins' own positions are the core's.
        retained_positions=(RetainedPositions("care_visits_visit", "began_at",
                                              cleared_at_column="positions_cleared_at"),),
    )


@hookimpl
def wardens_register_blueprints() -> list[Any]:
    from plugins.care_visits.api import blp

    return [blp]


@hookimpl
def wardens_console_pages() -> list[Any]:
    from plugins.care_visits.console import PAGES

    return [PAGES]


@hookimpl
def wardens_reports() -> list[Any]:
    from plugins.care_visits.reports import QUOTA

    return [QUOTA]


@hookimpl
def wardens_scheduled_jobs() -> list[Job]:
    from plugins.care_visits.jobs import JOBS

    return JOBS


@hookimpl
def wardens_assignment_changed(session: so.Session, station: Station, task: Task,
                               assignment: Assignment, previous: str | None) -> None:
    if task.kind == TASK_KIND:
        from plugins.care_visits import visits

        visits.on_assignment_changed(session, task, assignment, previous)


@hookimpl
def wardens_task_completed(session: so.Session, station: Station, task: Task,
                           assignment: Assignment) -> None:
    if task.kind == TASK_KIND:
        from plugins.care_visits import visits

        visits.on_task_completed(session, task, assignment)


@hookimpl
def wardens_membership_removed(session: so.Session, station: Station, user: User) -> None:
    from plugins.care_visits import privacy

    privacy.on_membership_removed(session, station, user)


@hookimpl
def wardens_export_user(session: so.Session, user: User) -> dict[str, Any]:
    from plugins.care_visits import privacy

    return privacy.export_person(session, user)


@hookimpl
def wardens_user_erased(session: so.Session, user: User) -> None:
    from plugins.care_visits import privacy

    privacy.on_user_erased(session, user)


@hookimpl
def wardens_station_sections() -> list[Any]:
    from plugins.care_visits.station_file import SECTION_SPEC

    return [SECTION_SPEC]


@hookimpl
def wardens_seed_demo(session: so.Session, station: Station, people: dict[str, User]) -> None:
    from plugins.care_visits import demo

    demo.seed(session, station, people)


@hookimpl
def wardens_dashboard_metrics(session: so.Session, station: Station,
                              since: dt.datetime) -> dict[str, Any]:
    from plugins.care_visits import metrics

    return metrics.dashboard(session, station, since)


@hookimpl
def wardens_today_cards(session: so.Session, station: Any, user: Any,
                        now: dt.datetime) -> list[Any]:
    from plugins.care_visits import today

    return today.cards(session, station, user, now)


@hookimpl
def wardens_task_targets(session: so.Session, tasks: list[Any]) -> dict[int, Any]:
    from plugins.care_visits import today

    return today.task_targets(session, tasks)
