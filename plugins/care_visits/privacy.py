"""A person's and a recipient's data: export all held on them, erasure that keeps counts."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock
from core.access import Actor
from core.errors import Conflict
from core.export import plain, rows
from core.models import (
    Assignment,
    AuditEvent,
    Checkin,
    IdempotencyKey,
    Membership,
    Notification,
    Station,
    Task,
    User,
)
from plugins.care_visits.access import (
    OFFICER_FIELDS,
    SENSITIVE_FIELDS,
    View,
    get_recipient,
)
from plugins.care_visits.consents import cancel_planned_visits
from plugins.care_visits.models import (
    Consent,
    FollowUp,
    NamedVisitor,
    Recipient,
    SensitiveDetails,
    Signature,
    Visit,
)
from plugins.care_visits.recipients import present
from plugins.care_visits.visits import present as present_visits

ERASED = "[erased]"
EXPORT_SECTIONS = ("recipient", "consents", "visits", "checkins", "signatures", "access_log")


def export_recipient(session: so.Session, who: Actor, recipient_id: int) -> dict[str, Any]:
    """Everything held on one recipient, as JSON (care officers); the export is audited."""
    recipient, _ = get_recipient(session, who, recipient_id, officer=True)
    station = who.station
    card = present(session, [recipient], View.OFFICER, sensitive=True)[0]
    consents = session.scalars(sa.select(Consent).where(
        Consent.station_id == station.id, Consent.recipient_id == recipient.id)
        .order_by(Consent.id)).all()
    visits = session.scalars(sa.select(Visit).where(
        Visit.station_id == station.id, Visit.recipient_id == recipient.id)
        .order_by(Visit.id)).all()
    task_ids = [v.task_id for v in visits]
    checkins = session.scalars(sa.select(Checkin).where(
        Checkin.station_id == station.id, Checkin.task_id.in_(task_ids))
        .order_by(Checkin.id)).all() if task_ids else []
    signatures = session.scalars(sa.select(Signature).where(
        Signature.station_id == station.id,
        Signature.visit_id.in_([v.id for v in visits])).order_by(Signature.id)).all()
    reads = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.station_id == station.id, AuditEvent.record_type == Recipient.__tablename__,
        AuditEvent.record_id == str(recipient.id)).order_by(AuditEvent.id)).all()
    audit.record(session, actor=who.user, role=who.role, action="care_visits.recipient_exported",
                 record=recipient, fields=list(OFFICER_FIELDS + SENSITIVE_FIELDS),
                 sections=list(EXPORT_SECTIONS))
    return {
        "exported_at": clock.now(),
        "recipient": card,
        "consents": [{"id": c.id, "basis": str(c.basis), "scope": list(c.scope),
                      "version": c.version, "given_by": c.given_by, "note": c.note,
                      "recorded_by": c.recorded_by, "recorded_at": c.recorded_at,
                      "withdrawn_at": c.withdrawn_at, "withdrawn_by": c.withdrawn_by,
                      "withdrawal_note": c.withdrawal_note} for c in consents],
        "visits": present_visits(session, visits, station),
        "checkins": [{"id": c.id, "task_id": c.task_id, "user_id": c.user_id,
                      "kind": str(c.kind), "lat": c.lat, "lon": c.lon,
                      "accuracy_m": c.accuracy_m, "is_mock": c.is_mock,
                      "distance_m": c.distance_m, "device_time": c.device_time,
                      "server_time": c.server_time} for c in checkins],
        "signatures": [{"visit_id": s.visit_id, "content_type": s.content_type,
                        "data": base64.b64encode(s.data).decode(), "created_at": s.created_at}
                       for s in signatures],
        "access_log": [{"actor_id": e.actor_id, "actor_role": e.actor_role, "action": e.action,
                        "fields": (e.details or {}).get("fields", []),
                        "created_at": e.created_at} for e in reads],
    }


# Erasure --------------------------------------------------------------------------------------

def erase(session: so.Session, who: Actor, recipient_id: int) -> Recipient:
    """Anonymise a recipient on request (care officers); 409 ``recipient_erased`` the second time."""
    recipient, _ = get_recipient(session, who, recipient_id, officer=True)
    if recipient.erased_at is not None:
        raise Conflict("recipient_erased")
    erase_recipient(session, recipient, actor=who.user, role=who.role)
    return recipient


def erase_recipient(session: so.Session, recipient: Recipient, *, actor: User | None,
                    role: str) -> None:
    """Replace the person's name, phones, address, ID and free texts; keep every count.

    Visits, supplies, follow-ups, consents and ledger entries stay (anonymous); sensitive
    details, the signature and positions go; copies held in stored idempotent answers,
    notification parameters and audit details are scrubbed too.
    """
    station_id = recipient.station_id
    sensitive = session.scalar(sa.select(SensitiveDetails).where(
        SensitiveDetails.station_id == station_id, SensitiveDetails.recipient_id == recipient.id))
    identifying, other = _identifying(recipient, sensitive)
    cancel_planned_visits(session, recipient, reason="recipient_erased")
    visits = session.scalars(sa.select(Visit).where(Visit.station_id == station_id,
                                                    Visit.recipient_id == recipient.id)).all()
    visit_ids = [v.id for v in visits]
    task_ids = [v.task_id for v in visits]
    now = clock.now()
    for visit in visits:
        visit.observations = ""
        visit.review_note = ""
        visit.lat = visit.lon = None
        visit.ack_code_hash = None
        visit.positions_cleared_at = visit.positions_cleared_at or now
    if visit_ids:
        session.execute(sa.delete(Signature).where(Signature.station_id == station_id,
                                                   Signature.visit_id.in_(visit_ids)))
    session.execute(sa.update(FollowUp).where(FollowUp.station_id == station_id,
                                              FollowUp.recipient_id == recipient.id)
                    .values(need=ERASED, resolution=""))
    session.execute(sa.update(Consent).where(Consent.station_id == station_id,
                                             Consent.recipient_id == recipient.id)
                    .values(given_by="", note="", withdrawal_note=""))
    session.execute(sa.delete(NamedVisitor).where(NamedVisitor.station_id == station_id,
                                                  NamedVisitor.recipient_id == recipient.id))
    if sensitive is not None:
        session.delete(sensitive)
    if task_ids:
        # The home's position was the visits' fence; titles never held a name, but make sure.
        for task in session.scalars(sa.select(Task).where(Task.id.in_(task_ids))):
            task.lat = task.lon = None
            task.title = _scrub(task.title, identifying + other)
            task.description = _scrub(task.description, identifying + other)
        session.execute(sa.update(Checkin).where(Checkin.station_id == station_id,
                                                 Checkin.task_id.in_(task_ids))
                        .values(lat=None, lon=None))
    recipient.name = f"erased-{recipient.id}"
    recipient.phone = None
    recipient.address = ""
    recipient.lat = recipient.lon = None
    recipient.needs = ""
    recipient.emergency_name = ""
    recipient.emergency_phone = None
    recipient.emergency_relation = ""
    recipient.user_id = None
    recipient.erased_at = now
    recipient.updated_at = now
    session.flush()
    scrub_copies(session, station_id, identifying, other)
    audit.record(session, actor=actor, role=role, action="care_visits.recipient_erased",
                 record=recipient, visits_kept=len(visits))


def _identifying(recipient: Recipient,
                 sensitive: SensitiveDetails | None) -> tuple[list[str], list[str]]:
    """(What identifies the person, other free text about them), longest first.

    Copies are found by the first list only; inside a copy found, both are replaced.
    """
    def clean(raw: Sequence[str | None]) -> list[str]:
        # Longest first, so a name inside an address goes with the address.
        return sorted({v.strip() for v in raw if v and len(v.strip()) >= 2}, key=len,
                      reverse=True)

    identifying = [recipient.name, recipient.phone, recipient.address, recipient.emergency_name,
                   recipient.emergency_phone, sensitive.id_number if sensitive else None]
    other = [recipient.needs, recipient.emergency_relation]
    if sensitive is not None:
        other += [sensitive.health_notes, sensitive.disability_type]
    return clean(identifying), clean(other)


def _forms(value: str) -> list[str]:
    """The value as text and as it appears inside JSON written with ASCII escapes."""
    escaped = json.dumps(value)[1:-1]
    return [value] if escaped == value else [value, escaped]


def _scrub(text: str, values: Iterable[str]) -> str:
    for value in values:
        for form in _forms(value):
            text = text.replace(form, ERASED)
    return text


def _scrub_json(data: Any, values: list[str]) -> Any:
    if isinstance(data, str):
        return _scrub(data, values)
    if isinstance(data, list):
        return [_scrub_json(v, values) for v in data]
    if isinstance(data, dict):
        return {k: _scrub_json(v, values) for k, v in data.items()}
    return data


def _mentions(column: Any, values: list[str]) -> Any:
    return sa.or_(*[sa.cast(column, sa.Text).contains(form, autoescape=True)
                    for value in values for form in _forms(value)])


def scrub_copies(session: so.Session, station_id: int, identifying: list[str],
                 other: list[str]) -> None:
    """Copies outside the plugin's tables: stored answers, notification parameters, audit."""
    if not identifying:
        return
    values = identifying + other
    members = sa.select(Membership.user_id).where(Membership.station_id == station_id,
                                                  Membership.user_id.is_not(None))
    for key in session.scalars(sa.select(IdempotencyKey).where(
            IdempotencyKey.user_id.in_(members), _mentions(IdempotencyKey.body, identifying))):
        try:
            key.body = json.dumps(_scrub_json(json.loads(key.body or ""), values))
        except ValueError:
            key.body = _scrub(key.body or "", values)
    for note in session.scalars(sa.select(Notification).where(
            Notification.station_id == station_id, _mentions(Notification.params, identifying))):
        note.params = _scrub_json(dict(note.params), values)
    # Audit rows are append-only for the ORM; erasure is the one audited exception.
    for event_id, details in session.execute(sa.select(AuditEvent.id, AuditEvent.details).where(
            AuditEvent.station_id == station_id,
            _mentions(AuditEvent.details, identifying))).all():
        session.execute(sa.update(AuditEvent).where(AuditEvent.id == event_id)
                        .values(details=_scrub_json(details, values)))
    session.flush()


