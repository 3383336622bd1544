"""Retention: what stops each growing table from growing for ever (old positions cleared, read
notifications, ended sessions and old audit events moved or removed), in short batches."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import events, geofence
from core.db import Base
from core.hookspecs import RetainedPositions
from core.models import (
    AuditArchive,
    AuditEvent,
    AuthSession,
    Checkin,
    Device,
    Notification,
    RetentionMark,
    Station,
)

BATCH = 1000
# Per table and run: a first run over a long history catches up over the next days.
MAX_BATCHES = 50


@dataclass(frozen=True)
class Rules:
    """The deployment's retention settings (``WARDENS_*`` in the environment)."""

    #: A notification read this many days ago is deleted (unread ones stay).
    read_notifications_days: int = 90
    #: A session refreshes for at most this many days after sign-in, then signs in again.
    session_lifetime_days: int = 90
    #: A session not refreshed for this many days has ended (a phone left in a drawer).
    session_idle_days: int = 30
    #: Audit events stay online (the station's audit page) this many months, then are archived.
    audit_online_months: int = 6
    #: An archived audit event is deleted after this many months; 0 keeps it for ever.
    audit_archive_months: int = 0


SETTINGS = {
    "read_notifications_days": "WARDENS_READ_NOTIFICATIONS_KEEP_DAYS",
    "session_lifetime_days": "WARDENS_SESSION_LIFETIME_DAYS",
    "session_idle_days": "WARDENS_SESSION_IDLE_DAYS",
    "audit_online_months": "WARDENS_AUDIT_ONLINE_MONTHS",
    "audit_archive_months": "WARDENS_AUDIT_ARCHIVE_MONTHS",
}


