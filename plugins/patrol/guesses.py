"""The per-person cap on wrong codes: guesses spread over many patrols still meet one limit."""

from __future__ import annotations

import datetime as dt
import math

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.db import dialect_insert
from core.errors import TooManyRequests
from plugins.patrol.models import GuessLock, Scan

WINDOW = dt.timedelta(hours=24)
WRONG_CODE = "code_invalid"  # the reject code of a scan that counts as a guess


def refusal(locked_until: dt.datetime, now: dt.datetime, cap: int) -> TooManyRequests:
    """429 ``patrol_guesses_exceeded``, with the seconds until the window lets the person in."""
    wait = max(1, math.ceil((locked_until - now).total_seconds()))
    return TooManyRequests("patrol_guesses_exceeded", retry_after=wait, max=cap)


def record_wrong(session: so.Session, station_id: int, user_id: int,
                 counts_from: dt.datetime | None, now: dt.datetime,
                 cap: int) -> tuple[int, dt.datetime | None]:
    """Count a wrong code not stored yet; return (attempts left today, locked until or None).

    Only a wrong code pays for this query, so a right scan costs nothing more. The rolling
    window: the person is let in again when the cap-th newest wrong code turns 24 h old.
    """
    since = now - WINDOW
    if counts_from is not None and counts_from > since:
        since = counts_from  # an officer's unlock forgave the ones before
    earlier = session.scalars(
        sa.select(Scan.server_time)
        .where(Scan.station_id == station_id, Scan.user_id == user_id,
               Scan.reject_code == WRONG_CODE, Scan.server_time > since)
        .order_by(Scan.server_time.desc()).limit(cap)).all()
    times = [now, *earlier]
    if len(times) < cap:
        return cap - len(times), None
    locked_until = times[cap - 1] + WINDOW
    _put(session, station_id, user_id, now, locked_until=locked_until)
    return 0, locked_until


def unlock(session: so.Session, station_id: int, user_id: int,
           now: dt.datetime) -> dt.datetime | None:
    """An officer lets the person scan again; wrong codes so far stop counting.

    Returns when the lock lifted would have ended, or None when there was none.
    """
    until = session.scalar(sa.select(GuessLock.locked_until).where(
        GuessLock.station_id == station_id, GuessLock.user_id == user_id))
    _put(session, station_id, user_id, now, locked_until=None, counts_from=now)
    return until if until is not None and until > now else None


def _put(session: so.Session, station_id: int, user_id: int, now: dt.datetime,
         **values: dt.datetime | None) -> None:
    # One statement, and two first locks racing for the same person never clash.
    session.execute(
        dialect_insert(session, GuessLock)
        .values(station_id=station_id, user_id=user_id, updated_at=now, **values)
        .on_conflict_do_update(index_elements=["station_id", "user_id"],
                               set_={"updated_at": now, **values}))
