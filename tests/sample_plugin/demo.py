"""The sample plugin's demo data: one note by the demo's first volunteer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import orm as so

from core.models import Station
from tests.sample_plugin.models import SampleNote


def seed(session: so.Session, station: Station, people: dict[str, Any]) -> None:
    session.add(SampleNote(station_id=station.id, user_id=people["volunteer1"].id,
                           text="demo note"))
