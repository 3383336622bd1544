"""A provider's access token shared by every process: fetched once, kept in the database until
close to expiry, refreshed by whoever holds the row's lock (never per message)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import dialect_insert
from core.models import ProviderToken

# A token this close to its expiry is refreshed: a send in flight must not carry a dead one.
MARGIN = dt.timedelta(minutes=5)


def shared(session: so.Session, name: str,
           fetch: Callable[[], tuple[str, dt.timedelta]]) -> str:
    """The token ``name``; ``fetch()`` -> (token, lifetime) is called only when it is missing or
    near expiry, by one process at a time.

    ``session`` must be able to write (the worker's transaction, or a short one of the
    caller's). A fresh token is read without a lock; a stale one is refreshed under the row's
    lock (SELECT ... FOR UPDATE on PostgreSQL, the write lock on SQLite), and a process that
    waited on it finds the token the first one fetched.
    """
    now = clock.now()
    fresh = session.scalar(sa.select(ProviderToken.value).where(
        ProviderToken.name == name, ProviderToken.expires_at > now + MARGIN))
    if fresh:
        return fresh
    session.execute(dialect_insert(session, ProviderToken).values(name=name)
                    .on_conflict_do_nothing(index_elements=["name"]))
    row = session.scalars(sa.select(ProviderToken).where(ProviderToken.name == name)
                          .with_for_update().execution_options(populate_existing=True)).one()
    if row.value and row.expires_at is not None and row.expires_at > now + MARGIN:
        return row.value  # another process refreshed it while this one waited
    value, lifetime = fetch()
    row.value, row.expires_at, row.refreshed_at = value, now + lifetime, now
    session.flush()
    return value


def forget(session: so.Session, name: str) -> None:
    """The provider refused the token (revoked, rotated elsewhere): the next use fetches anew."""
    session.execute(sa.update(ProviderToken).where(ProviderToken.name == name)
                    .values(expires_at=None))
