"""Tasks (scheduled work with a place and a window), assignments and check-ins."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    DONE = "done"


class Visibility(enum.StrEnum):
    PUBLIC = "public"  # every volunteer of the station
    PRIVATE = "private"  # assignees and officers only


class AssignmentStatus(enum.StrEnum):
    SIGNED_UP = "signed_up"
    WAITLISTED = "waitlisted"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    WITHDRAWN = "withdrawn"


# Statuses that hold one of the task's places.
HOLDS_PLACE = (AssignmentStatus.SIGNED_UP, AssignmentStatus.CHECKED_IN, AssignmentStatus.COMPLETED)


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        sa.Index("ix_task_station_starts", "station_id", "starts_at"),
        sa.CheckConstraint("filled >= 0 AND filled <= capacity", name="filled_within_capacity"),
        sa.CheckConstraint("ends_at > starts_at", name="window_ordered"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(48), default="general")
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    starts_at: so.Mapped[dt.datetime]
    ends_at: so.Mapped[dt.datetime]
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    radius_m: so.Mapped[int] = so.mapped_column(default=100)
    capacity: so.Mapped[int] = so.mapped_column(default=1)
    # Places taken; moved only by conditional UPDATEs so concurrent sign-ups never overfill.
    filled: so.Mapped[int] = so.mapped_column(default=0)
    waitlist: so.Mapped[bool] = so.mapped_column(default=False)
    visibility: so.Mapped[Visibility] = so.mapped_column(default=Visibility.PUBLIC)
    status: so.Mapped[TaskStatus] = so.mapped_column(default=TaskStatus.OPEN)
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Assignment(Base):
    __tablename__ = "assignment"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "task_id", "user_id"),
        sa.Index("ix_assignment_user", "user_id", "status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    task_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("task.id"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    status: so.Mapped[AssignmentStatus]
    assigned_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    checked_in_at: so.Mapped[dt.datetime | None]
    checked_out_at: so.Mapped[dt.datetime | None]


class CheckinKind(enum.StrEnum):
    IN = "in"
    OUT = "out"


class Checkin(Base):
    """A check-in or check-out as the phone reported it; append-only."""

    __tablename__ = "checkin"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "client_id"),
        # The retention job walks a station's check-ins by time.
        sa.Index("ix_checkin_station_time", "station_id", "server_time"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    task_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("task.id"), index=True)
    assignment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assignment.id"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    kind: so.Mapped[CheckinKind]
    # Positions are cleared by the retention job; the fact of the check-in stays.
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    accuracy_m: so.Mapped[float]
    is_mock: so.Mapped[bool] = so.mapped_column(default=False)
    distance_m: so.Mapped[float | None]
    device_time: so.Mapped[dt.datetime]
    server_time: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64))
