"""The core's own plugin: default providers (registered last, so plugins replace them), core jobs."""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import messages, phone_codes, phones, retention, tasks
from core.hookspecs import PluginInfo
from core.jobs import Job
from core.models import (
    Assignment,
    IdempotencyKey,
    JobRun,
    Station,
)
from core.models.tasks import Task
from core.plugins import hookimpl

sms_log = logging.getLogger("wardens.sms")

IDEMPOTENCY_KEEP = dt.timedelta(days=7)
JOB_RUNS_KEEP = dt.timedelta(days=30)
NO_SHOWS_PER_RUN = 500  # a backlog is caught up over the next slots


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    return PluginInfo(name="core", version="1.0.0", points_rules={"core.task_completed": 0},
                      retained_positions=(retention.CHECKINS,))


@hookimpl
def wardens_reports() -> list[Any]:
    """The core's reports: volunteer hours per person and month."""
    from core.reports import VOLUNTEER_HOURS

    return [VOLUNTEER_HOURS]


@hookimpl
def wardens_station_sections() -> list[Any]:
    """The core's sections of the station file: station, seats, groups, plugins, points."""
    from core.station_file.core_sections import SECTIONS

    return SECTIONS


@hookimpl
def wardens_scheduled_jobs() -> list[Job]:
    return [
        Job("purge_idempotency_keys", dt.timedelta(hours=1), purge_idempotency_keys,
            per_station=False),
        Job("purge_job_runs", dt.timedelta(days=1), purge_job_runs, per_station=False),
        Job("purge_phone_codes", dt.timedelta(hours=1), phone_codes.purge, per_station=False),
        Job("mark_no_shows", dt.timedelta(minutes=5), mark_no_shows),
        # One job for every registered table: it runs whether or not a plugin is switched on.
        Job("clear_old_positions", dt.timedelta(days=1), retention.clear_old_positions),
    ]


def purge_idempotency_keys(session: so.Session, _station: Station | None,
                           now: dt.datetime) -> int:
    """Stored answers to retried writes are kept 7 days."""
    result = session.execute(
        sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < now - IDEMPOTENCY_KEEP))
    return cast(sa.CursorResult[Any], result).rowcount


def purge_job_runs(session: so.Session, _station: Station | None, now: dt.datetime) -> int:
    """A slot long past can never be claimed again: its row is only history."""
    result = session.execute(sa.delete(JobRun).where(JobRun.slot < now - JOB_RUNS_KEEP))
    return cast(sa.CursorResult[Any], result).rowcount


def mark_no_shows(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    """Assignments still signed up past their kind's no-show grace become no-shows."""
    assert station is not None
    rows = session.execute(
        sa.select(Assignment, Task).join(Task, Task.id == Assignment.task_id)
        .where(Assignment.station_id == station.id, Task.station_id == station.id,
               tasks.no_show_due(session, station, now))
        .order_by(Task.ends_at, Assignment.id).limit(NO_SHOWS_PER_RUN)
    ).all()
    return sum(1 for assignment, task in rows if tasks.mark_no_show(session, task, assignment, now))


@hookimpl(trylast=True)
def wardens_verify_identity(session: so.Session, grant_type: str, payload: dict[str, Any]) -> None:
    return None  # only password and refresh_token, which the core handles itself


@hookimpl(trylast=True)
def wardens_send_text(session: so.Session, phone: str, code: str, params: dict[str, Any],
                      locale: str) -> bool:
    # The text may carry a sign-in code: the log (kept, shipped, read by operators) gets only
    # the masked number and the message's code; the demo, with no SMS gateway, prints it all.
    sms_log.info("SMS to %s [%s] (no SMS provider installed)", phones.mask(phone), code)
    if os.environ.get("WARDENS_ENV") == "development":
        print(f"[SMS to {phone}] {messages.render(code, locale, params)}", flush=True)
    return True
