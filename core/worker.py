"""``wardens worker``: run due job slots and deliver the outbox, round after round."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from core import jobs, metrics, notifications

if TYPE_CHECKING:
    from core.plugins import Deployment

log = logging.getLogger(__name__)


class WorkerLocked(Exception):
    """Another worker already runs on this SQLite database."""


def run_round(deployment: Deployment, name: str) -> tuple[list[tuple[str, int]], int]:
    """One round: every due job slot, then the outbox until it is empty."""
    ran = jobs.run_due_jobs(deployment, worker=name)
    delivered = notifications.deliver_pending(deployment.database.writer, name)
    notifications.send_due_texts(deployment.database, name)
    metrics.NOTIFICATIONS_DELIVERED.inc(delivered)
    return ran, delivered


@contextlib.contextmanager
def exclusive_on_sqlite(deployment: Deployment) -> Iterator[None]:
    """SQLite has no SKIP LOCKED: one worker per database file, held by a lock beside it."""
    database = deployment.database.engine.url.database
    if deployment.database.dialect != "sqlite" or not database or database == ":memory:":
        yield
        return
    path = Path(database).resolve().with_name(Path(database).name + ".worker.lock")
    with path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkerLocked(f"another wardens worker is running on {database}") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_worker(deployment: Deployment, name: str, once: bool = False, interval: float = 15.0,
               stop: threading.Event | None = None) -> None:
    """Run rounds every ``interval`` seconds until ``stop`` is set; a round in progress ends first."""
    stop = stop or threading.Event()
    with exclusive_on_sqlite(deployment):
        log.info("worker %s started", name)
        while not stop.is_set():
            try:
                ran, delivered = run_round(deployment, name)
                if ran or delivered:
                    log.info("worker %s: %d job slot(s), %d notification(s)", name, len(ran),
                             delivered)
            except Exception:  # the database may be briefly away: try again next round
                if once:
                    raise
                log.exception("worker %s: round failed", name)
            if once:
                break
            stop.wait(interval)
        log.info("worker %s stopped", name)
