"""Claimed job slots: one row per (job, station, time slot), so a slot runs once."""

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
