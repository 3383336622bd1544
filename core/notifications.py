"""The outbox and inbox: notify a person now, deliver later through the delivery hook."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, events, local_time, messages, targets
from core.db import Database
from core.hookspecs import Delivery
from core.models import Notification, NotificationDelivery, Station, TextMessage, User
from core.models.notifications import DeliveryStatus

log = logging.getLogger(__name__)

BATCH = 100
MAX_ATTEMPTS = 5
# A claim older than this belongs to a worker that died; the notification is claimed again.
STALE_CLAIM = dt.timedelta(minutes=10)
OUTCOMES = frozenset({"sent", "skipped", "retry", "failed"})
# Parameters of the core's notifications that carry a person's name -> the one with their id.
NAMED_PARAMS = {"by": "by_id", "person": "person_id"}
INBOX = "inbox"  # the channel every notification has: the person's in-app inbox
TEXTS_KEPT = dt.timedelta(days=1)
QUEUED_TEXTS = "wardens_queued_texts"  # session.info: texts to send once the transaction commits


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


def rendered(notification: Notification, locale: str, station: Station | None,
             fallback_title: str = "app_title") -> tuple[str, str]:
    """(title, text) of a notification as a push or a message shows it, in ``locale``, times in
    the station's zone as in the inbox: the code's ``.title`` text if it has one, else the
    station's name (else ``fallback_title``'s text)."""
    params = notification.params or {}
    timezone = station.timezone if station is not None else None
    title_code = f"{notification.code}.title"
    title = (messages.render(title_code, locale, params, timezone=timezone)
             if title_code in messages.MESSAGES
             else station.name if station is not None
             else messages.render(fallback_title, locale))
    return title, messages.render(notification.code, locale, params, timezone=timezone)


def app_data(notification: Notification, station: Station | None,
             leave_out: Callable[[str], bool] = lambda key: False) -> dict[str, str]:
    """What the app needs to open the right screen and write its own text, as strings (push
    data): the parameters (but those ``leave_out`` names), then ``notification_id``, ``code``,
    ``station``, ``timezone`` and ``target`` (JSON: ``{"kind", "station", "<thing>_id"...}``, as
    in the inbox)."""
    data: dict[str, str] = {}
    for key, value in (notification.params or {}).items():
        if value is None or leave_out(key):
            continue
        data[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    data.update(notification_id=str(notification.id), code=notification.code)
    if station is not None:
        data["station"] = station.code
        data["timezone"] = station.timezone
        target = target_of(notification, station.code)
        if target is not None:
            data["target"] = json.dumps(target, ensure_ascii=False, separators=(",", ":"))
    return data


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
              **params: Any) -> TextMessage:
    """Queue a short text message (SMS) in the caller's transaction.

    It leaves once that transaction commits: a request's texts are sent right after its commit
    (:func:`send_queued_texts`), the rest, and every retry, by the worker (:func:`send_due_texts`).
    No text is ever sent while a write transaction is open, nor for a change rolled back.
    """
    return queue_text(session, phone, code, params, locale)


def queue_text(session: so.Session, phone: str, code: str, params: dict[str, Any],
               locale: str = "zh-CN") -> TextMessage:
    """:func:`send_text` with the parameters as a dict (one of them may be named ``code``)."""
    row = TextMessage(phone=phone, code=code, params=dict(params), locale=locale)
    session.add(row)
    session.flush()
    session.info.setdefault(QUEUED_TEXTS, []).append(row.id)
    return row


def queued_texts(session: so.Session) -> list[int]:
    """The texts queued in this session's transaction (taken: asked once, after its commit)."""
    return session.info.pop(QUEUED_TEXTS, None) or []


def send_queued_texts(database: Database, ids: list[int], worker: str = "request") -> int:
    """Send the texts a request just committed; what fails is left to the worker's retries."""
    return _send_texts(database, worker, ids=ids)


def send_due_texts(database: Database, worker: str, batch: int = BATCH) -> int:
    """Send every text that is due (new, a retry whose time came, a stale claim)."""
    done = 0
    while count := _send_texts(database, worker, batch=batch):
        done += count
        if count < batch:
            break
    return done


