"""Reports over a period of the station's calendar: the period, and the core's volunteer hours."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.access import Actor
from core.errors import Invalid
from core.hookspecs import Report
from core.models import Assignment, AssignmentStatus, Task, User

#: the longest period a report covers: a year, leap day included
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Whole days ``start``..``end`` (inclusive) in the station's time zone ``zone``."""

    start: dt.date
    end: dt.date
    zone: zoneinfo.ZoneInfo

    @property
    def since(self) -> dt.datetime:
        """The first instant of the period, aware UTC."""
        return dt.datetime.combine(self.start, dt.time(), self.zone).astimezone(dt.UTC)

    @property
    def until(self) -> dt.datetime:
        """The first instant after the period, aware UTC."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(),
                                   self.zone).astimezone(dt.UTC)

    def local(self, when: dt.datetime) -> dt.datetime:
        return when.replace(tzinfo=when.tzinfo or dt.UTC).astimezone(self.zone)

    @classmethod
    def last_month(cls, timezone: str, today: dt.date | None = None) -> Period:
        """The last whole calendar month before ``today`` (the station's today by default)."""
        zone = zoneinfo.ZoneInfo(timezone)
        today = today or clock.now().astimezone(zone).date()
        end = today.replace(day=1) - dt.timedelta(days=1)
        return cls(end.replace(day=1), end, zone)

    @classmethod
    def parse(cls, start: str | None, end: str | None, timezone: str) -> Period:
        """A period from ``YYYY-MM-DD`` texts; either left out: last month's."""
        if not start or not end:
            default = cls.last_month(timezone)
            start, end = start or default.start.isoformat(), end or default.end.isoformat()
        days = []
        for field, text in (("from", start), ("to", end)):
            try:
                days.append(dt.date.fromisoformat(text.strip()))
            except ValueError:
                raise Invalid("validation_error", field=field) from None
        if days[1] < days[0] or (days[1] - days[0]).days >= MAX_DAYS:
            raise Invalid("period_invalid", max_days=MAX_DAYS)
        return cls(days[0], days[1], zoneinfo.ZoneInfo(timezone))


def _hours(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 3600


def volunteer_hours(session: so.Session, who: Actor, period: Period) -> list[Sequence[Any]]:
    """Per person and month of the period: tasks completed, their scheduled and on-site hours.

    A task counts in the month (station time) it starts in; on-site hours are from check-in to
    check-out where both were made. Officers and admins.
    """
    who.require("officer", "admin")
    query = (sa.select(Assignment.user_id, User.display_name, Task.starts_at, Task.ends_at,
                       Assignment.checked_in_at, Assignment.checked_out_at)
             .join(Task, Task.id == Assignment.task_id)
             .join(User, User.id == Assignment.user_id)
             .where(Assignment.station_id == who.station.id,
                    Assignment.status == AssignmentStatus.COMPLETED,
                    Task.starts_at >= period.since, Task.starts_at < period.until))
    lines: dict[tuple[int, str], list[Any]] = {}
    totals: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for user_id, name, starts, ends, checked_in, checked_out in session.execute(query):
        month = period.local(starts).strftime("%Y-%m")
        lines.setdefault((user_id, month), [name or f"#{user_id}", month])
        total = totals[(user_id, month)]
        total[0] += 1
        total[1] += _hours(ends - starts)
        if checked_in is not None and checked_out is not None:
            total[2] += _hours(checked_out - checked_in)
    return [(*lines[key], int(t[0]), round(t[1], 2), round(t[2], 2))
            for key, t in sorted(totals.items(), key=lambda kv: (lines[kv[0]][0], kv[0]))]


VOLUNTEER_HOURS = Report(
    name="core.volunteer_hours",
    title={"en": "Volunteer hours per person and month", "zh-CN": "志愿者每人每月服务时长"},
    columns=({"en": "Person", "zh-CN": "姓名"}, {"en": "Month", "zh-CN": "月份"},
             {"en": "Tasks completed", "zh-CN": "完成任务数"},
             {"en": "Scheduled hours", "zh-CN": "排班时长（小时）"},
             {"en": "On-site hours", "zh-CN": "在岗时长（小时）"}),
    rows=volunteer_hours)
