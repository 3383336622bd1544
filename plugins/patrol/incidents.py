"""Incidents reported on patrol: photos, the on-duty officer alerted, acknowledged and resolved."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import IO, Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, geofence, targets
from core.access import Actor
from core.db import flush_or_conflict
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.notifications import notify
from core.storage import Storage
from core.storage import save as storage_save
from plugins.patrol.models import (
    Incident,
    IncidentCategory,
    IncidentPhoto,
    IncidentStatus,
    Patrol,
    PatrolStatus,
)
from plugins.patrol.roster import whom_to_alert
from plugins.patrol.settings import for_station

MAX_PHOTOS = 3
# Magic bytes of the image types a phone camera produces; nothing is trusted from the name.
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
               "image/heic": "heic"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"}


def sniff_image(head: bytes) -> str | None:
    """The image type ``head`` starts with, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def _visible(session: so.Session, who: Actor, incident_id: int) -> Incident:
    """The station's officers and the reporter see an incident; to anyone else it does not exist."""
    who.require_member()
    incident = session.scalar(sa.select(Incident).where(Incident.id == incident_id,
                                                        Incident.station_id == who.station.id))
    if incident is None or (incident.reporter_id != who.user.id and not who.is_staff):
        raise NotFound("incident_not_found")
    return incident


def report(session: so.Session, who: Actor, *, category: str, description: str = "",
           lat: float | None = None, lon: float | None = None, accuracy_m: float | None = None,
           occurred_at: dt.datetime | None = None, client_id: str | None = None,
           patrol_id: int | None = None) -> tuple[Incident, bool]:
    """Report an incident (someone on patrol, or an officer); the on-duty officers are told.

    Returns (incident, created); a re-sent ``client_id`` returns the first report.
    """
    who.require_member()
    station_id = who.station.id
    now = clock.now()
    if client_id is not None:
        existing = session.scalar(sa.select(Incident).where(Incident.station_id == station_id,
                                                            Incident.client_id == client_id))
        if existing is not None:
            if existing.reporter_id != who.user.id:
                raise Conflict("client_id_taken", client_id=client_id)
            return existing, False
    active = session.scalar(sa.select(Patrol.id).where(
        Patrol.station_id == station_id, Patrol.user_id == who.user.id,
        Patrol.status == PatrolStatus.ACTIVE).order_by(Patrol.id.desc()).limit(1))
    if patrol_id is not None:
        own = session.scalar(sa.select(Patrol.id).where(
            Patrol.id == patrol_id, Patrol.station_id == station_id,
            Patrol.user_id == who.user.id))
        if own is None:
            raise NotFound("patrol_not_found")
    if active is None and not who.is_staff:
        raise PermissionDenied("not_on_patrol")
    if occurred_at is None:
        occurred_at = now
    else:
        clock.check_device_time(occurred_at, geofence.station_rules(who.station.settings),
                                field="occurred_at", server_time=now)
    if (lat is None) != (lon is None):
        raise Invalid("validation_error", field="lon" if lon is None else "lat")
    incident = Incident(station_id=station_id, reporter_id=who.user.id,
                        patrol_id=patrol_id or active, client_id=client_id,
                        category=IncidentCategory(category), description=description, lat=lat,
                        lon=lon, accuracy_m=accuracy_m, occurred_at=occurred_at)
    session.add(incident)
    flush_or_conflict(session, None, "client_id_taken", client_id=client_id)
    recipients = [uid for uid in whom_to_alert(session, station_id, now) if uid != who.user.id]
    for user_id in recipients:
        notify(session, user_id, "patrol.incident_reported", station_id=station_id,
               target=incident_target(incident), incident_id=incident.id,
               category=incident.category.value, reporter=who.user.display_name,
               occurred_at=incident.occurred_at)
    incident.notified = recipients
    audit.record(session, actor=who.user, role=who.role, action="patrol.incident_reported",
                 record=incident, category=incident.category.value, notified=recipients)
    return incident, True


def get(session: so.Session, who: Actor, incident_id: int) -> Incident:
    incident = _visible(session, who, incident_id)
    if who.is_staff and incident.reporter_id != who.user.id:
        audit.record(session, actor=who.user, role=who.role, action="patrol.incident_read",
                     record=incident)
    return incident


def photos_of(session: so.Session, incident: Incident) -> list[IncidentPhoto]:
    return list(session.scalars(sa.select(IncidentPhoto).where(
        IncidentPhoto.station_id == incident.station_id,
        IncidentPhoto.incident_id == incident.id).order_by(IncidentPhoto.id)))


def incidents_query(who: Actor, *, status: str | None = None, category: str | None = None,
                    since: dt.datetime | None = None,
                    until: dt.datetime | None = None) -> sa.Select[Any]:
    """Newest first: officers see the station's, anyone else their own reports."""
    who.require_member()
    query = sa.select(Incident).where(Incident.station_id == who.station.id)
    if not who.is_staff:
        query = query.where(Incident.reporter_id == who.user.id)
    if status:
        query = query.where(Incident.status == status)
    if category:
        query = query.where(Incident.category == category)
    if since is not None:
        query = query.where(Incident.created_at >= since)
    if until is not None:
        query = query.where(Incident.created_at < until)
    return query.order_by(Incident.created_at.desc(), Incident.id.desc())


