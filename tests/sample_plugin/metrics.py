"""The sample plugin's dashboard metric: notes written since a time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.models import Station
from tests.sample_plugin.models import SampleNote


def metrics(session: so.Session, station: Station, since: dt.datetime) -> dict[str, Any]:
    notes = session.scalar(sa.select(sa.func.count()).select_from(SampleNote).where(
        SampleNote.station_id == station.id, SampleNote.created_at >= since))
    return {"notes": notes or 0}
