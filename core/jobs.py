"""Scheduled jobs: each slot of a job runs once per station, on whichever worker claims it."""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, metrics
from core.db import dialect_insert
from core.models import JobRun, Station

if TYPE_CHECKING:
    from core.plugins import Deployment

log = logging.getLogger(__name__)

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
DEPLOYMENT_WIDE = 0  # the station_id of a job run that is not per station


@dataclass(frozen=True)
class Job:
    """A periodic job: ``function(session, station, now)`` runs once per station per slot.

    The function runs in a transaction of its own that commits when it returns (never commit
    inside it); an exception rolls it back and is recorded on the slot's ``job_run`` row. A slot
    runs at most once: write jobs that catch up on everything due (``... WHERE due < now``)
    rather than only on their own slot, so a slot missed while no worker ran costs nothing.

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


#: Slots claimed per statement: a round of a city's jobs (100 stations, a dozen jobs) is one.
CLAIMS_PER_STATEMENT = 2000


def _claim(session_factory: so.sessionmaker, due: list[tuple[Job, int]],
           slot_of_job: dict[str, dt.datetime],
           worker: str, now: dt.datetime) -> dict[tuple[str, int], int]:
    """Insert the round's due slot rows in one statement and return those this worker won,
    (job, station) -> run id; a slot already claimed (by anyone, in this slot) is left out.

    The unique (job, station, slot) key decides: on PostgreSQL a concurrent claimer waits on
    the index until the winner commits, then skips the row; on SQLite writers are serialised.
    """
    won: dict[tuple[str, int], int] = {}
    for start in range(0, len(due), CLAIMS_PER_STATEMENT):
        rows = [{"job": job.name, "station_id": station_id, "slot": slot_of_job[job.name],
                 "worker": worker, "started_at": now}
                for job, station_id in due[start:start + CLAIMS_PER_STATEMENT]]
        with session_factory() as session, session.begin():
            claimed = session.execute(
                dialect_insert(session, JobRun).values(rows)
                .on_conflict_do_nothing(index_elements=["job", "station_id", "slot"])
                .returning(JobRun.id, JobRun.job, JobRun.station_id)
            ).all()
        won.update({(name, station_id): run_id for run_id, name, station_id in claimed})
    return won


def run_due_jobs(deployment: Deployment, now: dt.datetime | None = None,
                 worker: str = "worker") -> list[tuple[str, int]]:
    """Run every job slot that is due at ``now`` and not yet claimed; return (job, station) ran.

    A plugin's per-station job runs only for the stations that have the plugin switched on.
    The round's slots are claimed together (one statement), then run one after the other.
    """
    now = now or clock.now()
    factory = deployment.database.writer
    with factory() as session:
        stations = session.execute(sa.select(Station.id).order_by(Station.id)).scalars().all()
        enabled = deployment.enabled_by_station(session)
        slots = {job.name: slot_of(job, now) for job in deployment.jobs}
        # Slots already claimed are not offered again: most rounds claim nothing at all.
        taken = set(session.execute(
            sa.select(JobRun.job, JobRun.station_id).where(
                sa.tuple_(JobRun.job, JobRun.slot).in_(list(slots.items())))).all()) \
            if slots else set()
    due: list[tuple[Job, int]] = []
    for job in deployment.jobs:
        targets = [DEPLOYMENT_WIDE]
        if job.per_station:
            targets = [sid for sid in stations
                       if job.plugin is None or job.plugin in enabled.get(sid, ())]
        due.extend((job, sid) for sid in targets if (job.name, sid) not in taken)
    won = _claim(factory, due, slots, worker, now) if due else {}
    ran: list[tuple[str, int]] = []
    for job, station_id in due:
        run_id = won.get((job.name, station_id))
        if run_id is None:
            continue
        started = time.perf_counter()
        error = _run(factory, job, station_id, now)
        metrics.JOB_RUNS.labels(job.name).inc()
        if error:
            metrics.JOB_FAILURES.labels(job.name).inc()
        log.info("job %s %s", job.name, "failed" if error else "done", extra={
            "job": job.name, "station": station_id or None, "error": error is not None,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        with factory() as session, session.begin():
            session.execute(
                sa.update(JobRun).where(JobRun.id == run_id)
                .values(finished_at=clock.now(), error=error)
            )
        ran.append((job.name, station_id))
    return ran


def _run(factory: so.sessionmaker, job: Job, station_id: int, now: dt.datetime) -> str | None:
    try:
        with factory() as session, session.begin():
            station = session.get(Station, station_id) if station_id else None
            job.function(session, station, now)
    except Exception:  # a failing job must not stop the others; the slot records why
        log.exception("job %s failed for station %s", job.name, station_id)
        return traceback.format_exc()[-4000:]
    return None
