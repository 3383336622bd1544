"""School-crossing guards: recurring shifts at school gates, filled, checked and covered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import ledger
from core.hookspecs import PluginInfo, TaskKind
from core.plugins import hookimpl

NAME = "crossing_guard"
TASK_KIND = "crossing_shift"
SHIFT_COMPLETED = "crossing_guard.shift_completed"


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from plugins.crossing_guard import models  # noqa: F401  (the tables join the metadata)
    from plugins.crossing_guard.messages import MESSAGES
    from plugins.crossing_guard.settings import SettingsSchema

    return PluginInfo(
        name=NAME, version="1", package=__name__,
        description="School-crossing posts: shifts at school gates, filled, checked and covered",
        settings_schema=SettingsSchema, task_kinds=(TaskKind(TASK_KIND, managed=True),),
        points_rules={SHIFT_COMPLETED: 5}, messages=MESSAGES)


@hookimpl
def wardens_register_blueprints() -> list[Any]:
    from plugins.crossing_guard.api import blp

    return [blp]


@hookimpl
def wardens_scheduled_jobs() -> list[Any]:
    from plugins.crossing_guard.jobs import JOBS

    return JOBS


@hookimpl
def wardens_task_completed(session: so.Session, station: Any, task: Any,
                           assignment: Any) -> None:
    """Points per completed shift by the station's rule, booked once per assignment."""
    if task.kind != TASK_KIND:
        return
    ledger.award(session, station_id=station.id, user_id=assignment.user_id,
                 event_code=SHIFT_COMPLETED, source_type="crossing_shift",
                 source_id=assignment.id)


@hookimpl
def wardens_assignment_changed(session: so.Session, station: Any, task: Any, assignment: Any,
                               previous: str | None) -> None:
    """A crossing shift changed through the core's generic endpoints still obeys our rules."""
    if task.kind != TASK_KIND:
        return
    from plugins.crossing_guard.guard import check_change

    check_change(session, station, task, assignment, previous)


@hookimpl
def wardens_user_erased(session: so.Session, user: Any) -> None:
    """The person's calendar address goes; their shifts stay, anonymous, for the records."""
    from plugins.crossing_guard.models import Feed, SwapOffer

    session.execute(sa.delete(Feed).where(Feed.user_id == user.id))
    session.execute(sa.update(SwapOffer).where(SwapOffer.offered_by == user.id)
                    .values(note=""))


@hookimpl
def wardens_station_sections() -> list[Any]:
    from plugins.crossing_guard.station_file import SECTION_SPEC

    return [SECTION_SPEC]


@hookimpl
def wardens_seed_demo(session: so.Session, station: Any, people: dict[str, Any]) -> None:
    from plugins.crossing_guard.demo import seed

    seed(session, station, people)


@hookimpl
def wardens_dashboard_metrics(session: so.Session, station: Any,
                              since: dt.datetime) -> dict[str, Any]:
    from plugins.crossing_guard.records import dashboard

    return dashboard(session, station, since)
