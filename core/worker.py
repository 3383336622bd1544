"""``wardens worker``: run due job slots and deliver the outbox, round after round."""

from __future__ import annotations

import fcntl
import logging
import time
from typing import TYPE_CHECKING

from core import jobs, notifications
from core.db import instance_path

if TYPE_CHECKING:
    from core.plugins import Deployment

log = logging.getLogger(__name__)


def run_round(deployment: Deployment, name: str) -> None:
    jobs.run_due_jobs(deployment, worker=name)
    notifications.deliver_pending(deployment.database.writer, name)


def run_worker(deployment: Deployment, name: str, once: bool = False,
               interval: float = 15.0) -> None:
    lock = None
    if deployment.database.dialect == "sqlite":
        # SQLite has no SKIP LOCKED: one worker at a time, enforced by a lock file.
        lock = (instance_path() / "worker.lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit("another wardens worker is running on this SQLite database") from None
    log.info("worker %s started", name)
    try:
        while True:
            run_round(deployment, name)
            if once:
                return
            time.sleep(interval)
    finally:
        if lock is not None:
            lock.close()



