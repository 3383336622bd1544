"""The outbox and inbox: notify a person now, deliver later through the delivery hook."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, events
from core.hookspecs import Delivery
from core.models import Notification
from core.models.notifications import DeliveryStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A claim older than this belongs to a worker that died; the notification is claimed again.
STALE_CLAIM = dt.timedelta(minutes=10)


def notify(session: so.Session, user_id: int, code: str, station_id: int | None = None,
           **params: Any) -> Notification:
    """Queue a notification in the same transaction as the change it tells about."""
    row = Notification(user_id=user_id, code=code, params=params, station_id=station_id)
    session.add(row)
    return row


def claim(session_factory: so.sessionmaker, worker: str, batch: int = 100) -> list[int]:
    """Claim up to ``batch`` pending notifications for ``worker``; no two workers get one."""
    now = clock.now()
    with session_factory() as session, session.begin():
        due = sa.or_(
            sa.and_(Notification.delivery_status == DeliveryStatus.PENDING,
                    Notification.next_attempt_at <= now),
            sa.and_(Notification.delivery_status == DeliveryStatus.SENDING,
                    Notification.claimed_at < now - STALE_CLAIM),
        )
        # SKIP LOCKED on PostgreSQL; on SQLite the write lock taken at BEGIN serialises claims.
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
        )
        return list(ids)


def deliver_pending(session_factory: so.sessionmaker, worker: str, batch: int = 100) -> int:
    """Deliver claimed notifications through ``wardens_deliver_notification``; return how many."""
    done = 0
    while ids := claim(session_factory, worker, batch):
        with session_factory() as session, session.begin():
            hooks = events.deployment(session).pm.hook
            rows = session.scalars(
                sa.select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)
            ).all()
            outcomes = _deliver_batch(hooks, session, list(rows))
            for row in rows:
                result = outcomes.get(row.id)
                try:
                    if result is None:
                        result = hooks.wardens_deliver_notification(session=session, notification=row)
                    status, error = result.status, result.error
                except Exception as exc:  # one bad notification must not stop the batch
                    log.exception("delivering notification %s", row.id)
                    status, error = "retry", repr(exc)
                _record(row, status, error)
                done += 1
        if len(ids) < batch:
            break
    return done


def _deliver_batch(hooks: Any, session: so.Session, rows: list[Notification]) -> dict[int, Any]:
    """A batch provider's outcomes by notification id; a failing provider retries them all."""
    try:
        return hooks.wardens_deliver_notifications(session=session, notifications=rows) or {}
    except Exception as exc:
        log.exception("delivering %d notifications", len(rows))
        return {row.id: Delivery("retry", repr(exc)) for row in rows}


def _record(row: Notification, status: str, error: str | None) -> None:
    now = clock.now()
    row.last_error = error
    row.claimed_by = None
    if status in ("sent", "skipped"):
        row.delivery_status = DeliveryStatus(status)
        row.delivered_at = now
    elif status == "retry" and row.attempts < MAX_ATTEMPTS:
        row.delivery_status = DeliveryStatus.PENDING
        row.next_attempt_at = now + dt.timedelta(seconds=30 * 2 ** row.attempts)
    else:
        row.delivery_status = DeliveryStatus.FAILED