def rules(environ: Mapping[str, str] | None = None) -> Rules:
    """The retention settings from the environment; ValueError names a bad one."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field, name in SETTINGS.items():
        if name not in environ:
            continue
        raw = environ[name]
        if not raw.isdigit() or (int(raw) == 0 and field != "audit_archive_months"):
            raise ValueError(f"{name}={raw!r}: a whole number of "
                             f"{'months' if field.endswith('months') else 'days'}"
                             f"{' (0: for ever)' if field == 'audit_archive_months' else ''}"
                             ", at least 1")
        values[field] = int(raw)
    found = Rules(**values)
    if found.audit_archive_months and found.audit_archive_months < found.audit_online_months:
        raise ValueError("WARDENS_AUDIT_ARCHIVE_MONTHS: shorter than WARDENS_AUDIT_ONLINE_MONTHS"
                         " (an event would be deleted before it is archived)")
    return found


def months_before(when: dt.datetime, months: int) -> dt.datetime:
    """The same day and time ``months`` calendar months earlier (the month's last day if short)."""
    index = when.year * 12 + when.month - 1 - months
    year, month = divmod(index, 12)
    day = when.day
    while True:
        try:
            return when.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def session_expired(created_at: dt.datetime, rotated_at: dt.datetime, now: dt.datetime) -> bool:
    """A session signed in at ``created_at`` and last refreshed at ``rotated_at`` is past its
    absolute lifetime or was left idle too long: it cannot refresh any more."""
    found = rules()
    return (now - created_at > dt.timedelta(days=found.session_lifetime_days)
            or now - rotated_at > dt.timedelta(days=found.session_idle_days))


def _in_batches(session: so.Session, ids: sa.Select[Any], act: Any) -> int:
    """Run ``act(ids)`` on batches of the ids ``ids`` selects until none are left (or
    MAX_BATCHES were done: the next run goes on); each batch is short, so nothing stays locked
    for long behind it."""
    done = 0
    for _ in range(MAX_BATCHES):
        batch = list(session.scalars(ids.limit(BATCH)).all())
        if batch:
            act(batch)
            done += len(batch)
        if len(batch) < BATCH:
            break
    return done


def purge_read_notifications(session: so.Session, _station: Station | None,
                             now: dt.datetime) -> int:
    """Retention (daily, deployment-wide): notifications read more than
    ``WARDENS_READ_NOTIFICATIONS_KEEP_DAYS`` ago are deleted; unread ones stay. A notice keeps
    how many it reached (``notice.recipients``), and unread counts never counted these."""
    cutoff = now - dt.timedelta(days=rules().read_notifications_days)
    due = (sa.select(Notification.id).where(Notification.read_at < cutoff)
           .order_by(Notification.read_at, Notification.id))
    return _in_batches(session, due, lambda ids: session.execute(
        sa.delete(Notification).where(Notification.id.in_(ids))
        .execution_options(synchronize_session=False)))


def purge_ended_sessions(session: so.Session, _station: Station | None, now: dt.datetime) -> int:
    """Retention (daily, deployment-wide): sessions that can no longer refresh (revoked, past
    their lifetime or idle limit) are deleted with the push registrations they made."""
    found = rules()
    ended = sa.or_(AuthSession.revoked_at.is_not(None),
                   AuthSession.created_at < now - dt.timedelta(days=found.session_lifetime_days),
                   AuthSession.rotated_at < now - dt.timedelta(days=found.session_idle_days))
    # A revoked session stays a day: a stolen refresh token replayed then is still recognised.
    kept = now - dt.timedelta(days=1)
    due = (sa.select(AuthSession.id)
           .where(ended, sa.or_(AuthSession.revoked_at.is_(None), AuthSession.revoked_at < kept))
           .order_by(AuthSession.id))

    def delete(ids: list[int]) -> None:
        session.execute(sa.delete(Device).where(Device.session_id.in_(ids)))
        session.execute(sa.delete(AuthSession).where(AuthSession.id.in_(ids))
                        .execution_options(synchronize_session=False))

    return _in_batches(session, due, delete)


def archive_audit_events(session: so.Session, _station: Station | None, now: dt.datetime) -> int:
    """Retention (daily, deployment-wide): audit events older than
    ``WARDENS_AUDIT_ONLINE_MONTHS`` move to ``audit_event_archive`` (same ids and values), in
    the same transaction as they leave; archived events older than
    ``WARDENS_AUDIT_ARCHIVE_MONTHS`` (when set) are deleted."""
    found = rules()
    events_table = Base.metadata.tables[AuditEvent.__tablename__]
    columns = [c.name for c in events_table.columns]
    due = (sa.select(AuditEvent.id)
           .where(AuditEvent.created_at < months_before(now, found.audit_online_months))
           .order_by(AuditEvent.id))

    def move(ids: list[int]) -> None:
        session.execute(sa.insert(AuditArchive).from_select(
            [*columns, "archived_at"],
            sa.select(*(events_table.c[name] for name in columns),
                      sa.literal(now, AuditArchive.archived_at.type))
            .where(events_table.c.id.in_(ids))))
        # Core DELETE: the ORM's append-only guard watches objects, and this is the one move.
        session.execute(sa.delete(events_table).where(events_table.c.id.in_(ids)))

    moved = _in_batches(session, due, move)
    if found.audit_archive_months:
        old = (sa.select(AuditArchive.id)
               .where(AuditArchive.created_at < months_before(now, found.audit_archive_months))
               .order_by(AuditArchive.id))
        _in_batches(session, old, lambda ids: session.execute(
            sa.delete(AuditArchive).where(AuditArchive.id.in_(ids))))
    return moved

#: The core's own: check-in positions (of every task kind); the check-ins stay.
CHECKINS = RetainedPositions(table=Checkin.__tablename__, time_column="server_time")


def check(spec: RetainedPositions) -> str | None:
    """Why ``spec`` cannot be cleared (an unknown table or column), or None."""
    table = Base.metadata.tables.get(spec.table)
    if table is None:
        return f"table {spec.table} is not a model of this deployment"
    needed = ["id", "station_id", spec.time_column, *spec.position_columns, *spec.only_when]
    if spec.cleared_at_column:
        needed.append(spec.cleared_at_column)
    missing = [name for name in needed if name not in table.c]
    if missing:
        return f"table {spec.table} has no column {', '.join(missing)}"
    if not spec.position_columns:
        return f"table {spec.table}: no position columns named"
    return None


def clear_old_positions(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    """Retention (daily): positions older than the station's ``tasks.position_retention_days``
    are cleared in every registered table, whether or not the owning plugin is switched on;
    the rows themselves (the facts of a check-in, scan or visit) stay."""
    assert station is not None
    days = int(geofence.station_rules(station.settings)["position_retention_days"])
    cutoff = now - dt.timedelta(days=days)
    return sum(_clear(session, station.id, spec, cutoff, now)
               for spec in events.deployment(session).retained_positions)


def _clear(session: so.Session, station_id: int, spec: RetainedPositions, cutoff: dt.datetime,
           now: dt.datetime) -> int:
    table = Base.metadata.tables[spec.table]
    time = table.c[spec.time_column]
    mark = session.scalar(sa.select(RetentionMark).where(
        RetentionMark.station_id == station_id, RetentionMark.table_name == spec.table))
    since = mark.cleared_until if mark is not None else None
    if since is not None and since >= cutoff:
        return 0
    due = [table.c.station_id == station_id, time < cutoff,
           sa.or_(*(table.c[c].is_not(None) for c in spec.position_columns)),
           *(table.c[c] == value for c, value in spec.only_when.items())]
    values: dict[str, object] = {c: None for c in spec.position_columns}
    if spec.cleared_at_column:
        values[spec.cleared_at_column] = now
    cleared = 0
    for _ in range(MAX_BATCHES):
        window = due if since is None else [*due, time >= since]
        rows = session.execute(sa.select(table.c.id, time).where(*window)
                               .order_by(time, table.c.id).limit(BATCH)).all()
        if rows:
            session.execute(sa.update(table).where(table.c.id.in_([r[0] for r in rows]))
                            .values(values).execution_options(synchronize_session=False))
            cleared += len(rows)
        if len(rows) < BATCH:
            reached = cutoff
            break
        # Rows at this very time are cleared, so starting there again repeats none of them.
        since = rows[-1][1]
    else:
        assert since is not None
        reached = since
    if mark is None:
        session.add(RetentionMark(station_id=station_id, table_name=spec.table,
                                  cleared_until=reached))
    else:
        mark.cleared_until = reached
    return cleared
