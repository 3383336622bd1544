"""What a station member may read and change of the points, decided here (views only parse,
call and serialize): their own balance and entries, anyone's for staff, rules and adjustments
for officers and admins."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, ledger, notifications, targets
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.models import AdjustmentStatus, Group, Membership, PendingAdjustment, PointsEntry, Station


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
           reason: str) -> PointsEntry | PendingAdjustment:
    """An officer's correction of a member's points (see ``request_adjustment``)."""
    who.require("officer", "admin")
    if session.scalar(sa.select(Membership.id).where(
            Membership.station_id == who.station.id, Membership.user_id == user_id)) is None:
        raise Invalid("not_a_member", field="user_id")
    return request_adjustment(session, who, user_id=user_id, amount=amount, reason=reason)


# Officers' adjustments: never to themselves; above the threshold, a second officer approves ----

DEFAULT_APPROVAL_THRESHOLD = 200


def approval_threshold(station: Station) -> int:
    """Points (+ or -) above which an adjustment waits for a second officer (station setting)."""
    points = (station.settings or {}).get("points") or {}
    return int(points.get("approval_threshold", DEFAULT_APPROVAL_THRESHOLD))


def points_settings(who: Actor) -> dict[str, int]:
    """The station's points settings (officers and admins)."""
    who.require("officer", "admin")
    return {"approval_threshold": approval_threshold(who.station)}


def set_approval_threshold(session: so.Session, actor: Actor, threshold: int) -> int:
    """Change the station's threshold (admins; audited with the station)."""
    actor.require("admin")
    if threshold < 0:
        raise Invalid("validation_error", field="approval_threshold")
    before = approval_threshold(actor.station)
    settings = dict(actor.station.settings or {})
    settings["points"] = {**(settings.get("points") or {}), "approval_threshold": threshold}
    actor.station.settings = settings  # a new dict: JSON columns only see reassignment
    audit.record(session, actor=actor.user, role=actor.role, action="points.settings_changed",
                 record=actor.station, before={"approval_threshold": before},
                 after={"approval_threshold": threshold})
    return threshold


def request_adjustment(session: so.Session, actor: Actor, *, user_id: int, amount: int,
                       reason: str) -> PointsEntry | PendingAdjustment:
    """An officer's correction of someone else's points, + or -, with a reason.

    403 ``points_self_adjustment`` for one's own points. Up to the station's threshold it is
    booked at once (the entry); above it, it waits for a second officer (the pending
    adjustment). Audited either way.
    """
    actor.require("officer", "admin")
    if user_id == actor.user.id:
        raise PermissionDenied("points_self_adjustment")
    if amount == 0:
        raise Invalid("validation_error", field="amount")
    if abs(amount) > approval_threshold(actor.station):
        pending = PendingAdjustment(station_id=actor.station.id, user_id=user_id, amount=amount,
                                    reason=reason, requested_by=actor.user.id)
        session.add(pending)
        session.flush()
        audit.record(session, actor=actor.user, role=actor.role,
                     action="points.adjustment_requested", record=pending, user_id=user_id,
                     amount=amount, reason=reason)
        return pending
    return _book_adjustment(session, actor, user_id=user_id, amount=amount, reason=reason,
                            by=actor.user.id)


def _book_adjustment(session: so.Session, actor: Actor, *, user_id: int, amount: int,
                     reason: str, by: int, approved_by: int | None = None) -> PointsEntry:
    entry = ledger.adjust(session, station_id=actor.station.id, user_id=user_id, amount=amount,
                   reason=reason, by=by, source_id=uuid.uuid4().hex)
    extra = {"approved_by": approved_by} if approved_by is not None else {}
    audit.record(session, actor=actor.user, role=actor.role, action="points.adjusted",
                 record=entry, user_id=user_id, amount=amount, reason=reason, **extra)
    notifications.notify(session, user_id, "core.points_adjusted", station_id=actor.station.id,
                         target=targets.target("core.points"), amount=f"{amount:+d}", reason=reason,
                         entry_id=entry.id, **notifications.named(session, "by", by))
    return entry


