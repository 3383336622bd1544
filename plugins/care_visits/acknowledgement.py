"""The recipient's acknowledgement of a visit: a code sent by text message, or a signature image."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, notifications
from core.access import Actor
from core.errors import Conflict, Invalid
from plugins.care_visits import policy
from plugins.care_visits.models import Signature, Visit
from plugins.care_visits.visits import recording_visit

MAX_ATTEMPTS = 5
MAX_SIGNATURE_BYTES = 256 * 1024
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
TEXT_CODE = "care_visits.ack_code"


def _digest(visit: Visit, code: str) -> str:
    return hashlib.sha256(f"{visit.station_id}:{visit.id}:{code}".encode()).hexdigest()


def send_code(session: so.Session, who: Actor, visit_id: int, to: str) -> Visit:
    """Text a six-digit code to the recipient's (or their emergency contact's) phone.

    The visitor types in the code the recipient reads out; only its hash is kept.
    """
    visit, recipient = recording_visit(session, who, visit_id)
    if visit.acknowledged_at is not None:
        raise Conflict("visit_acknowledged")
    phone = recipient.phone if to == "recipient" else recipient.emergency_phone
    if not phone:
        raise Invalid("ack_phone_missing", field="to", to=to)
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = policy.settings(session, visit.station_id)["ack_code_minutes"]
    # The recipient's language is not known; the station's people read Chinese.
    if not notifications.send_text(session, phone, TEXT_CODE, "zh-CN", pin=code,
                                   minutes=minutes):
        raise Conflict("text_not_sent")
    visit.ack_code_hash = _digest(visit, code)
    visit.ack_sent_to = to
    visit.ack_sent_at = clock.now()
    visit.ack_attempts = 0
    audit.record(session, actor=who.user, role=who.role, action="care_visits.ack_code_sent",
                 record=visit, to=to)
    return visit


def confirm_code(session: so.Session, who: Actor, visit_id: int, code: str) -> Visit:
    """Check the code; five wrong tries lock it (a new code can be sent)."""
    visit, _ = recording_visit(session, who, visit_id)
    if visit.acknowledged_at is not None:
        raise Conflict("visit_acknowledged")
    if visit.ack_code_hash is None or visit.ack_sent_at is None:
        raise Conflict("ack_code_not_sent")
    if visit.ack_attempts >= MAX_ATTEMPTS:
        raise Conflict("ack_code_locked")
    minutes = policy.settings(session, visit.station_id)["ack_code_minutes"]
    if clock.now() > visit.ack_sent_at + dt.timedelta(minutes=minutes):
        raise Invalid("ack_code_expired")
    if not hmac.compare_digest(visit.ack_code_hash, _digest(visit, code.strip())):
        visit.ack_attempts += 1
        session.flush()
        # The count of wrong tries must stick although the request answers with an error.
        session.info["commit_on_error"] = True
        raise Invalid("ack_code_wrong", attempts_left=MAX_ATTEMPTS - visit.ack_attempts)
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
