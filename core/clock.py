"""The one clock: every time the logic reads comes from here, so tests can freeze or move it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.errors import Invalid

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC)


def freeze(at: dt.datetime | None) -> None:
    """Pin the clock at ``at`` (aware), or release it with ``None``. For tests and the demo."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("clock.freeze needs an aware datetime")
    _frozen = at.astimezone(dt.UTC) if at is not None else None


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move a frozen clock forward by ``delta`` and return the new time."""
    freeze(now() + delta)
    return now()


def check_device_time(device_time: dt.datetime, rules: dict[str, Any], *,
                      field: str = "device_time", server_time: dt.datetime | None = None) -> None:
    """The one rule for a time a phone reports (facts at device time, receipts at server time).

    ``rules`` are the station's task settings (:func:`core.geofence.station_rules`): a time
    more than ``device_clock_ahead_seconds`` ahead of the server is refused (422
    ``device_time_in_future``), one uploaded more than ``max_offline_minutes`` after it
    happened too (422 ``device_time_too_old``).
    """
    current = server_time or now()
    ahead = int(rules["device_clock_ahead_seconds"])
    if device_time > current + dt.timedelta(seconds=ahead):
        raise Invalid("device_time_in_future", field=field, max_seconds=ahead)
    late = int(rules["max_offline_minutes"])
    if device_time < current - dt.timedelta(minutes=late):
        raise Invalid("device_time_too_old", field=field, max_minutes=late)
