"""The sample plugin's state changes (no Flask)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import events, ledger, messages
from core.access import Actor
from core.errors import Invalid
from core.hookspecs import Delivery
from core.models import Notification, Station, User
from tests.sample_plugin.models import SampleDelivery, SampleEvent, SampleNote, SampleTally

NAME = "sample"


def settings(session: so.Session, station_id: int) -> dict[str, Any]:
    return events.deployment(session).station_settings(session, station_id, NAME)


def write_note(session: so.Session, actor: Actor, text: str) -> tuple[SampleNote, int]:
    """A member writes a note and earns the station's ``sample.note_written`` points once."""
    actor.require_member()
    limit = settings(session, actor.station.id)["max_note_length"]
    if len(text) > limit:
        raise Invalid("sample_note_too_long", field="text", max=limit)
    note = SampleNote(station_id=actor.station.id, user_id=actor.user.id, text=text)
    session.add(note)
    session.flush()
    entry = ledger.award(session, station_id=actor.station.id, user_id=actor.user.id,
                         event_code="sample.note_written", source_type="sample_note",
                         source_id=note.id)
    return note, entry.amount if entry else 0


def notes_query(actor: Actor) -> sa.Select[tuple[SampleNote]]:
    actor.require_member()
    return (sa.select(SampleNote).where(SampleNote.station_id == actor.station.id)
            .order_by(SampleNote.id))


def record_event(session: so.Session, station_id: int | None, event: str, subject_id: int,
                 detail: str = "") -> None:
    session.add(SampleEvent(station_id=station_id, event=event, subject_id=subject_id,
                            detail=detail))


def tally(session: so.Session, station: Station | None, now: dt.datetime) -> None:
    """The ``tally`` job: count the station's notes."""
    assert station is not None
    count = session.scalar(sa.select(sa.func.count()).select_from(SampleNote)
                           .where(SampleNote.station_id == station.id))
    session.add(SampleTally(station_id=station.id, notes=count or 0, counted_at=now))


def metrics(session: so.Session, station: Station, since: dt.datetime) -> dict[str, Any]:
    notes = session.scalar(sa.select(sa.func.count()).select_from(SampleNote).where(
        SampleNote.station_id == station.id, SampleNote.created_at >= since))
    return {"notes": notes or 0}


def deliver(session: so.Session, notifications: list[Notification]) -> list[Delivery]:
    for row in notifications:
        user = session.get(User, row.user_id)
        text = messages.render(row.code, user.locale if user else None, row.params)
        session.add(SampleDelivery(station_id=row.station_id, notification_id=row.id,
                                   text=text[:500]))
    return [Delivery("sent") for _ in notifications]


def erase(session: so.Session, user: User) -> None:
    session.execute(sa.update(SampleNote).where(SampleNote.user_id == user.id)
                    .values(user_id=None, text=""))
