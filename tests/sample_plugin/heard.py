"""What the sample plugin heard: one row per core event it listens to (tests read them)."""

from __future__ import annotations

from sqlalchemy import orm as so

from tests.sample_plugin.models import SampleEvent


def record_event(session: so.Session, station_id: int | None, event: str, subject_id: int,
                 detail: str = "") -> None:
    session.add(SampleEvent(station_id=station_id, event=event, subject_id=subject_id,
                            detail=detail))