def summary(session: so.Session, who: Actor, since: dt.datetime,
            until: dt.datetime) -> dict[str, Any]:
    """Counts by category and status, without people or places (officers and partners)."""
    who.require("officer", "admin", "partner")
    rows = session.execute(
        sa.select(Incident.category, Incident.status, sa.func.count())
        .where(Incident.station_id == who.station.id, Incident.created_at >= since,
               Incident.created_at < until)
        .group_by(Incident.category, Incident.status)).all()
    by_category: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for category, status, count in rows:
        by_category[str(category)] = by_category.get(str(category), 0) + count
        by_status[str(status)] = by_status.get(str(status), 0) + count
    return {"since": since, "until": until, "total": sum(by_status.values()),
            "by_category": by_category, "by_status": by_status}


def add_photos(session: so.Session, who: Actor, incident_id: int,
               files: list[IO[bytes]], storage: Storage) -> list[IncidentPhoto]:
    """Attach photos (the reporter or an officer): images only, each within the size limit.

    At most three per incident, counted by a conditional UPDATE so parallel uploads cannot
    exceed it.
    """
    incident = _visible(session, who, incident_id)
    if not files:
        raise Invalid("photo_missing", field="photo")
    limit = for_station(session, incident.station_id).photo_max_bytes
    checked: list[tuple[bytes, str]] = []
    for index, handle in enumerate(files):
        data = handle.read(limit + 1)
        if len(data) > limit:
            raise Invalid("photo_too_large", index=index, max_bytes=limit)
        kind = sniff_image(data[:16])
        if kind is None:
            raise Invalid("photo_type_not_allowed", index=index, allowed=", ".join(IMAGE_TYPES))
        checked.append((data, kind))
    taken = cast(sa.CursorResult[Any], session.execute(
        sa.update(Incident)
        .where(Incident.id == incident.id, Incident.photo_count + len(checked) <= MAX_PHOTOS)
        .values(photo_count=Incident.photo_count + len(checked))
        .execution_options(synchronize_session=False))).rowcount
    if not taken:
        raise Invalid("too_many_photos", max=MAX_PHOTOS)
    photos = []
    for data, kind in checked:
        key = storage_save(session, storage, data, folder=f"patrol/{incident.station_id}",
                           extension=_EXTENSIONS[kind])
        photo = IncidentPhoto(station_id=incident.station_id, incident_id=incident.id,
                              storage_key=key, content_type=kind, size_bytes=len(data),
                              sha256=hashlib.sha256(data).hexdigest(), uploaded_by=who.user.id)
        session.add(photo)
        photos.append(photo)
    session.flush()
    session.refresh(incident)
    return photos


def open_photo(session: so.Session, who: Actor, incident_id: int, photo_id: int,
               storage: Storage) -> tuple[IncidentPhoto, IO[bytes]]:
    """A photo's file, for the station's officers and the reporter only (reads audited)."""
    incident = _visible(session, who, incident_id)
    photo = session.scalar(sa.select(IncidentPhoto).where(
        IncidentPhoto.id == photo_id, IncidentPhoto.station_id == incident.station_id,
        IncidentPhoto.incident_id == incident.id))
    if photo is None:
        raise NotFound("photo_not_found")
    try:
        handle = storage.open(photo.storage_key)
    except FileNotFoundError:
        raise NotFound("photo_not_found") from None
    if incident.reporter_id != who.user.id:
        audit.record(session, actor=who.user, role=who.role, action="patrol.photo_read",
                     record=photo, incident_id=incident.id)
    return photo, handle


def acknowledge(session: so.Session, who: Actor, incident_id: int, note: str = "") -> Incident:
    """An officer takes the incident on; the reporter is told."""
    who.require("officer", "admin")
    incident = _visible(session, who, incident_id)
    if incident.status != IncidentStatus.REPORTED:
        raise Conflict("incident_not_open", status=incident.status.value)
    incident.status = IncidentStatus.ACKNOWLEDGED
    incident.acknowledged_by = who.user.id
    incident.acknowledged_at = clock.now()
    incident.acknowledge_note = note
    _tell_reporter(session, who, incident, "patrol.incident_acknowledged")
    audit.record(session, actor=who.user, role=who.role, action="patrol.incident_acknowledged",
                 record=incident)
    return incident


def resolve(session: so.Session, who: Actor, incident_id: int, note: str) -> Incident:
    """An officer closes the incident with a note; the reporter is told."""
    who.require("officer", "admin")
    incident = _visible(session, who, incident_id)
    if incident.status == IncidentStatus.RESOLVED:
        raise Conflict("incident_not_open", status=incident.status.value)
    now = clock.now()
    if incident.acknowledged_at is None:
        incident.acknowledged_by, incident.acknowledged_at = who.user.id, now
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_by = who.user.id
    incident.resolved_at = now
    incident.resolution_note = note
    _tell_reporter(session, who, incident, "patrol.incident_resolved")
    audit.record(session, actor=who.user, role=who.role, action="patrol.incident_resolved",
                 record=incident)
    return incident


def _tell_reporter(session: so.Session, who: Actor, incident: Incident, code: str) -> None:
    if incident.reporter_id != who.user.id:
        notify(session, incident.reporter_id, code, station_id=incident.station_id,
               target=incident_target(incident), incident_id=incident.id,
               category=incident.category.value, officer=who.user.display_name)


def incident_target(incident: Incident) -> dict[str, Any]:
    """What the app opens for a notification about ``incident``."""
    return targets.target("patrol.incident", incident_id=incident.id)
