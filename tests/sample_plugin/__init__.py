"""A small plugin for the tests: a table, a migration, an endpoint, a job, a points rule, a
dashboard metric, event hooks and a delivery provider, installed through a real entry point."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from core.hookspecs import PluginInfo, TaskKind
from core.plugins import hookimpl

VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from tests.sample_plugin.messages import MESSAGES, NOTIFICATIONS
    from tests.sample_plugin.settings import SampleSettings

    return PluginInfo(
        name="sample", version="1.0.0", description="Notes, for testing the plugin platform",
        settings_schema=SampleSettings, points_rules={"sample.note_written": 3},
        task_kinds=(TaskKind("sample_visit", private=True),), messages=MESSAGES,
        notifications=NOTIFICATIONS,
    )


@hookimpl
def wardens_register_blueprints() -> list[Any]:
    from tests.sample_plugin.api import blp

    return [blp]


@hookimpl
def wardens_station_sections() -> list[Any]:
    from tests.sample_plugin.station_file import SECTION

    return [SECTION]


@hookimpl
def wardens_migration_folders() -> list[str]:
    return [str(VERSIONS)]


@hookimpl
def wardens_scheduled_jobs() -> list[Any]:
    from tests.sample_plugin.jobs import JOBS

    return JOBS


@hookimpl
def wardens_membership_created(session: Any, station: Any, membership: Any) -> None:
    from tests.sample_plugin.heard import record_event
    from tests.sample_plugin.settings import settings

    greeting = settings(session, station.id)["greeting"]
    record_event(session, station.id, "membership_created", membership.user_id, greeting)


@hookimpl
def wardens_assignment_changed(session: Any, station: Any, task: Any, assignment: Any,
                               previous: str | None) -> None:
    from tests.sample_plugin.heard import record_event

    record_event(session, station.id, "assignment_changed", assignment.id,
                         f"{previous}->{assignment.status}")


@hookimpl
def wardens_task_completed(session: Any, station: Any, task: Any, assignment: Any) -> None:
    from tests.sample_plugin.heard import record_event

    record_event(session, station.id, "task_completed", assignment.id)


@hookimpl
def wardens_user_erased(session: Any, user: Any) -> None:
    from tests.sample_plugin.heard import record_event
    from tests.sample_plugin.privacy import erase

    erase(session, user)
    record_event(session, None, "user_erased", user.id)


@hookimpl
def wardens_seed_demo(session: Any, station: Any, people: dict[str, Any]) -> None:
    from tests.sample_plugin.demo import seed

    seed(session, station, people)


@hookimpl
def wardens_dashboard_metrics(session: Any, station: Any, since: dt.datetime) -> dict[str, Any]:
    from tests.sample_plugin.metrics import metrics

    return metrics(session, station, since)


@hookimpl
def wardens_deliver_notifications(session: Any, notifications: list[Any]) -> list[Any]:
    from tests.sample_plugin.delivery import deliver

    return deliver(session, notifications)
