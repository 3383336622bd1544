"""Scheduled jobs: each slot of a job runs once per station, on whichever worker claims it."""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.models import JobRun, Station

if TYPE_CHECKING:
    from core.plugins import Deployment

log = logging.getLogger(__name__)

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Job:
    """A periodic job: ``function(session, station, now)`` runs once per station per slot.

    ``per_station=False`` runs it once per slot for the deployment, with ``station=None``.
    ``plugin`` is filled in by the core from the plugin that returned the job.
    """

    name: str
    interval: dt.timedelta
    function: Callable[[so.Session, Station | None, dt.datetime], Any]
    per_station: bool = True
    plugin: str | None = None


def slot_of(job: Job, now: dt.datetime) -> dt.datetime:
    """The start of the interval ``now`` falls in: the unit a job runs once per."""
    seconds = int(job.interval.total_seconds())
    elapsed = int((now - EPOCH).total_seconds())
    return EPOCH + dt.timedelta(seconds=elapsed - elapsed % seconds)


def _claim(session_factory: so.sessionmaker, job: Job, station_id: int, slot: dt.datetime,
           worker: str) -> int | None:
    """Insert the slot's row in a short transaction of its own; the loser gets None."""
    with session_factory() as session:
        try:
            with session.begin():
                run = JobRun(job=job.name, station_id=station_id, slot=slot, worker=worker,
                             started_at=clock.now())
                session.add(run)
            return run.id
        except sa.exc.IntegrityError:
            return None


def run_due_jobs(deployment: Deployment, now: dt.datetime | None = None,
                 worker: str = "worker") -> list[tuple[str, int]]:
    """Run every job slot that is due at ``now`` and not yet claimed; return what ran."""
    now = now or clock.now()
    factory = deployment.database.writer
    ran: list[tuple[str, int]] = []
    with factory() as session:
        stations = session.execute(sa.select(Station.id)).scalars().all()
        enabled = deployment.enabled_by_station(session)
    for job in deployment.jobs:
        slot = slot_of(job, now)
        targets: list[int] = [0]
        if job.per_station:
            targets = [
                sid for sid in stations if job.plugin is None or job.plugin in enabled.get(sid, ())
            ]
        for station_id in targets:
            run_id = _claim(factory, job, station_id, slot, worker)
            if run_id is None:
                continue
            error = None
            try:
                with factory() as session, session.begin():
                    station = session.get(Station, station_id) if station_id else None
                    job.function(session, station, now)
            except Exception:  # a failing job must not stop the others
                error = traceback.format_exc()
                log.exception("job %s failed for station %s", job.name, station_id)
            with factory() as session, session.begin():
                session.execute(
                    sa.update(JobRun).where(JobRun.id == run_id)
                    .values(finished_at=clock.now(), error=error)
                )
            ran.append((job.name, station_id))
    return ran
