"""A small plugin for the tests: a table, a migration, an endpoint, a job, a points rule, a
dashboard metric, event hooks and a delivery provider, installed through a real entry point."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import marshmallow as ma

from core.hookspecs import PluginInfo, TaskKind
from core.jobs import Job
from core.messages import NotificationKind
from core.plugins import hookimpl
from tests.sample_plugin import service

VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"


class SampleSettings(ma.Schema):
    max_note_length = ma.fields.Integer(load_default=200,
                                        validate=ma.validate.Range(min=1, max=2000))
    greeting = ma.fields.String(load_default="welcome", validate=ma.validate.Length(max=40))
    api_token = ma.fields.String(load_default="", metadata={"secret": True})


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    return PluginInfo(
        name="sample", version="1.0.0", description="Notes, for testing the plugin platform",
        settings_schema=SampleSettings, points_rules={"sample.note_written": 3},
        task_kinds=(TaskKind("sample_visit", private=True),),
        messages={"sample_note_too_long": {"en": "A note has at most {max} characters.",
                                           "zh-CN": "笔记最多 {max} 个字符。"}},
        notifications={"sample.hello": NotificationKind(
            {"en": "Hello {name}.", "zh-CN": "你好，{name}。"}, target="sample.note")},
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
def wardens_scheduled_jobs() -> list[Job]:
    return [Job("tally", dt.timedelta(minutes=10), service.tally)]


@hookimpl
def wardens_membership_created(session: Any, station: Any, membership: Any) -> None:
    greeting = service.settings(session, station.id)["greeting"]
    service.record_event(session, station.id, "membership_created", membership.user_id, greeting)


@hookimpl
def wardens_assignment_changed(session: Any, station: Any, task: Any, assignment: Any,
                               previous: str | None) -> None:
    service.record_event(session, station.id, "assignment_changed", assignment.id,
                         f"{previous}->{assignment.status}")


@hookimpl
def wardens_task_completed(session: Any, station: Any, task: Any, assignment: Any) -> None:
    service.record_event(session, station.id, "task_completed", assignment.id)


@hookimpl
def wardens_user_erased(session: Any, user: Any) -> None:
    service.erase(session, user)
    service.record_event(session, None, "user_erased", user.id)


@hookimpl
def wardens_seed_demo(session: Any, station: Any, people: dict[str, Any]) -> None:
    from tests.sample_plugin.models import SampleNote

    session.add(SampleNote(station_id=station.id, user_id=people["volunteer1"].id,
                           text="demo note"))


@hookimpl
def wardens_dashboard_metrics(session: Any, station: Any, since: dt.datetime) -> dict[str, Any]:
    return service.metrics(session, station, since)


@hookimpl
def wardens_deliver_notifications(session: Any, notifications: list[Any]) -> list[Any]:
    return service.deliver(session, notifications)