def _claim_texts(factory: so.sessionmaker, worker: str, ids: list[int] | None,
                 batch: int) -> list[int]:
    now = clock.now()
    due = sa.or_(
        sa.and_(TextMessage.status == DeliveryStatus.PENDING, TextMessage.next_attempt_at <= now),
        sa.and_(TextMessage.status == DeliveryStatus.SENDING,
                TextMessage.claimed_at < now - STALE_CLAIM),
    )
    query = sa.select(TextMessage.id).where(due)
    if ids is not None:
        query = query.where(TextMessage.id.in_(ids))
    with factory() as session, session.begin():
        claimed = session.scalars(query.order_by(TextMessage.id).limit(batch)
                                  .with_for_update(skip_locked=True)).all()
        if claimed:
            session.execute(
                sa.update(TextMessage).where(TextMessage.id.in_(claimed))
                .values(status=DeliveryStatus.SENDING, claimed_by=worker, claimed_at=now,
                        attempts=TextMessage.attempts + 1)
                .execution_options(synchronize_session=False))
        return list(claimed)


def _send_texts(database: Database, worker: str, *, ids: list[int] | None = None,
                batch: int = BATCH) -> int:
    claimed = _claim_texts(database.writer, worker, ids, batch)
    if not claimed:
        return 0
    # The providers are called outside any write transaction: a slow gateway holds no lock.
    with database.reader() as session:
        texts = session.scalars(sa.select(TextMessage).where(TextMessage.id.in_(claimed))
                                .order_by(TextMessage.id)).all()
        outcomes = {text.id: _offer_text(session, text) for text in texts}
        session.rollback()
    with database.writer() as session, session.begin():
        for text in session.scalars(sa.select(TextMessage).where(TextMessage.id.in_(claimed))):
            provider, outcome = outcomes[text.id]
            _record_text(text, provider, outcome)
    return len(claimed)


def _offer_text(session: so.Session, text: TextMessage) -> tuple[str | None, Delivery]:
    """Ask the text providers in hook order; the first that answers takes it."""
    deployment = events.deployment(session)
    hook = deployment.pm.hook.wardens_send_text
    for impl in reversed(hook.get_hookimpls()):  # pluggy's own calling order
        try:
            answer = deployment.call_one("wardens_send_text", impl.plugin, session=session,
                                         phone=text.phone, code=text.code,
                                         params=dict(text.params), locale=text.locale)
        except Exception as exc:  # a provider that crashes is retried, never stops the others
            log.exception("text %s: provider %s failed", text.id, impl.plugin_name)
            return impl.plugin_name, Delivery("retry", repr(exc)[:500])
        if answer is None:
            continue
        if isinstance(answer, Delivery):
            return impl.plugin_name, answer
        return impl.plugin_name, Delivery("sent" if answer else "failed",
                                          None if answer else "refused by the provider")
    return None, Delivery("failed", "no text provider answered")


def _record_text(text: TextMessage, provider: str | None, outcome: Delivery) -> None:
    now = clock.now()
    status = outcome.status if outcome.status in OUTCOMES else "failed"
    text.provider = provider
    text.last_error = outcome.error
    text.claimed_by = None
    if status == "retry" and text.attempts < MAX_ATTEMPTS:
        text.status = DeliveryStatus.PENDING
        text.next_attempt_at = now + outcome.retry_after if outcome.retry_after else (
            now + backoff(text.attempts))
        return
    text.status = DeliveryStatus.SENT if status in ("sent", "skipped") else DeliveryStatus.FAILED
    text.sent_at = now if status in ("sent", "skipped") else None
    # A texted sign-in code must not outlive its sending in the database.
    text.params = {}


