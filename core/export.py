"""A person's own data, everything the deployment holds about them, as JSON (PIPL access right)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock
from core.errors import TooManyRequests
from core.models import (
    Assignment,
    AuditEvent,
    AuthSession,
    Checkin,
    Device,
    Group,
    GroupMember,
    IdentityLink,
    Membership,
    Notice,
    Notification,
    PointsEntry,
    Station,
    User,
)
from core.plugins import CORE_PLUGIN

# Exports a person may make in a window: each reads every table, so a loop cannot stall a server.
EXPORTS_PER_WINDOW = 3
WINDOW = dt.timedelta(hours=24)
# Credentials and delivery bookkeeping are not personal data to hand out: hashes, push tokens.
NOT_EXPORTED = frozenset({"password_hash", "refresh_hash", "previous_hash", "token", "token_hash",
                          "claimed_by", "last_error"})


def plain(value: Any) -> Any:
    """A value as JSON carries it: times in ISO 8601 UTC, enums by value."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def row(obj: Any, *, leave_out: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """Every column of a row (but credentials and ``leave_out``), JSON-ready."""
    columns = sa.inspect(obj).mapper.column_attrs
    return {c.key: plain(getattr(obj, c.key)) for c in columns
            if c.key not in NOT_EXPORTED and c.key not in leave_out}


def rows(session: so.Session, model: Any, *where: Any,
         leave_out: frozenset[str] | set[str] = frozenset()) -> list[dict[str, Any]]:
    """The rows of ``model`` matching ``where``, oldest first, each as :func:`row`."""
    found = session.scalars(sa.select(model).where(*where).order_by(model.id)).all()
    return [row(r, leave_out=leave_out) for r in found]


def export_user(session: so.Session, user: User) -> dict[str, Any]:
    """Everything held about ``user``: the core's records and each installed plugin's part.

    At most :data:`EXPORTS_PER_WINDOW` a day (429 ``rate_limited``); each export is audited.
    """
    now = clock.now()
    recent = session.scalars(
        sa.select(AuditEvent.created_at).where(
            AuditEvent.actor_id == user.id, AuditEvent.action == "user.exported",
            AuditEvent.created_at > now - WINDOW)
        .order_by(AuditEvent.created_at)).all()
    if len(recent) >= EXPORTS_PER_WINDOW:
        retry_after = max(1, int((recent[0] + WINDOW - now).total_seconds()) + 1)
        raise TooManyRequests("rate_limited", retry_after=retry_after)
    uid = user.id
    groups = session.execute(
        sa.select(GroupMember, Group.name, Group.kind)
        .join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.user_id == uid).order_by(GroupMember.id)).all()
    stations = session.execute(
        sa.select(Station.id, Station.code, Station.name)
        .where(Station.id.in_(sa.select(Membership.station_id)
                              .where(Membership.user_id == uid)))).all()
    data: dict[str, Any] = {
        "exported_at": plain(now),
        "account": row(user),
        "memberships": rows(session, Membership, Membership.user_id == uid),
        "stations": [{"id": i, "code": c, "name": n} for i, c, n in stations],
        "groups": [{**row(m), "group_name": name, "group_kind": kind} for m, name, kind in groups],
        "sessions": rows(session, AuthSession, AuthSession.user_id == uid),
        "devices": rows(session, Device, Device.user_id == uid),
        "identities": rows(session, IdentityLink, IdentityLink.user_id == uid),
        "assignments": rows(session, Assignment, Assignment.user_id == uid),
        "checkins": rows(session, Checkin, Checkin.user_id == uid),
        "points": rows(session, PointsEntry, PointsEntry.user_id == uid),
        "notifications": rows(session, Notification, Notification.user_id == uid),
        "notices_sent": rows(session, Notice, Notice.sent_by == uid),
        "audit_events": rows(session, AuditEvent, AuditEvent.actor_id == uid),
        "plugins": _plugin_parts(session, user),
    }
    audit.record(session, actor=user, action="user.exported", record=user,
                 plugins=sorted(data["plugins"]))
    return data


def _plugin_parts(session: so.Session, user: User) -> dict[str, Any]:
    """Every installed plugin's part, switched on or not: the data exists either way."""
    found = session.info.get("deployment")
    if found is None:
        return {}
    parts: dict[str, Any] = {}
    for impl in found.pm.hook.wardens_export_user.get_hookimpls():
        name = found.pm.get_name(impl.plugin)
        if name == CORE_PLUGIN:
            continue
        part = found.call_one("wardens_export_user", impl.plugin, session=session, user=user)
        if part:
            parts[name] = plain(part)
    return dict(sorted(parts.items()))
