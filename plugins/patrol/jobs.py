"""The patrol plugin's scheduled jobs: coverage gaps, stale patrols closed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import orm as so

from core.jobs import Job
from core.models import Station
from plugins.patrol import coverage, patrols


def close_stale(session: so.Session, station: Station | None, now: dt.datetime) -> int:
    return patrols.finish_stale(session, station.id, now) if station else 0


JOBS = [
    Job("coverage_gaps", dt.timedelta(minutes=10), coverage.alert_gaps),
    Job("close_stale_patrols", dt.timedelta(hours=1), close_stale),
]
