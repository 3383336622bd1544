"""A person in patrol: leaving a station, their own copy, erasure (counts are kept)."""

from __future__ import annotations

import json
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.models import Notification, Station, User
from core.storage import Storage, default_storage, delete_after_commit
from plugins.patrol.models import (
    DutyShift,
    GuessLock,
    Incident,
    IncidentPhoto,
    Patrol,
    PatrolStatus,
    Scan,
)
from plugins.patrol.patrols import close
from plugins.patrol.settings import for_station

# Notifications the plugin wrote with a person's display name in them, and the parameter.
NAMED_IN = {"patrol.incident_reported": "reporter", "patrol.incident_acknowledged": "officer",
            "patrol.incident_resolved": "officer"}


def _rows(result: sa.Result[Any]) -> int:
    return cast(sa.CursorResult[Any], result).rowcount


def erase_person(session: so.Session, user: User, storage: Storage | None = None) -> None:
    """Anonymise what patrol holds about ``user``; every patrol, scan and incident stays.

    - Their scans lose their positions (where they walked, and when); verdicts, flags and
      distances to the checkpoint stay, so summaries, points and coverage are unchanged.
    - Incidents they reported stay (category, times, status, the officers' notes: the
      station's own record of its response) but lose the reporter's words (the description,
      which may name them or people close to them), the position they reported from, and
      the photos they attached (the rows, and the files once the erasure is committed).
    - Notifications the plugin wrote carry their display name no more (``reporter`` /
      ``officer`` parameters), so other people's inboxes do not keep it.
    - Duty shifts of an erased officer stay in the roster history without their free note.
    - Their guess lock (an operational counter) is deleted.

    Free text written by other people that names them cannot be found reliably and is kept.
    """
    stations = sa.select(Patrol.station_id).where(Patrol.user_id == user.id).distinct()
    session.execute(
        sa.update(Scan)
        .where(Scan.station_id.in_(stations), Scan.user_id == user.id, Scan.lat.is_not(None))
        .values(lat=None, lon=None).execution_options(synchronize_session=False))
    reported = sa.select(Incident.id).where(Incident.reporter_id == user.id)
    photos = session.scalars(sa.select(IncidentPhoto).where(
        IncidentPhoto.incident_id.in_(reported), IncidentPhoto.uploaded_by == user.id)).all()
    taken: dict[int, int] = {}
    for photo in photos:
        taken[photo.incident_id] = taken.get(photo.incident_id, 0) + 1
        session.delete(photo)
    session.flush()
    for incident_id, count in taken.items():
        session.execute(
            sa.update(Incident).where(Incident.id == incident_id)
            .values(photo_count=sa.case((Incident.photo_count > count,
                                         Incident.photo_count - count), else_=0))
            .execution_options(synchronize_session=False))
    session.execute(
        sa.update(Incident).where(Incident.reporter_id == user.id)
        .values(description="", lat=None, lon=None)
        .execution_options(synchronize_session=False))
    session.execute(sa.update(DutyShift).where(DutyShift.officer_id == user.id).values(note="")
                    .execution_options(synchronize_session=False))
    session.execute(sa.delete(GuessLock).where(GuessLock.user_id == user.id))
    _unname_notifications(session, user)
    if photos:
        delete_after_commit(session, storage or default_storage(),
                            [p.storage_key for p in photos])


def on_membership_removed(session: so.Session, station: Station, user: User) -> None:
    """A walker leaving the station: a patrol still active is closed now (what they walked
    counts), so that re-joining never resumes it."""
    active = session.scalars(sa.select(Patrol).where(
        Patrol.station_id == station.id, Patrol.user_id == user.id,
        Patrol.status == PatrolStatus.ACTIVE)).all()
    for patrol in active:
        close(session, patrol, clock.now(), for_station(session, station.id), auto=True)


def export_person(session: so.Session, user: User) -> dict[str, Any]:
    """The person's patrols, scans, reported incidents, duty shifts and guess lock."""
    from core.export import rows

    return {
        "patrols": rows(session, Patrol, Patrol.user_id == user.id),
        "scans": rows(session, Scan, Scan.user_id == user.id),
        "incidents_reported": rows(session, Incident, Incident.reporter_id == user.id),
        "duty_shifts": rows(session, DutyShift, DutyShift.officer_id == user.id),
        "guess_locks": rows(session, GuessLock, GuessLock.user_id == user.id),
    }


def _unname_notifications(session: so.Session, user: User) -> None:
    name = user.display_name
    if not name:
        return
    # Whose name a notification carries follows from its incident, not from a name match alone.
    reported = set(session.scalars(sa.select(Incident.id).where(Incident.reporter_id == user.id)))
    handled = set(session.scalars(sa.select(Incident.id).where(sa.or_(
        Incident.acknowledged_by == user.id, Incident.resolved_by == user.id))))
    ours = {"reporter": reported, "officer": handled}
    # The name as stored: as it is, or with the JSON escapes of non-ASCII text.
    forms = {name, json.dumps(name)[1:-1]}
    erased = f"erased-{user.id}"  # the name the core gives the account
    for note in session.scalars(sa.select(Notification).where(
            Notification.code.in_(list(NAMED_IN)),
            sa.or_(*[sa.cast(Notification.params, sa.Text).contains(form, autoescape=True)
                     for form in forms]))):
        key = NAMED_IN[note.code]
        if note.params.get(key) == name and note.params.get("incident_id") in ours[key]:
            note.params = {**note.params, key: erased}
