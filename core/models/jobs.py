"""Claimed job slots (one row per job, station and time slot) and where retention stopped."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.db import Base


class JobRun(Base):
    __tablename__ = "job_run"
    __table_args__ = (sa.UniqueConstraint("job", "station_id", "slot"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    job: so.Mapped[str] = so.mapped_column(sa.String(96))
    # 0 for deployment-wide jobs, so the unique key holds on every database.
    station_id: so.Mapped[int] = so.mapped_column(default=0)
    slot: so.Mapped[dt.datetime]
    worker: so.Mapped[str] = so.mapped_column(sa.String(96))
    started_at: so.Mapped[dt.datetime]
    finished_at: so.Mapped[dt.datetime | None]
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)


class RetentionMark(Base):
    """How far the retention job has cleared one table's positions for one station: the next
    run starts there instead of walking the whole history again."""

    __tablename__ = "retention_mark"
    __table_args__ = (sa.UniqueConstraint("station_id", "table_name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    table_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    cleared_until: so.Mapped[dt.datetime]
