"""The station knobs of patrol: their schema, defaults, and the typed view the service reads."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core.station_plugins import settings_of

V = ma.validate


class PatrolSettingsSchema(ma.Schema):
    """Defaults here; plugins.toml [plugins.patrol] and each station may override them."""

    class Meta:
        unknown = ma.RAISE

    code_step_seconds = ma.fields.Integer(load_default=30, validate=V.Range(10, 300), metadata={
        "description": "Step of the rotating codes of newly issued secrets"})
    code_drift_steps = ma.fields.Integer(load_default=1, validate=V.Range(0, 3))
    max_speed_kmh = ma.fields.Float(load_default=25.0, validate=V.Range(1, 300))
    completion_ratio = ma.fields.Float(load_default=0.8, validate=V.Range(0, 1))
    coverage_gap_hours = ma.fields.Float(load_default=4.0, validate=V.Range(0.25, 720))
    max_wrong_codes = ma.fields.Integer(load_default=5, validate=V.Range(1, 50))
    max_wrong_codes_per_day = ma.fields.Integer(load_default=20, validate=V.Range(1, 500),
                                                metadata={"description": (
        "Wrong codes one person may enter in a rolling 24 h across all their patrols; "
        "beyond it their scans are refused until the window passes or an officer unlocks")})
    max_patrol_hours = ma.fields.Float(load_default=12.0, validate=V.Range(0.5, 48))
    allow_static_codes = ma.fields.Boolean(load_default=True)
    static_codes_earn_points = ma.fields.Boolean(load_default=False, metadata={"description": (
        "The printed fallback code proves less than a rotating one: it earns points only when "
        "the station says so")})
    checkpoint_points_period_hours = ma.fields.Integer(
        load_default=8, validate=V.OneOf([1, 2, 3, 4, 6, 8, 12, 24]), metadata={"description": (
            "A checkpoint pays a person once per block of this many hours of the station's day "
            "(from midnight), whatever the patrol; 8 = once per shift of three a day")})
    photo_max_bytes = ma.fields.Integer(load_default=5 * 1024 * 1024,
                                        validate=V.Range(10 * 1024, 20 * 1024 * 1024))
    task_lead_minutes = ma.fields.Integer(load_default=15, validate=V.Range(0, 240))


@dataclass(frozen=True)
class PatrolSettings:
    """A station's knobs, typed; the defaults live in the schema alone."""

    code_step_seconds: int
    code_drift_steps: int
    max_speed_kmh: float
    completion_ratio: float
    coverage_gap_hours: float
    max_wrong_codes: int
    max_wrong_codes_per_day: int
    max_patrol_hours: float
    allow_static_codes: bool
    static_codes_earn_points: bool
    checkpoint_points_period_hours: int
    photo_max_bytes: int
    task_lead_minutes: int


_NAMES = {f.name for f in fields(PatrolSettings)}


def _typed(values: dict[str, Any]) -> PatrolSettings:
    return PatrolSettings(**{k: v for k, v in values.items() if k in _NAMES})


def for_station(session: so.Session, station_id: int) -> PatrolSettings:
    """plugins.toml defaults with the station's overrides, validated by the schema; read with
    the plugin switches and kept for the request (core.station_plugins.settings_of)."""
    return settings_of(session, station_id, "patrol", _typed)
