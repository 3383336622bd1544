"""Push delivery by Firebase Cloud Messaging: each device in its language, sent in chunks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import messages
from core.hookspecs import Delivery
from core.models import Device, Notification, Station
from core.notifications import app_data, rendered
from plugins.firebase import sdk

# FCM refuses these data keys; they would fail the whole message.
RESERVED_DATA_KEYS = frozenset({"from", "notification", "message_type"})
RESERVED_DATA_PREFIXES = ("google", "gcm")


@dataclass
class _Send:
    notification: Notification
    device: Device
    message: Any
    outcome: str = "retry"  # "sent", "gone" (token unregistered), "retry" or "failed"
    error: str | None = None


def deliver(session: so.Session, notifications: list[Notification],
            settings: dict[str, Any]) -> list[Delivery]:
    """Push the notifications to their people's devices; say how each went, in order.

    The worker asks only for stations that switched the plugin on (and for notifications
    without a station). A notification is sent when one of the person's devices accepted it.
    Unregistered tokens are deleted; transient errors (unavailable, internal, quota, network)
    ask for a retry, which the outbox schedules with backoff; other errors fail. Every error
    is recorded on the notification.
    """
    devices = _devices_by_user(session, {n.user_id for n in notifications})
    stations = _stations(session, {n.station_id for n in notifications if n.station_id})
    sends: list[_Send] = []
    for notification in notifications:
        station = stations.get(notification.station_id) if notification.station_id else None
        sends.extend(_Send(notification, device, build_message(notification, device, station))
                     for device in devices.get(notification.user_id, []))
    if sends:
        _send_in_chunks(sends, settings)
    gone = [s.device.id for s in sends if s.outcome == "gone"]
    if gone:
        session.execute(sa.delete(Device).where(Device.id.in_(gone)))
    by_notification: dict[int, list[_Send]] = {}
    for send in sends:
        by_notification.setdefault(send.notification.id, []).append(send)
    # No device: the in-app inbox is the delivery.
    return [_summary(by_notification[n.id]) if n.id in by_notification else Delivery("skipped")
            for n in notifications]


def build_message(notification: Notification, device: Device, station: Station | None) -> Any:
    """One FCM message: title and body in the device's language, deep-link data."""
    from firebase_admin import messaging

    title, body = rendered(notification, messages.pick_locale([device.locale]), station,
                           fallback_title="firebase_push_title")
    message = messaging.Message(notification=messaging.Notification(title=title, body=body),
                                data=deep_link_data(notification, station))
    # The app registers FCM registration tokens, which FCM v1 takes as `token`. firebase-admin
    # 7.7 warns on the constructor's `token` argument (it prefers installation ids, `fid`);
    # the attribute is the same public field, set without the warning.
    message.token = device.token
    return message


def deep_link_data(notification: Notification, station: Station | None) -> dict[str, str]:
    """The app's data (``core.notifications.app_data``) without the keys FCM refuses."""
    return app_data(notification, station, leave_out=lambda key: key in RESERVED_DATA_KEYS
                    or key.startswith(RESERVED_DATA_PREFIXES))


def _send_in_chunks(sends: list[_Send], settings: dict[str, Any]) -> None:
    from firebase_admin import messaging

    app = sdk.app(settings)
    size = settings["chunk_size"]
    for start in range(0, len(sends), size):
        chunk = sends[start:start + size]
        try:
            batch = messaging.send_each([s.message for s in chunk], dry_run=settings["dry_run"],
                                        app=app)
        except Exception as exc:  # e.g. the OAuth token could not be had: the whole chunk waits
            for send in chunk:
                send.outcome, send.error = _classify(exc), _describe(send, exc)
            continue
        for send, response in zip(chunk, batch.responses, strict=True):
            if response.success:
                send.outcome = "sent"
            else:
                send.outcome = _classify(response.exception)
                send.error = _describe(send, response.exception)


def _classify(exc: BaseException | None) -> str:
    from firebase_admin import exceptions, messaging

    if isinstance(exc, messaging.UnregisteredError):
        return "gone"
    transient = (exceptions.UnavailableError, exceptions.InternalError,
                 exceptions.DeadlineExceededError, exceptions.ResourceExhaustedError,
                 exceptions.UnknownError)
    if isinstance(exc, transient) or not isinstance(exc, exceptions.FirebaseError | ValueError):
        return "retry"
    return "failed"


def _describe(send: _Send, exc: BaseException | None) -> str:
    code = getattr(exc, "code", None) or type(exc).__name__
    text = str(exc)[:300]
    return f"device {send.device.id} ({send.device.platform}): {code}: {text}"


def _summary(sends: list[_Send]) -> Delivery:
    errors = "; ".join(s.error for s in sends if s.error) or None
    outcomes = {s.outcome for s in sends}
    if "sent" in outcomes:
        return Delivery("sent", errors)
    if "retry" in outcomes:
        return Delivery("retry", errors)
    if outcomes == {"gone"}:
        return Delivery("skipped", errors)  # no device left: the in-app inbox is the delivery
    return Delivery("failed", errors)


def _devices_by_user(session: so.Session, user_ids: set[int]) -> dict[int, list[Device]]:
    found: dict[int, list[Device]] = {}
    rows = session.scalars(sa.select(Device).where(Device.user_id.in_(user_ids),
                                                   Device.service == "fcm").order_by(Device.id))
    for device in rows:
        found.setdefault(device.user_id, []).append(device)
    return found


def _stations(session: so.Session, ids: set[int]) -> dict[int, Station]:
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(sa.select(Station).where(Station.id.in_(ids)))}