def pending_adjustments(actor: Actor) -> sa.Select[Any]:
    """The station's adjustments waiting for a second officer, oldest first (officers)."""
    actor.require("officer", "admin")
    return (sa.select(PendingAdjustment)
            .where(PendingAdjustment.station_id == actor.station.id,
                   PendingAdjustment.status == AdjustmentStatus.PENDING)
            .order_by(PendingAdjustment.requested_at, PendingAdjustment.id))


def decide_adjustment(session: so.Session, actor: Actor, adjustment_id: int, *,
                      approve: bool) -> PendingAdjustment:
    """A second officer approves (the points are booked) or rejects a pending adjustment.

    403 ``points_second_officer_required`` for the officer who asked, ``points_self_adjustment``
    for the person it credits; 409 ``adjustment_already_decided``. Decided once, whoever races.
    """
    actor.require("officer", "admin")
    pending = session.scalar(sa.select(PendingAdjustment).where(
        PendingAdjustment.id == adjustment_id, PendingAdjustment.station_id == actor.station.id))
    if pending is None:
        raise NotFound("adjustment_not_found")
    if pending.requested_by == actor.user.id:
        raise PermissionDenied("points_second_officer_required")
    if pending.user_id == actor.user.id:
        raise PermissionDenied("points_self_adjustment")
    now = clock.now()
    status = AdjustmentStatus.APPROVED if approve else AdjustmentStatus.REJECTED
    decided = cast(sa.CursorResult[Any], session.execute(
        sa.update(PendingAdjustment)
        .where(PendingAdjustment.id == pending.id,
               PendingAdjustment.status == AdjustmentStatus.PENDING)
        .values(status=status, decided_by=actor.user.id, decided_at=now)
        .execution_options(synchronize_session=False))).rowcount
    if decided != 1:
        raise Conflict("adjustment_already_decided")
    session.refresh(pending)
    if approve:
        entry = _book_adjustment(session, actor, user_id=pending.user_id, amount=pending.amount,
                                 reason=pending.reason, by=pending.requested_by,
                                 approved_by=actor.user.id)
        pending.entry_id = entry.id
    else:
        audit.record(session, actor=actor.user, role=actor.role,
                     action="points.adjustment_rejected", record=pending,
                     user_id=pending.user_id, amount=pending.amount)
    session.flush()
    return pending


def rules(session: so.Session, who: Actor) -> dict[str, Any]:
    """What each event earns here, and the task kinds that also pay ``core.task_completed``
    (officers and admins)."""
    who.require("officer", "admin")
    return {"rules": ledger.rules(session, who.station.id),
            "task_completed_also_for": ledger.task_completed_also_for(who.station)}


def set_rules(session: so.Session, who: Actor, amounts: dict[str, int | None] | None = None,
              task_completed_also_for: list[str] | None = None) -> dict[str, Any]:
    """Officers and admins set what events earn here (audited); past entries keep theirs.

    :param amounts: event code -> amount (None: back to the default); None changes none.
    :param task_completed_also_for: the whole list of task kinds whose completion books
        ``core.task_completed`` besides their own event; None leaves it as it is.
    """
    who.require("officer", "admin")
    changes: dict[str, Any] = {}
    if amounts:
        before = {r["event_code"]: r["amount"] for r in ledger.rules(session, who.station.id)}
        ledger.set_rules(session, who.station.id, amounts)
        changes = {code: [before.get(code), amount] for code, amount in amounts.items()}
    if task_completed_also_for is not None:
        before_kinds = ledger.task_completed_also_for(who.station)
        after_kinds = ledger.set_task_completed_also_for(session, who.station,
                                                         task_completed_also_for)
        if after_kinds != before_kinds:
            changes["task_completed_also_for"] = [before_kinds, after_kinds]
    if changes:
        audit.record(session, actor=who.user, role=who.role, action="points.rules_changed",
                     station_id=who.station.id, changes=changes)
    return rules(session, who)


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
