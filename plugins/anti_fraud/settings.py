"""The station knobs of the anti-fraud alliance: their schema and the typed view the code reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core.messages import LOCALES
from core.station_plugins import settings_of

NAME = "anti_fraud"


class AntiFraudSettingsSchema(ma.Schema):
    """plugins.toml [plugins.anti_fraud], overridable per station."""

    #: how long a coupon's QR payload is good for: a screenshot dies with it.
    qr_ttl_seconds = ma.fields.Integer(load_default=60, validate=ma.validate.Range(15, 600))
    #: a submission this late past the deadline still counts (the phone's network).
    submit_grace_seconds = ma.fields.Integer(load_default=10, validate=ma.validate.Range(0, 120))
    #: starter questions loaded when a station switches the plugin on; empty: none.
    starter_bank_locales = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(LOCALES)),
                                          load_default=list(LOCALES))


@dataclass(frozen=True)
class AntiFraudSettings:
    """A station's knobs, typed; the defaults live in the schema alone."""

    qr_ttl: dt.timedelta
    submit_grace: dt.timedelta
    starter_bank_locales: tuple[str, ...]

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> AntiFraudSettings:
        return cls(qr_ttl=dt.timedelta(seconds=values["qr_ttl_seconds"]),
                   submit_grace=dt.timedelta(seconds=values["submit_grace_seconds"]),
                   starter_bank_locales=tuple(values["starter_bank_locales"]))


def for_station(session: so.Session, station_id: int) -> AntiFraudSettings:
    """plugins.toml defaults with the station's overrides (read with the plugin switches)."""
    return settings_of(session, station_id, NAME, AntiFraudSettings.from_values)
