"""The one clock: every time the logic reads comes from here, so tests can freeze or move it."""

from __future__ import annotations

import datetime as dt

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