def on_membership_removed(session: so.Session, station: Station, user: User) -> None:
    """A person leaving the station is nobody's named visitor there any more (re-joining later
    does not make them one again)."""
    session.execute(sa.delete(NamedVisitor).where(NamedVisitor.station_id == station.id,
                                                  NamedVisitor.user_id == user.id))


def export_person(session: so.Session, user: User) -> dict[str, Any]:
    """The person's care records: their own recipient record if they are one; as a visitor,
    whom they are named for and the visits they held, without what concerns the recipient
    (the home's position, the health observations)."""
    held = sa.select(Assignment.task_id).where(Assignment.user_id == user.id)
    visits = session.scalars(sa.select(Visit).where(Visit.task_id.in_(held))
                             .order_by(Visit.id)).all()
    return {
        "recipient_records": rows(session, Recipient, Recipient.user_id == user.id),
        "named_visitor_of": rows(session, NamedVisitor, NamedVisitor.user_id == user.id),
        "visits": [{"id": v.id, "station_id": v.station_id, "task_id": v.task_id,
                    "status": plain(v.status), "starts_at": plain(v.starts_at),
                    "began_at": plain(v.began_at), "ended_at": plain(v.ended_at)}
                   for v in visits],
    }


def on_user_erased(session: so.Session, user: User) -> None:
    """An erased account leaves no named-visitor rows, and erases a recipient record it owns."""
    session.execute(sa.delete(NamedVisitor).where(NamedVisitor.user_id == user.id))
    for recipient in session.scalars(sa.select(Recipient).where(
            Recipient.user_id == user.id, Recipient.erased_at.is_(None))).all():
        erase_recipient(session, recipient, actor=user, role="self")
