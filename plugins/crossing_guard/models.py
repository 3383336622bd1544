"""Crossing-guard tables: schools and posts, the calendar, shift templates, shifts, swaps, feeds."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base, JSONType


class PostKind(enum.StrEnum):
    GATE = "gate"
    CROSSING = "crossing"


class ClosureKind(enum.StrEnum):
    HOLIDAY = "holiday"
    EXAM = "exam"
    ADHOC = "adhoc"


class CancelReason(enum.StrEnum):
    CLOSURE = "closure"  # reopened by generation when the closure goes away
    TEMPLATE = "template"  # the template no longer covers that day
    MANUAL = "manual"  # a coordinator cancelled this one shift


class ReminderKind(enum.StrEnum):
    EVENING = "evening"
    HOUR = "hour"


class SwapStatus(enum.StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    CANCELLED = "cancelled"  # withdrawn by the person who offered it


class School(Base):
    __tablename__ = "crossing_guard_school"
    __table_args__ = (sa.UniqueConstraint("station_id", "key"),
                      sa.UniqueConstraint("station_id", "name"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    address: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    lat: so.Mapped[float]
    lon: so.Mapped[float]
    # The crossing team that guards this school; none means any crossing team of the station.
    team_group_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("station_group.id", ondelete="SET NULL"), index=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Post(Base):
    """A place at a school where guards stand: a gate or a road crossing."""

    __tablename__ = "crossing_guard_post"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "key"),
        sa.UniqueConstraint("station_id", "school_id", "name"),
        sa.CheckConstraint("min_guards >= 0 AND max_guards >= 1 AND min_guards <= max_guards",
                           name="guards_ordered"),
        sa.CheckConstraint("radius_m > 0", name="radius_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    school_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("crossing_guard_school.id"),
                                                 index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    kind: so.Mapped[PostKind]
    lat: so.Mapped[float]
    lon: so.Mapped[float]
    radius_m: so.Mapped[int] = so.mapped_column(default=50)
    min_guards: so.Mapped[int] = so.mapped_column(default=1)
    max_guards: so.Mapped[int] = so.mapped_column(default=2)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Term(Base):
    """A school term, in local dates; without a school it covers every school of the station."""

    __tablename__ = "crossing_guard_term"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "key"),
        sa.CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        sa.Index("ix_crossing_guard_term_station_dates", "station_id", "starts_on"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    school_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("crossing_guard_school.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    starts_on: so.Mapped[dt.date]
    ends_on: so.Mapped[dt.date]
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Closure(Base):
    """Days without guarding (holiday, exams, an ad-hoc closure), station-wide or for one school."""

    __tablename__ = "crossing_guard_closure"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "key"),
        sa.CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        sa.Index("ix_crossing_guard_closure_station_dates", "station_id", "starts_on"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    school_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("crossing_guard_school.id"), index=True)
    kind: so.Mapped[ClosureKind]
    starts_on: so.Mapped[dt.date]
    ends_on: so.Mapped[dt.date]
    reason: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Template(Base):
    """A recurring shift at a post: these ISO weekdays (1 = Monday), from this time to that one."""

    __tablename__ = "crossing_guard_template"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "key"),
        sa.UniqueConstraint("station_id", "post_id", "name"),
        sa.CheckConstraint("ends_time > starts_time", name="times_ordered"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    post_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("crossing_guard_post.id"),
                                               index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(60))
    weekdays: so.Mapped[list[int]] = so.mapped_column(JSONType(), default=list)
    starts_time: so.Mapped[dt.time] = so.mapped_column(sa.Time)
    ends_time: so.Mapped[dt.time] = so.mapped_column(sa.Time)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Shift(Base):
    """One occurrence of a template on a local date; its core task holds places and check-ins."""

    __tablename__ = "crossing_guard_shift"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "task_id"),
        # One live shift per template and day, so generating twice (even at once) adds nothing;
        # cancelled ones stay for the record.
        sa.Index("uq_crossing_guard_shift_live", "station_id", "template_id", "local_date",
                 unique=True, sqlite_where=sa.text("cancel_reason IS NULL"),
                 postgresql_where=sa.text("cancel_reason IS NULL")),
        sa.Index("ix_crossing_guard_shift_station_starts", "station_id", "starts_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    task_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("task.id"))
    post_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("crossing_guard_post.id"),
                                               index=True)
    template_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("crossing_guard_template.id"))
    term_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("crossing_guard_term.id"), index=True)
    local_date: so.Mapped[dt.date]
    # A copy of the task's start, so the jobs find due shifts without reading every task.
    starts_at: so.Mapped[dt.datetime]
    # Bumped on every change of time or place, for calendar clients (iCalendar SEQUENCE).
    sequence: so.Mapped[int] = so.mapped_column(default=0)
    cancel_reason: so.Mapped[CancelReason | None]
    cover_requested_at: so.Mapped[dt.datetime | None]
    no_shows_marked_at: so.Mapped[dt.datetime | None]
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Reminder(Base):
    """A reminder sent: one row per (shift, guard, kind), so each goes out once."""

    __tablename__ = "crossing_guard_reminder"
    __table_args__ = (sa.UniqueConstraint("station_id", "shift_id", "user_id", "kind"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    shift_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("crossing_guard_shift.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    kind: so.Mapped[ReminderKind]
    sent_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class SwapOffer(Base):
    """A guard offering their place on a shift; whoever takes it first gets it."""

    __tablename__ = "crossing_guard_swap"
    __table_args__ = (
        sa.Index("uq_crossing_guard_swap_open", "station_id", "shift_id", "offered_by",
                 unique=True, sqlite_where=sa.text("status = 'open'"),
                 postgresql_where=sa.text("status = 'open'")),
        sa.Index("ix_crossing_guard_swap_station_status", "station_id", "status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    shift_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("crossing_guard_shift.id"))
    offered_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    # Offered to one named person, or (None) to any qualified member.
    offered_to: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    note: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    status: so.Mapped[SwapStatus] = so.mapped_column(default=SwapStatus.OPEN)
    taken_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    closed_at: so.Mapped[dt.datetime | None]


class Feed(Base):
    """A person's secret calendar address; only a hash of the token is kept."""

    __tablename__ = "crossing_guard_feed"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "user_id"),
        sa.UniqueConstraint("station_id", "token_hash"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
