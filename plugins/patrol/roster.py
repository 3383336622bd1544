"""The duty roster: which officers are on duty when, shared with patrol members and partners."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit
from core.access import Actor
from core.errors import Invalid, NotFound, PermissionDenied
from core.models import Membership, User
from plugins.patrol.models import DutyShift
from plugins.patrol.service import is_patrol_member

MAX_SHIFT = dt.timedelta(hours=48)
MAX_RANGE = dt.timedelta(days=62)


def require_reader(session: so.Session, who: Actor) -> None:
    """Officers, admins, partners (e.g. property management) and patrol team members."""
    who.require_member()
    if who.has_any("partner") or is_patrol_member(session, who):
        return
    raise PermissionDenied("roster_not_shared")


def _officer_ids(session: so.Session, station_id: int,
                 among: set[int] | None = None) -> list[int]:
    query = sa.select(Membership.user_id, Membership.roles).where(
        Membership.station_id == station_id, Membership.user_id.is_not(None),
        # Roles are a short JSON list; a text match narrows portably, Python decides.
        sa.cast(Membership.roles, sa.String).like('%"officer"%'))
    if among is not None:
        query = query.where(Membership.user_id.in_(among))
    return sorted(uid for uid, roles in session.execute(query)
                  if uid is not None and "officer" in roles)


def add_shift(session: so.Session, who: Actor, *, officer_id: int, starts_at: dt.datetime,
              ends_at: dt.datetime, note: str = "") -> DutyShift:
    """Put an officer on the roster (officers and admins)."""
    who.require("officer", "admin")
    if ends_at <= starts_at:
        raise Invalid("shift_ends_before_start", field="ends_at")
    if ends_at - starts_at > MAX_SHIFT:
        raise Invalid("shift_too_long", field="ends_at", max_hours=48)
    if not _officer_ids(session, who.station.id, {officer_id}):
        raise Invalid("not_an_officer", field="officer_id")
    shift = DutyShift(station_id=who.station.id, officer_id=officer_id, starts_at=starts_at,
                      ends_at=ends_at, note=note, created_by=who.user.id)
    session.add(shift)
    session.flush()
    audit.record(session, actor=who.user, role=who.role, action="patrol.shift_added",
                 record=shift, officer_id=officer_id)
    return shift


def delete_shift(session: so.Session, who: Actor, shift_id: int) -> None:
    who.require("officer", "admin")
    shift = session.scalar(sa.select(DutyShift).where(DutyShift.id == shift_id,
                                                      DutyShift.station_id == who.station.id))
    if shift is None:
        raise NotFound("shift_not_found")
    audit.record(session, actor=who.user, role=who.role, action="patrol.shift_removed",
                 record=shift, officer_id=shift.officer_id, starts_at=shift.starts_at.isoformat())
    session.delete(shift)
    session.flush()


def local_day(who: Actor, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A calendar day in the station's time zone, as a UTC range."""
    zone = zoneinfo.ZoneInfo(who.station.timezone)
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def shifts_query(session: so.Session, who: Actor, since: dt.datetime,
                 until: dt.datetime) -> sa.Select[DutyShift, User]:
    """Shifts overlapping [since, until), earliest first, with the officer."""
    require_reader(session, who)
    if until <= since or until - since > MAX_RANGE:
        raise Invalid("range_invalid", max_days=MAX_RANGE.days)
    return (sa.select(DutyShift, User).join(User, User.id == DutyShift.officer_id)
            .where(DutyShift.station_id == who.station.id, DutyShift.starts_at < until,
                   DutyShift.ends_at > since)
            .order_by(DutyShift.starts_at, DutyShift.id))


def on_duty(session: so.Session, station_id: int, at: dt.datetime) -> list[int]:
    """The officers on duty at ``at`` who still hold the officer role there."""
    rostered = set(session.scalars(sa.select(DutyShift.officer_id).where(
        DutyShift.station_id == station_id, DutyShift.starts_at <= at, DutyShift.ends_at > at)))
    return _officer_ids(session, station_id, rostered) if rostered else []


def whom_to_alert(session: so.Session, station_id: int, at: dt.datetime) -> list[int]:
    """The on-duty officers; when the roster has a hole, every officer of the station."""
    return on_duty(session, station_id, at) or _officer_ids(session, station_id)
