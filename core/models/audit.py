"""The audit log: who did what to which record, reads of sensitive records included."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base


class AuditEvent(Base):
    """Append-only: the ORM refuses to update or delete a row (see core.audit)."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_station_time", "station_id", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("station.id"))
    # A person's export reads their events.
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"),
                                                       index=True)
    actor_role: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    record_type: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    record_id: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    details: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class AuditArchive(Base):
    """Audit events older than the online months, moved here by the retention job (same ids):
    kept as long as the law asks, out of the way of the station's audit page."""

    __tablename__ = "audit_event_archive"
    __table_args__ = (sa.Index("ix_audit_event_archive_created", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    station_id: so.Mapped[int | None] = so.mapped_column(index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(index=True)
    actor_role: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    record_type: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    record_id: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    details: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    created_at: so.Mapped[dt.datetime]
    archived_at: so.Mapped[dt.datetime]
