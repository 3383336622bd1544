"""The sample plugin's notes: writing one (with its points) and listing them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import ledger
from core.access import Actor
from core.errors import Invalid
from tests.sample_plugin.models import SampleNote
from tests.sample_plugin.settings import settings


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
