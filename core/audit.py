"""Writing the audit log; rows are append-only, enforced here for every session."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import orm as so

from core.models import AuditEvent, Station, User

if TYPE_CHECKING:
    from core.access import Actor


def record(
    session: so.Session,
    *,
    actor: User | None,
    action: str,
    record: Any = None,
    station_id: int | None = None,
    role: str = "",
    **details: Any,
) -> AuditEvent:
    """Append one event: who (and in which role) did ``action`` to ``record``."""
    if station_id is None:
        # A station's own events (settings, plugin switches) belong to it: its admins read them.
        station_id = record.id if isinstance(record, Station) else getattr(record, "station_id",
                                                                             None)
    event_row = AuditEvent(
        station_id=station_id,
        actor_id=actor.id if actor else None,
        actor_role=role,
        action=action,
        record_type=getattr(record, "__tablename__", "") if record is not None else "",
        record_id=str(getattr(record, "id", "") or "") if record is not None else "",
        details=details,
    )
    session.add(event_row)
    return event_row


def station_events(who: Actor, *, since: dt.datetime | None = None,
                   until: dt.datetime | None = None, actor_id: int | None = None,
                   action: str | None = None) -> sa.Select[Any]:
    """The station's audit log, newest first (admins); filtered by time, actor and action."""
    who.require("admin")
    query = sa.select(AuditEvent).where(AuditEvent.station_id == who.station.id)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


@event.listens_for(so.Session, "before_flush")
def _refuse_audit_changes(session: so.Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise RuntimeError("audit events are append-only")
