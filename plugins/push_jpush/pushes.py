"""Pushes by JPush: one per device registered with the jpush service, in its language, with the
app's deep-link data; a registration id JPush no longer knows is removed."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import budgets, messages
from core.hookspecs import Delivery
from core.models import Device, Notification, Station
from core.notifications import app_data, rendered

log = logging.getLogger(__name__)

SERVICE = "jpush"
UNKNOWN_AUDIENCE = 1011  # no user for the registration id: the app was removed
#: JPush's codes of a limit or a busy moment: tried again later
BUSY = frozenset({1008, 2002, 2008, 2011})


def deliver(session: so.Session, notifications: list[Notification],
            settings: dict[str, Any]) -> list[Delivery]:
    """Push each notification to its person's JPush devices; say how each went, in order.

    Sent when one device took it; skipped when the person has none (or none left); a retry
    when JPush was busy, limiting or unreachable (the outbox's backoff), or this deployment's
    ``pushes_per_minute`` (counted in the database for every worker) is spent.
    """
    devices: dict[int, list[Device]] = {}
    for device in session.scalars(sa.select(Device).where(
            Device.user_id.in_({n.user_id for n in notifications}),
            Device.service == SERVICE).order_by(Device.id)):
        devices.setdefault(device.user_id, []).append(device)
    stations = {s.id: s for s in session.scalars(sa.select(Station).where(
        Station.id.in_({n.station_id for n in notifications if n.station_id})))}
    client = None
    gone: list[int] = []
    outcomes = []
    for notification in notifications:
        mine = devices.get(notification.user_id, [])
        if not mine:
            outcomes.append(Delivery("skipped"))
            continue
        station = stations.get(notification.station_id) if notification.station_id else None
        results = []
        for device in mine:
            wait = budgets.take(session, f"jpush:{settings['app_key']}:push",
                                settings["pushes_per_minute"], dt.timedelta(minutes=1))
            if wait is not None:
                results.append(Delivery("retry", f"send_limit: at most"
                                                 f" {settings['pushes_per_minute']} pushes a"
                                                 " minute", retry_after=wait))
                break
            client = client or _client(settings)
            result = _push(client, settings, notification, device, station)
            if result is None:
                gone.append(device.id)
                continue
            results.append(result)
        outcomes.append(_summary(results))
    if gone:
        session.execute(sa.delete(Device).where(Device.id.in_(gone)))
    return outcomes


def payload(notification: Notification, device: Device, station: Station | None,
            settings: dict[str, Any]) -> dict[str, Any]:
    """The push as JPush takes it: the title and text in the device's language, the app's data
    as extras on both platforms, to the one registration id."""
    import jpush

    title, text = rendered(notification, messages.pick_locale([device.locale]), station)
    extras = app_data(notification, station)
    return {
        "audience": jpush.audience(jpush.registration_id(device.token)),
        "notification": jpush.notification(
            alert=text, android=jpush.android(alert=text, title=title, extras=extras),
            ios=jpush.ios(alert={"title": title, "body": text}, extras=extras)),
        "platform": jpush.all_,
        "options": {"apns_production": settings["apns_production"],
                    "time_to_live": 86400},
    }


def _push(client: Any, settings: dict[str, Any], notification: Notification, device: Device,
          station: Station | None) -> Delivery | None:
    """One device's push; None when JPush no longer knows its registration id."""
    from jpush import common

    push = client.create_push()
    for key, value in payload(notification, device, station, settings).items():
        setattr(push, key, value)
    try:
        push.send()
    except common.JPushFailure as exc:
        if exc.error_code == UNKNOWN_AUDIENCE:
            return None
        retry = exc.error_code in BUSY or exc.response.status_code >= 500
        return Delivery("retry" if retry else "failed",
                        f"device {device.id}: {exc.error_code}: {exc.details}"[:300])
    except common.Unauthorized:
        return Delivery("failed", f"device {device.id}: AppKey or Master Secret refused")
    except (common.APIConnectionException, common.APIRequestException) as exc:
        return Delivery("retry", f"device {device.id}: {exc}"[:300])
    return Delivery("sent")


def _summary(results: list[Delivery]) -> Delivery:
    errors = "; ".join(r.error for r in results if r.error) or None
    statuses = {r.status for r in results}
    if "sent" in statuses:
        return Delivery("sent", errors)
    if "retry" in statuses:
        wait = max((r.retry_after for r in results if r.retry_after), default=None)
        return Delivery("retry", errors, retry_after=wait)
    if not results:
        return Delivery("skipped", "no registration id left")
    return Delivery("failed", errors)


def _client(settings: dict[str, Any]) -> Any:
    # Imported here: a deployment without this plugin never loads the client.
    import jpush

    return jpush.JPush(settings["app_key"], settings["master_secret"],
                       timeout=settings["timeout_seconds"], zone=settings["zone"])
