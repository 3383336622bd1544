"""What a station member may read and change of the points, decided here (views only parse,
call and serialize): their own balance and entries, anyone's for staff, rules and adjustments
for officers and admins."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, ledger, notifications
from core.access import Actor
from core.errors import Invalid, NotFound
from core.models import Group, Membership, PointsEntry


def _whose(who: Actor, user_id: int | None) -> int:
    """My own, or anyone's for officers and admins."""
    who.require_member()
    if user_id is None or user_id == who.user.id:
        return who.user.id
    who.require("officer", "admin")
    return user_id


def balance(session: so.Session, who: Actor, user_id: int | None = None) -> dict[str, int]:
    user_id = _whose(who, user_id)
    return {"user_id": user_id, "balance": ledger.balance(session, who.station.id, user_id)}


def entries(who: Actor, user_id: int | None = None, **filters: Any) -> sa.Select[Any]:
    """Ledger entries, newest first: one's own; staff anyone's, or the whole station's."""
    who.require_member()
    if user_id is None and who.is_staff:
        return ledger.entries_query(who.station.id, **filters)
    return ledger.entries_query(who.station.id, user_id=_whose(who, user_id), **filters)


def adjust(session: so.Session, who: Actor, *, user_id: int, amount: int,
           reason: str) -> PointsEntry:
    """An officer's correction of a member's points, audited and told to the person."""
    who.require("officer", "admin")
    if session.scalar(sa.select(Membership.id).where(
            Membership.station_id == who.station.id, Membership.user_id == user_id)) is None:
        raise Invalid("not_a_member", field="user_id")
    entry = ledger.adjust(session, station_id=who.station.id, user_id=user_id, amount=amount,
                          reason=reason, by=who.user.id, source_id=uuid.uuid4().hex)
    audit.record(session, actor=who.user, role=who.role, action="points.adjusted",
                 record=entry, user_id=user_id, amount=amount, reason=reason)
    notifications.notify(session, entry.user_id, "points_adjusted", station_id=who.station.id,
                         amount=f"{amount:+d}", reason=reason)
    return entry


def rules(session: so.Session, who: Actor) -> list[dict[str, Any]]:
    who.require("officer", "admin")
    return ledger.rules(session, who.station.id)


def set_rules(session: so.Session, who: Actor,
              amounts: dict[str, int | None]) -> list[dict[str, Any]]:
    """Officers and admins set what events earn here (audited); past entries keep theirs."""
    who.require("officer", "admin")
    before = {r["event_code"]: r["amount"] for r in ledger.rules(session, who.station.id)}
    ledger.set_rules(session, who.station.id, amounts)
    audit.record(session, actor=who.user, role=who.role, action="points.rules_changed",
                 station_id=who.station.id,
                 changes={code: [before.get(code), amount] for code, amount in amounts.items()})
    return ledger.rules(session, who.station.id)


def leaderboard(session: so.Session, who: Actor, *, period: str, group_id: int | None,
                limit: int) -> dict[str, Any]:
    who.require_member()
    if group_id is not None and session.scalar(sa.select(Group.id).where(
            Group.id == group_id, Group.station_id == who.station.id)) is None:
        raise NotFound("group_not_found")
    since: dt.datetime | None = ledger.period_start(period, who.station.timezone)
    return {"period": period, "since": since, "timezone": who.station.timezone,
            "group": group_id,
            "entries": ledger.leaderboard(session, who.station.id, since=since,
                                          group_id=group_id, limit=limit)}
