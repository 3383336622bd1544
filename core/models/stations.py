"""Stations (the tenants), memberships with roles, groups, and per-station plugin switches."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, datum
from core.db import Base, JSONType


class Role(enum.StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    MERCHANT = "merchant"
    PARTNER = "partner"
    OFFICER = "officer"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.OFFICER, Role.ADMIN})


class Station(Base):
    __tablename__ = "station"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="Asia/Shanghai")
    open_join: so.Mapped[bool] = so.mapped_column(default=False)
    # Station-level knobs (geofence accuracy limit, check-in lead time, ...): data, not code.
    settings: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    # Changed by the database (a trigger on station_plugin, migration 0008) in the transaction
    # that writes a switch or a setting: a server process keeps the switches it has read while
    # this stays the same. Random, not counted: a value rolled back never comes back meaning
    # other switches; 0 until the station's first switch is written.
    plugins_version: so.Mapped[int] = so.mapped_column(sa.BigInteger, server_default="0")

    @property
    def default_crs(self) -> datum.Crs:
        """The datum of positions its requests send without saying (``settings``)."""
        return datum.station_default(self.settings)


class Membership(Base):
    """A person's roles in a station; pending (no user yet) until that phone first signs in."""

    __tablename__ = "membership"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "user_id"),
        sa.UniqueConstraint("station_id", "pending_phone"),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (pending_phone IS NULL)", name="user_or_pending_phone"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user_account.id"), index=True
    )
    pending_phone: so.Mapped[str | None] = so.mapped_column(sa.String(20), index=True)
    roles: so.Mapped[list[str]] = so.mapped_column(default=list)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    added_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))

    user = so.relationship("User", foreign_keys=[user_id], lazy="raise")

    def has_any(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


class Group(Base):
    __tablename__ = "station_group"
    __table_args__ = (sa.UniqueConstraint("station_id", "key"),
                      sa.UniqueConstraint("station_id", "name"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    # The station file's name for it (stable across renames); unique in the station.
    key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # A grid cell may carry its outline: [[lat, lon], ...].
    polygon: so.Mapped[list[Any] | None] = so.mapped_column(JSONType())
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class GroupMember(Base):
    __tablename__ = "group_member"
    __table_args__ = (sa.UniqueConstraint("station_id", "group_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    group_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("station_group.id", ondelete="CASCADE"), index=True
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    is_leader: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class StationPlugin(Base):
    """Whether a station has an installed plugin switched on, and its station settings."""

    __tablename__ = "station_plugin"
    __table_args__ = (sa.UniqueConstraint("station_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    enabled: so.Mapped[bool] = so.mapped_column(default=False)
    settings: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
