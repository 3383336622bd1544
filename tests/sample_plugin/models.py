"""The sample plugin's tables: all prefixed ``sample_``, every one keyed by station."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base


class SampleNote(Base):
    """A note a member writes; earns ``sample.note_written`` points."""

    __tablename__ = "sample_note"
    __table_args__ = (sa.Index("ix_sample_note_station_created", "station_id", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    text: so.Mapped[str] = so.mapped_column(sa.String(2000))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class SampleEvent(Base):
    """A core event the plugin was told about (so tests see which hooks were called)."""

    __tablename__ = "sample_event"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("station.id"))
    event: so.Mapped[str] = so.mapped_column(sa.String(40))
    subject_id: so.Mapped[int]
    detail: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class SampleTally(Base):
    """One row per run of the ``tally`` job for a station."""

    __tablename__ = "sample_tally"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"), index=True)
    notes: so.Mapped[int]
    counted_at: so.Mapped[dt.datetime]


class SampleDelivery(Base):
    """One row per notification this plugin's delivery provider sent (no unique key on
    purpose: a notification sent twice shows as two rows)."""

    __tablename__ = "sample_delivery"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("station.id"))
    notification_id: so.Mapped[int] = so.mapped_column(index=True)
    text: so.Mapped[str] = so.mapped_column(sa.String(500))
    delivered_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
