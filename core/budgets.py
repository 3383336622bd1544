"""Send budgets: how many sends a key may make per fixed window, counted in the database."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Database, dialect_insert
from core.jobs import EPOCH
from core.models import SendBudget

KEPT = dt.timedelta(days=2)  # past windows are only history: longer than any window in use


def window_of(window: dt.timedelta, now: dt.datetime) -> dt.datetime:
    seconds = int(window.total_seconds())
    elapsed = int((now - EPOCH).total_seconds())
    return EPOCH + dt.timedelta(seconds=elapsed - elapsed % seconds)


def take(session: so.Session, key: str, limit: int, window: dt.timedelta,
         now: dt.datetime | None = None) -> dt.timedelta | None:
    """Count one send of ``key`` in the current window: None when it fits in ``limit``, else
    how long until the window ends (nothing counted).

    One conditional upsert: concurrent takers (other workers, other servers) wait on the row
    and never pass the limit together, on PostgreSQL and SQLite alike.
    """
    now = now or clock.now()
    start = window_of(window, now)
    insert = dialect_insert(session, SendBudget).values(key=key, window_start=start, used=1)
    used = session.execute(
        insert.on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"used": SendBudget.used + 1},
            where=SendBudget.used < limit)
        .returning(SendBudget.used)).scalar()
    if used is None or used > limit:
        return max(start + window - now, dt.timedelta(seconds=1))
    return None


def take_now(database: Database, *budgets: tuple[str, int, dt.timedelta]
             ) -> tuple[str, dt.timedelta] | None:
    """One send against every ``(key, limit, window)`` at once, in a short transaction of its
    own (for a caller holding none, such as the text outbox): all are counted, or, when one is
    spent, none is and its key and wait are returned."""
    with database.writer() as session, session.begin() as transaction:
        for key, limit, window in budgets:
            wait = take(session, key, limit, window)
            if wait is not None:
                transaction.rollback()
                return key, wait
    return None


def purge(session: so.Session, _station: Any, now: dt.datetime) -> int:
    result = session.execute(sa.delete(SendBudget).where(SendBudget.window_start < now - KEPT))
    return cast(sa.CursorResult[Any], result).rowcount
