"""The points ledger (append-only), balances kept beside it, and per-station rules."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base


class PointsEntry(Base):
    __tablename__ = "points_entry"
    __table_args__ = (
        # Earn-once: an award for one source is booked once, whatever path retried.
        sa.UniqueConstraint("station_id", "user_id", "source_type", "source_id"),
        sa.Index("ix_points_entry_station_time", "station_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    amount: so.Mapped[int]
    event_code: so.Mapped[str] = so.mapped_column(sa.String(64))
    source_type: so.Mapped[str] = so.mapped_column(sa.String(64))
    source_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    note: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class PointsBalance(Base):
    __tablename__ = "points_balance"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "user_id"),
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    balance: so.Mapped[int] = so.mapped_column(default=0)


class PointsRule(Base):
    """A station's override of an event's amount; absent means the plugins.toml default."""

    __tablename__ = "points_rule"
    __table_args__ = (sa.UniqueConstraint("station_id", "event_code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    event_code: so.Mapped[str] = so.mapped_column(sa.String(64))
    amount: so.Mapped[int]
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class AdjustmentStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class PendingAdjustment(Base):
    """An officer's adjustment above the station's threshold, waiting for a second officer."""

    __tablename__ = "points_pending_adjustment"
    __table_args__ = (sa.Index("ix_points_pending_adjustment_station_status", "station_id",
                               "status"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    amount: so.Mapped[int]
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    status: so.Mapped[AdjustmentStatus] = so.mapped_column(default=AdjustmentStatus.PENDING)
    requested_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    requested_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    decided_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: so.Mapped[dt.datetime | None]
    entry_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("points_entry.id"),
                                                      index=True)
