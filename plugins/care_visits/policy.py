"""The station's care settings and the visit policy: how many visits a recipient needs a year."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core.station_plugins import settings_of
from plugins.care_visits.models import Category, Recipient

NAME = "care_visits"

DEFAULT_VISITS_PER_YEAR = {
    Category.DISABLED.value: 5,
    Category.ELDERLY_ALONE.value: 5,
    Category.HARDSHIP.value: 12,
    Category.OTHER.value: 5,
}


class VisitsPerYearSchema(ma.Schema):
    disabled = ma.fields.Integer(load_default=5, validate=ma.validate.Range(0, 52))
    elderly_alone = ma.fields.Integer(load_default=5, validate=ma.validate.Range(0, 52))
    hardship = ma.fields.Integer(load_default=12, validate=ma.validate.Range(0, 52))
    other = ma.fields.Integer(load_default=5, validate=ma.validate.Range(0, 52))


class SettingsSchema(ma.Schema):
    """Per-station care settings (plugins.toml defaults, overridden by a station's admin)."""

    class Meta:
        unknown = ma.RAISE

    visits_per_year = ma.fields.Nested(VisitsPerYearSchema, load_default=lambda: dict(
        DEFAULT_VISITS_PER_YEAR))
    #: Geofence around the recipient's home for check-in and check-out.
    geofence_radius_m = ma.fields.Integer(load_default=150, validate=ma.validate.Range(20, 2000))
    #: A visit shorter than this is flagged for an officer's review.
    min_visit_minutes = ma.fields.Integer(load_default=15, validate=ma.validate.Range(0, 480))
    visitors_per_visit = ma.fields.Integer(load_default=2, validate=ma.validate.Range(1, 10))
    #: A follow-up open longer than this is reported to the care team's officers.
    follow_up_alert_days = ma.fields.Integer(load_default=14, validate=ma.validate.Range(1, 365))
    ack_code_minutes = ma.fields.Integer(load_default=30, validate=ma.validate.Range(5, 1440))
    #: Acknowledgement codes one visit may text; more tries never come with them.
    ack_code_sends_per_visit = ma.fields.Integer(load_default=3,
                                                 validate=ma.validate.Range(1, 10))
    #: Acknowledgement codes one phone may receive a day (station time), whatever the visit.
    ack_code_texts_per_phone_per_day = ma.fields.Integer(load_default=5,
                                                         validate=ma.validate.Range(1, 50))


@dataclass(frozen=True)
class CareSettings:
    """A station's care settings, typed; the defaults live in the schema alone."""

    visits_per_year: dict[str, int]
    geofence_radius_m: int
    min_visit_minutes: int
    visitors_per_visit: int
    follow_up_alert_days: int
    ack_code_minutes: int
    ack_code_sends_per_visit: int
    ack_code_texts_per_phone_per_day: int


_NAMES = {f.name for f in fields(CareSettings)}


def _typed(values: dict[str, Any]) -> CareSettings:
    return CareSettings(**{k: v for k, v in values.items() if k in _NAMES})


def settings(session: so.Session, station_id: int) -> CareSettings:
    """plugins.toml defaults with the station's overrides, typed; read with the plugin switches
    and kept for the request (core.station_plugins.settings_of)."""
    return settings_of(session, station_id, NAME, _typed)


def required_visits(recipient: Recipient, station_settings: CareSettings) -> int:
    """Visits a year: the recipient's own number, else the largest of its categories' defaults."""
    if recipient.visits_per_year is not None:
        return recipient.visits_per_year
    per_category = station_settings.visits_per_year
    categories = recipient.categories or [Category.OTHER.value]
    return max(per_category.get(c, per_category["other"]) for c in categories)