def purge_texts(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    """Texts sent or given up are kept a day (what went to a number), then go; so do the send
    budgets' past windows."""
    from core import budgets

    result = session.execute(sa.delete(TextMessage).where(
        TextMessage.created_at < now - TEXTS_KEPT,
        TextMessage.status.in_((DeliveryStatus.SENT, DeliveryStatus.FAILED))))
    return result.rowcount + budgets.purge(session, station, now)  # type: ignore[attr-defined,no-any-return]


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next try after ``attempts`` tries: 30 s, doubling."""
    return dt.timedelta(seconds=30 * 2 ** attempts)


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

    Each station's notifications go to every ``wardens_deliver_notifications`` channel switched
    on for that station; the outcomes are recorded in the same transaction.
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
    """Deliver by every channel that applies, each recorded on its own delivery row.

    The first time, the in-app inbox is recorded as delivered and every channel (each plugin
    implementing ``wardens_deliver_notifications`` switched on for the station) is asked; a
    channel answering None does not apply. Later tries ask only the channels whose delivery is
    due again, so a failing channel is retried while the others stay delivered.
    """
    now = clock.now()
    records = {(d.notification_id, d.channel): d for d in session.scalars(
        sa.select(NotificationDelivery).where(
            NotificationDelivery.notification_id.in_([row.id for row in rows])))}
    first = {row.id for row in rows if (row.id, INBOX) not in records}
    for row in rows:
        if row.id in first:
            records[row.id, INBOX] = _add_record(session, row, INBOX, Delivery("sent"))
    for channel, plugin in channels(session, station_id):
        due = [row for row in rows if (records.get((row.id, channel)) is None and row.id in first)
               or _due_again(records.get((row.id, channel)), now)]
        if not due:
            continue
        outcomes = _ask_channel(session, channel, plugin, station_id, due)
        if outcomes is None:
            continue  # the channel does not apply (e.g. push switched off in its settings)
        for row, outcome in zip(due, outcomes, strict=True):
            record = records.get((row.id, channel))
            if record is None:
                records[row.id, channel] = _add_record(session, row, channel, outcome)
            else:
                _record(record, outcome)
    for row in rows:
        _sum_up(row, [d for (nid, _), d in records.items() if nid == row.id])
    return len(rows)


def channels(session: so.Session, station_id: int | None) -> list[tuple[str, Any]]:
    """The delivery channels for a station's notifications: (name, plugin) in hook order."""
    deployment = events.deployment(session)
    hook = deployment.hooks_for(session, station_id).wardens_deliver_notifications
    return [(impl.plugin_name, impl.plugin) for impl in reversed(hook.get_hookimpls())]


def _ask_channel(session: so.Session, channel: str, plugin: Any, station_id: int | None,
                 rows: list[Notification]) -> list[Delivery] | None:
    try:
        with session.begin_nested():  # a channel that fails leaves no half-written rows
            outcomes = events.deployment(session).call_one(
                "wardens_deliver_notifications", plugin, session=session, notifications=rows)
            if outcomes is not None and len(outcomes) != len(rows):
                raise ValueError(f"the delivery channel answered {outcomes!r} for"
                                 f" {len(rows)} notifications")
            return outcomes  # type: ignore[no-any-return]
    except Exception as exc:  # one bad channel must stop neither the others nor the worker
        log.exception("delivering notifications of station %s by %s", station_id, channel)
        return [Delivery("retry", repr(exc)[:500])] * len(rows)


def _due_again(record: NotificationDelivery | None, now: dt.datetime) -> bool:
    return (record is not None and record.status == DeliveryStatus.PENDING
            and record.next_attempt_at <= now)


def _add_record(session: so.Session, row: Notification, channel: str,
                outcome: Delivery) -> NotificationDelivery:
    record = NotificationDelivery(notification_id=row.id, channel=channel, attempts=0)
    session.add(record)
    _record(record, outcome)
    return record


def _record(record: NotificationDelivery, outcome: Delivery) -> None:
    now = clock.now()
    status = outcome.status if outcome.status in OUTCOMES else "failed"
    record.attempts += 1
    record.last_error = outcome.error
    if status in ("sent", "skipped"):
        record.status = DeliveryStatus(status)
        record.delivered_at = now
    elif status == "retry" and record.attempts < MAX_ATTEMPTS:
        record.status = DeliveryStatus.PENDING
        record.next_attempt_at = now + (outcome.retry_after or backoff(record.attempts))
    else:
        record.status = DeliveryStatus.FAILED
        if outcome.status not in OUTCOMES:
            record.last_error = f"unknown delivery status {outcome.status!r}"


def _sum_up(row: Notification, records: list[NotificationDelivery]) -> None:
    """The notification's own status sums up its channels (the inbox aside): pending while one
    is to be tried again, sent once one reached the person, skipped when none had a way."""
    pushed = [d for d in records if d.channel != INBOX]
    row.claimed_by = None
    row.last_error = "; ".join(f"{d.channel}: {d.last_error}" for d in pushed
                               if d.last_error) or None
    waiting = [d.next_attempt_at for d in pushed if d.status == DeliveryStatus.PENDING]
    if waiting:
        row.delivery_status = DeliveryStatus.PENDING
        row.next_attempt_at = min(waiting)
        return
    statuses = {d.status for d in pushed}
    if DeliveryStatus.SENT in statuses:
        row.delivery_status = DeliveryStatus.SENT
    elif DeliveryStatus.FAILED in statuses:
        row.delivery_status = DeliveryStatus.FAILED
    else:
        row.delivery_status = DeliveryStatus.SKIPPED
    row.delivered_at = clock.now() if row.delivery_status != DeliveryStatus.FAILED else None
