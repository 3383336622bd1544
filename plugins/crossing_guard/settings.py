"""Per-station settings: plugins.toml defaults, overridden by the station's admin."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core.station_plugins import settings_of

HHMM = ma.validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Use HH:MM (24 h).")


class SettingsSchema(ma.Schema):
    """Validated at start-up (plugins.toml) and when an admin changes a station's settings."""

    class Meta:
        unknown = ma.RAISE

    withdrawal_cutoff_hours = ma.fields.Integer(
        load_default=12, validate=ma.validate.Range(min=0, max=168),
        metadata={"description": "After this many hours before a shift only a coordinator "
                                 "can release a guard"})
    no_show_grace_minutes = ma.fields.Integer(
        load_default=10, validate=ma.validate.Range(min=0, max=120),
        metadata={"description": "A guard not checked in this long after the start is a no-show"})
    evening_reminder_at = ma.fields.String(
        load_default="19:00", validate=HHMM,
        metadata={"description": "Local time of the reminder the evening before"})
    hour_reminder_minutes = ma.fields.Integer(
        load_default=60, validate=ma.validate.Range(min=5, max=600),
        metadata={"description": "Minutes before the start of the last reminder"})
    cover_alert_hours = ma.fields.Integer(
        load_default=24, validate=ma.validate.Range(min=1, max=168),
        metadata={"description": "A post below its minimum this many hours before the start "
                                 "asks free guards for cover"})


@dataclass(frozen=True)
class Settings:
    withdrawal_cutoff: dt.timedelta
    no_show_grace: dt.timedelta
    evening_reminder_at: dt.time
    hour_reminder: dt.timedelta
    cover_alert: dt.timedelta
    cutoff_hours: int


def for_station(session: so.Session, station_id: int) -> Settings:
    """plugins.toml defaults with the station's overrides, typed; read with the plugin switches
    and kept for the request (core.station_plugins.settings_of)."""
    return settings_of(session, station_id, "crossing_guard", _typed)


def _typed(values: dict[str, Any]) -> Settings:
    hour, minute = (int(part) for part in values["evening_reminder_at"].split(":"))
    return Settings(
        withdrawal_cutoff=dt.timedelta(hours=values["withdrawal_cutoff_hours"]),
        no_show_grace=dt.timedelta(minutes=values["no_show_grace_minutes"]),
        evening_reminder_at=dt.time(hour, minute),
        hour_reminder=dt.timedelta(minutes=values["hour_reminder_minutes"]),
        cover_alert=dt.timedelta(hours=values["cover_alert_hours"]),
        cutoff_hours=values["withdrawal_cutoff_hours"],
    )
