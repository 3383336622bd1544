"""The outbox and inbox: notify a person now, deliver later through the delivery hook."""

from __future__ import annotations

import datetime as dt
import json
import logging
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, events, local_time, messages, targets
from core.hookspecs import Delivery
from core.models import Notification, Station, User
from core.models.notifications import DeliveryStatus

log = logging.getLogger(__name__)

BATCH = 100
MAX_ATTEMPTS = 5
# A claim older than this belongs to a worker that died; the notification is claimed again.
STALE_CLAIM = dt.timedelta(minutes=10)
OUTCOMES = frozenset({"sent", "skipped", "retry", "failed"})
# Parameters of the core's notifications that carry a person's name -> the one with their id.
NAMED_PARAMS = {"by": "by_id", "person": "person_id"}


def notify(session: so.Session, user_id: int, code: str, station_id: int | None = None, *,
           target: dict[str, Any] | None = None, **params: Any) -> Notification:
    """Queue a notification in the same transaction as the change it tells about.

    :param code: a registered notification code, ``core.<event>`` or ``<plugin>.<event>``.
    :param target: what the app opens, ``{"kind": ..., "<thing>_id": ...}``; its kind must be
        the one the code's catalogue entry names.
    :param params: what a client needs to render its own text; a datetime is stored as
        RFC 3339 in the station's zone, with its offset.
    """
    rows = notify_many(session, [user_id], code, station_id, target=target, **params)
    return rows[0]


def notify_many(session: so.Session, user_ids: list[int], code: str,
                station_id: int | None = None, *, target: dict[str, Any] | None = None,
                **params: Any) -> list[Notification]:
    """The same notification to several people (see :func:`notify`)."""
    kind = messages.NOTIFICATIONS.get(code)
    if kind is None:
        raise ValueError(f"unknown notification code {code!r}: register it in the catalogue")
    if target is not None and target.get("kind") != kind.target and not (
            kind.target == messages.ANY_TARGET and messages.CODE.match(str(target.get("kind")))):
        raise ValueError(f"notification {code}: target kind {target.get('kind')!r}, the"
                         f" catalogue says {kind.target!r}")
    timezone = None
    if station_id is not None:
        station = session.get(Station, station_id)
        timezone = station.timezone if station is not None else None
    stored = {key: local_time.stored(value, timezone) for key, value in params.items()}
    rows = [Notification(user_id=user_id, code=code, params=dict(stored), station_id=station_id,
                         target=dict(target) if target is not None else None)
            for user_id in user_ids]
    session.add_all(rows)
    return rows


def outbox_state(session: so.Session, now: dt.datetime) -> tuple[int, float]:
    """(notifications not yet delivered, age in seconds of the oldest of them; 0 when none).

    One indexed query (``ix_notification_delivery``): cheap enough for every metrics scrape.
    """
    waiting, oldest = session.execute(
        sa.select(sa.func.count(), sa.func.min(Notification.created_at)).where(
            Notification.delivery_status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)))
    ).one()
    return waiting, max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


def target_of(row: Notification, station_code: str | None) -> dict[str, Any] | None:
    """The notification's target as the app gets it: ``{"kind", "station", "<thing>_id"...}``
    (None without one, or for an account's notification: no station to open it in)."""
    if not row.target or station_code is None:
        return None
    ids = {key: value for key, value in row.target.items() if key != "kind"}
    return targets.target(row.target["kind"], station_code, **ids)


def named(session: so.Session, key: str, user_id: int | None) -> dict[str, Any]:
    """The parameters naming a person: ``{key: display name, key_id: id}`` (see NAMED_PARAMS)."""
    if user_id is None:
        return {}
    user = session.get(User, user_id)
    return {key: user.display_name if user is not None else "", f"{key}_id": user_id}


def forget_name(session: so.Session, user: User) -> None:
    """An erased person's name leaves the notifications other people received about them.

    A core notification names people in ``by`` (who did it) and ``person`` (whom it concerns),
    each beside its id; a name is replaced only where its id is the erased person's.
    """
    name = user.display_name
    if not name:
        return
    forms = {name, json.dumps(name)[1:-1]}  # as stored, or with JSON's escapes of non-ASCII
    erased = f"erased-{user.id}"
    for note in session.scalars(sa.select(Notification).where(
            Notification.code.like("core.%"),
            sa.or_(*[sa.cast(Notification.params, sa.Text).contains(form, autoescape=True)
                     for form in forms]))):
        changed = {key: erased for key, id_key in NAMED_PARAMS.items()
                   if note.params.get(id_key) == user.id and note.params.get(key) == name}
        if changed:
            note.params = {**note.params, **changed}


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
