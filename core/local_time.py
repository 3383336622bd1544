"""Times as a station's people read them: RFC 3339 in the station's zone, and text in a language."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from typing import Any

# A whole RFC 3339 date-time (offset required) or a whole date: what a parameter holding a time
# looks like. Anything else is left as it is.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

WEEKDAYS = {
    "zh-CN": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@functools.lru_cache(maxsize=64)
def zone(name: str | None) -> dt.tzinfo:
    """The zone of that name; UTC for none (a notification about an account, not a station)."""
    if not name:
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def as_utc(when: dt.datetime) -> dt.datetime:
    """An aware time; a naive one is taken as UTC, the zone everything is stored in."""
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def rfc3339(when: dt.datetime, timezone: str | None = None) -> str:
    """``when`` as RFC 3339 in the zone (the station's wall clock, with its offset), to the second."""
    local = as_utc(when).astimezone(zone(timezone)).replace(microsecond=0)
    return local.isoformat().replace("+00:00", "Z") if timezone is None else local.isoformat()


def text(when: dt.datetime, timezone: str | None, locale: str) -> str:
    """A moment as a person reads it, in the station's zone: ``2026年12月29日（周二）00:00`` or
    ``Tue 29 Dec 2026, 00:00``. Without a zone the time is in UTC and says so."""
    local = as_utc(when).astimezone(zone(timezone))
    clock = f"{local:%H:%M}"
    suffix = "" if timezone else " UTC"
    separator = "" if locale == "zh-CN" else ", "
    return f"{date_text(local.date(), locale)}{separator}{clock}{suffix}"


def date_text(day: dt.date, locale: str) -> str:
    """A day as a person reads it: ``2026年12月29日（周二）`` or ``Tue 29 Dec 2026``."""
    if locale == "zh-CN":
        return f"{day.year}年{day.month}月{day.day}日（{WEEKDAYS['zh-CN'][day.weekday()]}）"
    return f"{WEEKDAYS['en'][day.weekday()]} {day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def until(starts: dt.datetime, ends: dt.datetime, timezone: str | None) -> str:
    """The end of a window as its text shows it: the clock time when it ends the day it starts
    (station time), else the whole time (RFC 3339, which a text shows in words)."""
    tz = zone(timezone)
    local_start, local_end = as_utc(starts).astimezone(tz), as_utc(ends).astimezone(tz)
    if local_start.date() == local_end.date():
        return f"{local_end:%H:%M}"
    return rfc3339(ends, timezone)


def readable(value: Any, timezone: str | None, locale: str) -> Any:
    """A parameter as a text shows it: a time (RFC 3339 text or datetime) in the station's zone,
    a date in words; anything else unchanged."""
    if isinstance(value, dt.datetime):
        return text(value, timezone, locale)
    if isinstance(value, dt.date):
        return date_text(value, locale)
    if isinstance(value, str) and len(value) <= 40:
        if RFC3339.match(value):
            try:
                return text(dt.datetime.fromisoformat(value.replace("z", "Z")), timezone, locale)
            except ValueError:
                return value
        if DATE.match(value):
            try:
                return date_text(dt.date.fromisoformat(value), locale)
            except ValueError:
                return value
    return value


def stored(value: Any, timezone: str | None) -> Any:
    """A parameter as JSON keeps it: a datetime as RFC 3339 in the station's zone, a date as
    ISO 8601; anything else unchanged."""
    if isinstance(value, dt.datetime):
        return rfc3339(value, timezone)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
