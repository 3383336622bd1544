"""The sample plugin's scheduled job: a tally of each station's notes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.jobs import Job
from core.models import Station
from tests.sample_plugin.models import SampleNote, SampleTally


def tally(session: so.Session, station: Station | None, now: dt.datetime) -> None:
    """The ``tally`` job: count the station's notes."""
    assert station is not None
    count = session.scalar(sa.select(sa.func.count()).select_from(SampleNote)
                           .where(SampleNote.station_id == station.id))
    session.add(SampleTally(station_id=station.id, notes=count or 0, counted_at=now))


JOBS = [Job("tally", dt.timedelta(minutes=10), tally)]
