"""The sample plugin's station settings: their schema and the typed read."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core import events

NAME = "sample"


class SampleSettings(ma.Schema):
    max_note_length = ma.fields.Integer(load_default=200,
                                        validate=ma.validate.Range(min=1, max=2000))
    greeting = ma.fields.String(load_default="welcome", validate=ma.validate.Length(max=40))
    api_token = ma.fields.String(load_default="", metadata={"secret": True})


def settings(session: so.Session, station_id: int) -> dict[str, Any]:
    return events.deployment(session).station_settings(session, station_id, NAME)
