"""Push devices: a phone's push token, registered by a signed-in session and gone when it ends."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, messages
from core.errors import NotFound
from core.models import Device

# Sessions that were never logged out keep their devices; past this many the oldest go.
MAX_DEVICES_PER_USER = 10


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(session: so.Session, *, user_id: int, session_id: int, token: str, platform: str,
             locale: str, service: str = "fcm") -> tuple[Device, bool]:
    """Register this session's push token; return the device and whether it is new.

    ``service`` is the push service the token belongs to ("fcm", "jpush"): each delivery
    channel pushes to its own. A token belongs to one app installation, so it moves to whoever
    registers it last: a shared phone never receives the previous user's notifications. A
    session has one token: a refreshed token replaces the session's old one.
    """
    locale = messages.pick_locale([locale])
    digest = token_digest(token)
    device = session.scalar(sa.select(Device).where(Device.token_hash == digest))
    created = device is None
    if device is None:
        device = Device(token=token, token_hash=digest, user_id=user_id, session_id=session_id,
                        platform=platform, locale=locale, service=service)
        try:
            with session.begin_nested():
                session.add(device)
                session.flush()
        except sa.exc.IntegrityError:
            # The same token registered concurrently: take over the row that won.
            device = session.scalars(sa.select(Device).where(Device.token_hash == digest)).one()
            created = False
    if not created:
        device.user_id, device.session_id = user_id, session_id
        device.platform, device.locale, device.service = platform, locale, service
        device.created_at = clock.now()
    session.execute(
        sa.delete(Device).where(Device.session_id == session_id, Device.id != device.id)
    )
    _keep_newest(session, user_id)
    session.flush()
    return device, created


def _keep_newest(session: so.Session, user_id: int) -> None:
    stale = session.scalars(
        sa.select(Device.id).where(Device.user_id == user_id)
        .order_by(Device.created_at.desc(), Device.id.desc()).offset(MAX_DEVICES_PER_USER)
    ).all()
    if stale:
        session.execute(sa.delete(Device).where(Device.id.in_(stale)))


def find(session: so.Session, user_id: int, ref: str) -> Device:
    """One of the person's devices, by id or by token (404 ``device_not_found`` otherwise)."""
    where = Device.id == int(ref) if ref.isdecimal() and len(ref) < 19 else (
        Device.token_hash == token_digest(ref))
    device = session.scalar(sa.select(Device).where(where, Device.user_id == user_id))
    if device is None:
        raise NotFound("device_not_found")
    return device


def remove(session: so.Session, user_id: int, ref: str) -> None:
    session.delete(find(session, user_id, ref))
    session.flush()


def of_user(user_id: int) -> sa.Select:
    return sa.select(Device).where(Device.user_id == user_id).order_by(Device.id)
