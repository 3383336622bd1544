"""Patrol tables: routes and checkpoints, patrols and their scans, incidents, duty roster, alerts."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base, JSONType


class PatrolStatus(enum.StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"


class ScanStatus(enum.StrEnum):
    OK = "ok"
    FLAGGED = "flagged"  # accepted and recorded, earns nothing
    REJECTED = "rejected"  # kept as evidence of the attempt; never a visit


class Assurance(enum.StrEnum):
    ROTATING = "rotating"  # a time-step code read off the tag at that moment
    STATIC = "static"  # the printed fallback: proves less, recorded as such


class IncidentCategory(enum.StrEnum):
    SUSPICIOUS_PERSON = "suspicious_person"
    THEFT = "theft"
    FIRE = "fire"
    HAZARD = "hazard"
    LOST_PERSON = "lost_person"
    DISPUTE = "dispute"
    MEDICAL = "medical"
    OTHER = "other"


class IncidentStatus(enum.StrEnum):
    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Route(Base):
    __tablename__ = "patrol_route"
    __table_args__ = (sa.UniqueConstraint("station_id", "key"),
                      sa.UniqueConstraint("station_id", "name"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    team_group_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("station_group.id", ondelete="SET NULL"), index=True)
    # Ordered: checkpoints earn points only when visited in sequence.
    ordered: so.Mapped[bool] = so.mapped_column(default=False)
    archived_at: so.Mapped[dt.datetime | None]
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Checkpoint(Base):
    __tablename__ = "patrol_checkpoint"
    __table_args__ = (sa.UniqueConstraint("station_id", "key"),
                      sa.Index("ix_patrol_checkpoint_route", "station_id", "route_id", "sequence"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    route_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patrol_route.id"))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    sequence: so.Mapped[int]
    lat: so.Mapped[float]
    lon: so.Mapped[float]
    radius_m: so.Mapped[int] = so.mapped_column(default=30)
    grid_group_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("station_group.id", ondelete="SET NULL"), index=True)
    # Base32 TOTP secret; the previous one still verifies scans made before the rotation.
    secret: so.Mapped[str] = so.mapped_column(sa.String(64))
    previous_secret: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    secret_rotated_at: so.Mapped[dt.datetime | None]
    # The step the tag was provisioned with: changing the station's step affects new secrets only.
    code_step_s: so.Mapped[int] = so.mapped_column(default=30)
    archived_at: so.Mapped[dt.datetime | None]
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class RouteTask(Base):
    """A scheduled core task of kind ``patrol`` walks this route."""

    __tablename__ = "patrol_route_task"
    __table_args__ = (sa.UniqueConstraint("station_id", "task_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    task_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("task.id"))
    route_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patrol_route.id"), index=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Patrol(Base):
    __tablename__ = "patrol_patrol"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "client_id"),
        sa.UniqueConstraint("station_id", "task_id", "user_id"),
        sa.Index("ix_patrol_patrol_user", "station_id", "user_id", "status"),
        sa.Index("ix_patrol_patrol_started", "station_id", "started_at"),
        # One active patrol per person, held by the database: concurrent starts cannot both win.
        sa.Index("uq_patrol_patrol_active", "station_id", "user_id", unique=True,
                 sqlite_where=sa.text("status = 'active'"),
                 postgresql_where=sa.text("status = 'active'")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    route_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patrol_route.id"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    task_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("task.id"))
    client_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    status: so.Mapped[PatrolStatus] = so.mapped_column(default=PatrolStatus.ACTIVE)
    started_at: so.Mapped[dt.datetime]
    finished_at: so.Mapped[dt.datetime | None]
    auto_finished: so.Mapped[bool] = so.mapped_column(default=False)
    # Reached the station's completion ratio when it finished.
    completed: so.Mapped[bool] = so.mapped_column(default=False)
    # Wrong codes so far; at the station's limit the patrol takes no more scans.
    wrong_codes: so.Mapped[int] = so.mapped_column(default=0)
    summary: so.Mapped[dict[str, Any] | None] = so.mapped_column(JSONType())
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Scan(Base):
    """One checkpoint scan as the phone reported it; append-only."""

    __tablename__ = "patrol_scan"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "client_id"),
        # A code is valid once per patrol: NULL (rejected scans) never collides.
        sa.UniqueConstraint("station_id", "patrol_id", "checkpoint_id", "code_use"),
        sa.Index("ix_patrol_scan_checkpoint_time", "station_id", "checkpoint_id", "device_time"),
        sa.Index("ix_patrol_scan_station_time", "station_id", "server_time"),
        # A person's wrong codes in the last 24 h (the guess cap) and their scans on erasure.
        sa.Index("ix_patrol_scan_user_time", "station_id", "user_id", "server_time"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    patrol_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patrol_patrol.id"))
    checkpoint_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patrol_checkpoint.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    client_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    status: so.Mapped[ScanStatus]
    assurance: so.Mapped[Assurance | None]
    flags: so.Mapped[list[str]] = so.mapped_column(default=list)
    reject_code: so.Mapped[str | None] = so.mapped_column(sa.String(48))
    # "t<counter>" for a rotating code, "s" for the static one; NULL when rejected.
    code_use: so.Mapped[str | None] = so.mapped_column(sa.String(24))
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    accuracy_m: so.Mapped[float]
    is_mock: so.Mapped[bool] = so.mapped_column(default=False)
    distance_m: so.Mapped[float | None]
    device_time: so.Mapped[dt.datetime]
    server_time: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class GuessLock(Base):
    """One person's wrong codes across all their patrols in a station: at the station's daily
    cap their scans are refused until ``locked_until`` or until an officer unlocks them.

    Read with the patrol in the scan's first query, so the happy path pays no statement for it.
    """

    __tablename__ = "patrol_guess_lock"
    __table_args__ = (sa.UniqueConstraint("station_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    locked_until: so.Mapped[dt.datetime | None]
    # Set by an officer's unlock: wrong codes before it no longer count towards the cap.
    counts_from: so.Mapped[dt.datetime | None]
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class Incident(Base):
    __tablename__ = "patrol_incident"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "client_id"),
        sa.Index("ix_patrol_incident_station_time", "station_id", "created_at"),
        sa.Index("ix_patrol_incident_reporter", "station_id", "reporter_id"),
        # The retention job walks a station's resolved incidents by time.
        sa.Index("ix_patrol_incident_resolved", "station_id", "resolved_at"),
        sa.CheckConstraint("photo_count >= 0 AND photo_count <= 3", name="photo_count_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    reporter_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    patrol_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("patrol_patrol.id"), index=True)
    client_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    category: so.Mapped[IncidentCategory]
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    accuracy_m: so.Mapped[float | None]
    occurred_at: so.Mapped[dt.datetime]
    status: so.Mapped[IncidentStatus] = so.mapped_column(default=IncidentStatus.REPORTED)
    # Moved by a conditional UPDATE, so concurrent uploads never exceed three photos.
    photo_count: so.Mapped[int] = so.mapped_column(default=0)
    notified: so.Mapped[list[int]] = so.mapped_column(JSONType(), default=list)
    acknowledged_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    acknowledged_at: so.Mapped[dt.datetime | None]
    acknowledge_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    resolved_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    resolved_at: so.Mapped[dt.datetime | None]
    resolution_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class IncidentPhoto(Base):
    __tablename__ = "patrol_incident_photo"
    __table_args__ = (sa.Index("ix_patrol_incident_photo_incident", "station_id", "incident_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    incident_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patrol_incident.id"))
    storage_key: so.Mapped[str] = so.mapped_column(sa.String(200))
    content_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    size_bytes: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    uploaded_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class DutyShift(Base):
    """An officer on duty from ``starts_at`` to ``ends_at``: the station's duty roster."""

    __tablename__ = "patrol_duty_shift"
    __table_args__ = (
        sa.Index("ix_patrol_duty_shift_time", "station_id", "starts_at", "ends_at"),
        sa.CheckConstraint("ends_at > starts_at", name="shift_ordered"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    officer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    starts_at: so.Mapped[dt.datetime]
    ends_at: so.Mapped[dt.datetime]
    note: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class CoverageAlert(Base):
    """One alert per gap: a grid cell unvisited since ``gap_since`` was reported once."""

    __tablename__ = "patrol_coverage_alert"
    __table_args__ = (sa.UniqueConstraint("station_id", "grid_group_id", "gap_since"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    grid_group_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("station_group.id", ondelete="CASCADE"))
    gap_since: so.Mapped[dt.datetime]
    alerted_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    notified: so.Mapped[list[int]] = so.mapped_column(JSONType(), default=list)
