"""The outbox and inbox: notify a person now, deliver later through the delivery hook."""

from __future__ import annotations

import datetime as dt
import logging
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, events
from core.hookspecs import Delivery
from core.models import Notification
from core.models.notifications import DeliveryStatus

log = logging.getLogger(__name__)

BATCH = 100
MAX_ATTEMPTS = 5
# A claim older than this belongs to a worker that died; the notification is claimed again.
STALE_CLAIM = dt.timedelta(minutes=10)
OUTCOMES = frozenset({"sent", "skipped", "retry", "failed"})


def notify(session: so.Session, user_id: int, code: str, station_id: int | None = None,
           **params: Any) -> Notification:
    """Queue a notification in the same transaction as the change it tells about."""
    row = Notification(user_id=user_id, code=code, params=params, station_id=station_id)
    session.add(row)
    return row


def send_text(session: so.Session, phone: str, code: str, locale: str = "zh-CN",
              **params: Any) -> bool:
    """Send a short text message through the deployment's SMS provider."""
    result = events.deployment(session).pm.hook.wardens_send_text(
        session=session, phone=phone, code=code, params=params, locale=locale)
    return bool(result)


def claim(session_factory: so.sessionmaker, worker: str, batch: int = BATCH) -> list[int]:
    """Claim up to ``batch`` due notifications for ``worker``; no two workers get one."""
    now = clock.now()
    with session_factory() as session, session.begin():
        due = sa.or_(
            sa.and_(Notification.delivery_status == DeliveryStatus.PENDING,
                    Notification.next_attempt_at <= now),
            sa.and_(Notification.delivery_status == DeliveryStatus.SENDING,
                    Notification.claimed_at < now - STALE_CLAIM),
        )
        # SKIP LOCKED on PostgreSQL: a concurrent claimer passes over these rows; a row whose
        # claim committed meanwhile is re-checked against `due` and left out. On SQLite the
        # write lock taken at BEGIN serialises claims.
        ids = session.scalars(
            sa.select(Notification.id).where(due).order_by(Notification.id).limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            return []
        session.execute(
            sa.update(Notification).where(Notification.id.in_(ids))
            .values(delivery_status=DeliveryStatus.SENDING, claimed_by=worker, claimed_at=now,
                    attempts=Notification.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return list(ids)


def deliver_pending(session_factory: so.sessionmaker, worker: str, batch: int = BATCH) -> int:
    """Claim and deliver due notifications until none is left; return how many were handled.

    Each station's notifications go to the ``wardens_deliver_notifications`` providers switched
    on for that station; the outcome is recorded in the same transaction.
    """
    done = 0
    while ids := claim(session_factory, worker, batch):
        with session_factory() as session, session.begin():
            rows = session.scalars(
                sa.select(Notification).where(Notification.id.in_(ids))
                .order_by(Notification.station_id, Notification.id)
            ).all()
            for station_id, group in groupby(rows, key=lambda r: r.station_id):
                done += _deliver(session, station_id, list(group))
        if len(ids) < batch:
            break
    return done


def _deliver(session: so.Session, station_id: int | None, rows: list[Notification]) -> int:
    hooks = events.deployment(session).hooks_for(session, station_id)
    try:
        with session.begin_nested():  # a provider that fails leaves no half-written rows
            outcomes = hooks.wardens_deliver_notifications(session=session, notifications=rows)
            if outcomes is None or len(outcomes) != len(rows):
                raise ValueError(f"the delivery provider answered {outcomes!r} for"
                                 f" {len(rows)} notifications")
    except Exception as exc:  # one bad batch must not stop the worker
        log.exception("delivering notifications of station %s", station_id)
        outcomes = [Delivery("retry", repr(exc)[:500])] * len(rows)
    for row, outcome in zip(rows, outcomes, strict=True):
        _record(row, outcome)
    return len(rows)


def _record(row: Notification, outcome: Delivery) -> None:
    now = clock.now()
    status = outcome.status if outcome.status in OUTCOMES else "failed"
    row.last_error = outcome.error
    row.claimed_by = None
    if status in ("sent", "skipped"):
        row.delivery_status = DeliveryStatus(status)
        row.delivered_at = now
    elif status == "retry" and row.attempts < MAX_ATTEMPTS:
        row.delivery_status = DeliveryStatus.PENDING
        row.next_attempt_at = now + dt.timedelta(seconds=30 * 2 ** row.attempts)
    else:
        row.delivery_status = DeliveryStatus.FAILED
        if outcome.status not in OUTCOMES:
            row.last_error = f"unknown delivery status {outcome.status!r}"
