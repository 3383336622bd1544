"""The recipient's acknowledgement of a visit: a code sent by text message, or a signature image."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import zoneinfo

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, notifications
from core.access import Actor
from core.db import dialect_insert
from core.errors import Conflict, Invalid, TooManyRequests
from plugins.care_visits.models import AckTextBudget, Signature, Visit
from plugins.care_visits.settings import for_station
from plugins.care_visits.visits import recording_visit

# Tries at the code per visit, across every code sent for it.
MAX_ATTEMPTS = 5
MAX_SIGNATURE_BYTES = 256 * 1024
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
TEXT_CODE = "care_visits.ack_code"


def _digest(visit: Visit, code: str) -> str:
    return hashlib.sha256(f"{visit.station_id}:{visit.id}:{code}".encode()).hexdigest()


def send_code(session: so.Session, who: Actor, visit_id: int, to: str) -> Visit:
    """Text a six-digit code to the recipient's (or their emergency contact's) phone.

    The visitor types in the code the recipient reads out; only its hash is kept. Codes are
    limited per visit (409 ``ack_code_send_limit``) and per phone and station day (429
    ``ack_phone_text_limit``); a new code replaces the old one but never gives more tries.
    """
    visit, recipient = recording_visit(session, who, visit_id)
    if visit.acknowledged_at is not None:
        raise Conflict("visit_acknowledged")
    if visit.ack_attempts >= MAX_ATTEMPTS:
        raise Conflict("ack_code_locked")
    phone = recipient.phone if to == "recipient" else recipient.emergency_phone
    if not phone:
        raise Invalid("ack_phone_missing", field="to", to=to)
    rules = for_station(session, visit.station_id)
    _take_visit_send(session, visit, rules.ack_code_sends_per_visit)
    _take_phone_text(session, who, phone, rules.ack_code_texts_per_phone_per_day)
    code = f"{secrets.randbelow(10**6):06d}"
    # The recipient's language is not known; the station's people read Chinese. Queued: it
    # leaves once the request commits (a refused text is the outbox's to retry or record).
    notifications.send_text(session, phone, TEXT_CODE, "zh-CN", pin=code,
                            minutes=rules.ack_code_minutes)
    visit.ack_code_hash = _digest(visit, code)
    visit.ack_sent_to = to
    visit.ack_sent_at = clock.now()
    audit.record(session, actor=who.user, role=who.role, action="care_visits.ack_code_sent",
                 record=visit, to=to)
    return visit


def _take_visit_send(session: so.Session, visit: Visit, limit: int) -> None:
    # A conditional increment: concurrent sends for one visit cannot pass the limit together.
    sends = session.execute(
        sa.update(Visit).where(Visit.id == visit.id, Visit.ack_sends < limit)
        .values(ack_sends=Visit.ack_sends + 1).returning(Visit.ack_sends)
        .execution_options(synchronize_session=False)).scalar()
    if sends is None:
        raise Conflict("ack_code_send_limit", max=limit)
    so.attributes.set_committed_value(visit, "ack_sends", sends)


def _take_phone_text(session: so.Session, who: Actor, phone: str, limit: int) -> None:
    """Count one text to ``phone`` on the station's day, or 429 when the day's budget is spent."""
    zone = zoneinfo.ZoneInfo(who.station.timezone)
    local = clock.now().astimezone(zone)
    digest = hashlib.sha256(f"{who.station.id}:{phone}".encode()).hexdigest()
    insert = dialect_insert(session, AckTextBudget)
    # One statement, atomic on both databases: the day's row is made or counted up, never
    # past the limit (the conditional DO UPDATE then returns no row).
    sent = session.execute(
        insert.values(station_id=who.station.id, phone_digest=digest, day=local.date(), sent=1)
        .on_conflict_do_update(index_elements=["station_id", "phone_digest", "day"],
                               set_={"sent": AckTextBudget.sent + 1},
                               where=AckTextBudget.sent < limit)
        .returning(AckTextBudget.sent)).scalar()
    if sent is None:
        midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(),
                                       tzinfo=zone)
        raise TooManyRequests("ack_phone_text_limit", max=limit,
                              retry_after=int((midnight - local).total_seconds()) + 1)


def confirm_code(session: so.Session, who: Actor, visit_id: int, code: str) -> Visit:
    """Check the code; five tries per visit, whatever codes were sent (a signature still works).

    Each try is taken by a conditional UPDATE before the code is compared, so concurrent
    guesses cannot pass the limit together.
    """
    visit, _ = recording_visit(session, who, visit_id)
    if visit.acknowledged_at is not None:
        raise Conflict("visit_acknowledged")
    if visit.ack_code_hash is None or visit.ack_sent_at is None:
        raise Conflict("ack_code_not_sent")
    minutes = for_station(session, visit.station_id).ack_code_minutes
    if clock.now() > visit.ack_sent_at + dt.timedelta(minutes=minutes):
        raise Invalid("ack_code_expired")
    tries = session.execute(
        sa.update(Visit).where(Visit.id == visit.id, Visit.ack_attempts < MAX_ATTEMPTS)
        .values(ack_attempts=Visit.ack_attempts + 1).returning(Visit.ack_attempts)
        .execution_options(synchronize_session=False)).scalar()
    if tries is None:
        raise Conflict("ack_code_locked")
    so.attributes.set_committed_value(visit, "ack_attempts", tries)
    if not hmac.compare_digest(visit.ack_code_hash, _digest(visit, code.strip())):
        # The count of wrong tries must stick although the request answers with an error.
        session.info["commit_on_error"] = True
        raise Invalid("ack_code_wrong", attempts_left=MAX_ATTEMPTS - tries)
    visit.ack_method = "code"
    visit.acknowledged_at = clock.now()
    visit.ack_code_hash = None
    audit.record(session, actor=who.user, role=who.role, action="care_visits.acknowledged",
                 record=visit, method="code")
    return visit


def sign(session: so.Session, who: Actor, visit_id: int, image: bytes) -> Visit:
    """Store the recipient's signature image (PNG or JPEG, at most 256 KB)."""
    visit, _ = recording_visit(session, who, visit_id)
    if visit.acknowledged_at is not None:
        raise Conflict("visit_acknowledged")
    if len(image) > MAX_SIGNATURE_BYTES:
        raise Invalid("signature_too_large", max_bytes=MAX_SIGNATURE_BYTES)
    content_type = next((t for magic, t in IMAGE_TYPES.items() if image.startswith(magic)), None)
    if content_type is None:
        raise Invalid("signature_not_an_image")
    session.add(Signature(station_id=visit.station_id, visit_id=visit.id,
                          content_type=content_type, data=image, created_by=who.user.id))
    visit.ack_method = "signature"
    visit.acknowledged_at = clock.now()
    audit.record(session, actor=who.user, role=who.role, action="care_visits.acknowledged",
                 record=visit, method="signature")
    return visit


def signature_of(session: so.Session, visit: Visit) -> Signature | None:
    return session.scalar(sa.select(Signature).where(Signature.station_id == visit.station_id,
                                                     Signature.visit_id == visit.id))
