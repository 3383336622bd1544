"""A guard's shifts as an iCalendar feed (RFC 5545, UTC times) at a secret, resettable address."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock
from core.access import Actor
from core.errors import NotFound
from core.models import Assignment, AssignmentStatus, Station, Task
from plugins.crossing_guard.models import Feed, Post, School, Shift

S = AssignmentStatus
# The shifts that are the guard's own: a place held, kept, or missed.
THEIRS = (S.SIGNED_UP, S.CHECKED_IN, S.COMPLETED, S.NO_SHOW)
HISTORY = dt.timedelta(days=60)
PRODID = "-//Wardens//Crossing guard//EN"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_feed(session: so.Session, who: Actor) -> Feed | None:
    who.require_member()
    return session.scalar(sa.select(Feed).where(Feed.station_id == who.station.id,
                                                Feed.user_id == who.user.id))


def reset(session: so.Session, who: Actor) -> tuple[Feed, str]:
    """Make a new secret (the old address stops working at once); return it, shown once."""
    who.require_member()
    token = secrets.token_urlsafe(32)
    feed = get_feed(session, who)
    if feed is None:
        feed = Feed(station_id=who.station.id, user_id=who.user.id, token_hash=_hash(token))
        session.add(feed)
    else:
        feed.token_hash = _hash(token)
        feed.created_at = clock.now()
    session.flush()
    audit.record(session, actor=who.user, role=who.role, action="crossing_guard.feed_reset",
                 record=feed)
    return feed, token


def remove(session: so.Session, who: Actor) -> None:
    feed = get_feed(session, who)
    if feed is None:
        raise NotFound("feed_not_found")
    session.delete(feed)
    session.flush()


def forget(session: so.Session, station_id: int, user_id: int) -> None:
    """The person's calendar address of the station stops working (they left it)."""
    session.execute(sa.delete(Feed).where(Feed.station_id == station_id,
                                          Feed.user_id == user_id))


def owner(session: so.Session, station: Station, token: str) -> int:
    """The person a secret belongs to; 404 ``feed_not_found`` for an unknown or reset one."""
    user_id = session.scalar(sa.select(Feed.user_id).where(
        Feed.station_id == station.id, Feed.token_hash == _hash(token)))
    if user_id is None:
        raise NotFound("feed_not_found")
    return user_id


def render(session: so.Session, station: Station, user_id: int) -> str:
    """The person's shifts, from two months back on, as one VCALENDAR."""
    since = clock.now() - HISTORY
    rows = session.execute(
        sa.select(Shift, Task, Post, School)
        .join(Task, Task.id == Shift.task_id).join(Post, Post.id == Shift.post_id)
        .join(School, School.id == Post.school_id)
        .join(Assignment, Assignment.task_id == Task.id)
        .where(Shift.station_id == station.id, Shift.cancel_reason.is_(None),
               Assignment.user_id == user_id, Assignment.status.in_(THEIRS),
               Task.ends_at > since)
        .order_by(Task.starts_at, Shift.id)).all()
    stamp = _utc(clock.now())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_text(station.name)}",
             f"X-WR-TIMEZONE:{station.timezone}", "REFRESH-INTERVAL;VALUE=DURATION:PT1H"]
    for shift, task, post, school in rows:
        lines += [
            "BEGIN:VEVENT",
            f"UID:crossing-shift-{shift.id}@{station.code}.wardens",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(task.starts_at)}",
            f"DTEND:{_utc(task.ends_at)}",
            f"SEQUENCE:{shift.sequence}",
            f"SUMMARY:{_text(task.title)}",
            f"LOCATION:{_text(', '.join(p for p in (school.name, post.name, school.address) if p))}",
            f"GEO:{post.lat:.6f};{post.lon:.6f}",
            "STATUS:CONFIRMED",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """RFC 5545 TEXT escaping."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _fold(line: str, limit: int = 75) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    encoded = line.encode()
    if len(encoded) <= limit:
        return line
    parts: list[str] = []
    current = b""
    room = limit
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > room:
            parts.append(current.decode())
            current = b""
            room = limit - 1  # continuation lines start with a space
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)
