"""The points ledger: award once per source, spend without ever going negative, rules as data."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so
from sqlalchemy.dialects import postgresql, sqlite

from core import audit, clock, notifications
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.models import (
    AdjustmentStatus,
    GroupMember,
    PendingAdjustment,
    PointsBalance,
    PointsEntry,
    PointsRule,
    Station,
    User,
)

PERIODS = ("week", "month", "all")


def amount_for(session: so.Session, station_id: int, event_code: str) -> int:
    """The station's override, else the deployment default (plugins.toml), else 0."""
    override = session.scalar(sa.select(PointsRule.amount).where(
        PointsRule.station_id == station_id, PointsRule.event_code == event_code))
    if override is not None:
        return override
    deployment = session.info.get("deployment")
    return deployment.points_defaults.get(event_code, 0) if deployment else 0


def _add_to_balance(session: so.Session, station_id: int, user_id: int, amount: int) -> None:
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)(PointsBalance)
    session.execute(
        insert.values(station_id=station_id, user_id=user_id, balance=amount)
        .on_conflict_do_update(index_elements=["station_id", "user_id"],
                               set_={"balance": PointsBalance.balance + amount})
    )


def _book(session: so.Session, entry: PointsEntry) -> bool:
    """Insert an entry; False when that (user, source) was already booked (earn-once)."""
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except sa.exc.IntegrityError:
        return False
    return True


def award(session: so.Session, *, station_id: int, user_id: int, event_code: str,
          source_type: str, source_id: str | int, note: str = "",
          amount: int | None = None) -> PointsEntry | None:
    """Book the points of ``event_code`` for one source, once.

    The amount is the station's rule unless given. Returns the entry, or None when the rule
    is worth nothing or this source was already awarded (a retry).
    """
    amount = amount_for(session, station_id, event_code) if amount is None else amount
    if amount <= 0:
        return None
    entry = PointsEntry(station_id=station_id, user_id=user_id, amount=amount,
                        event_code=event_code, source_type=source_type,
                        source_id=str(source_id), note=note)
    if not _book(session, entry):
        return None
    _add_to_balance(session, station_id, user_id, amount)
    return entry


def spend(session: so.Session, *, station_id: int, user_id: int, amount: int, event_code: str,
          source_type: str, source_id: str | int, note: str = "") -> PointsEntry:
    """Take ``amount`` points for one source (a coupon, say); 409 ``insufficient_points``.

    The balance moves by a conditional UPDATE, so concurrent spends of one balance cannot both
    succeed; the same source spent twice is 409 ``already_spent``. The move and the entry
    share a savepoint: a refused spend leaves nothing behind, even if the caller goes on.
    """
    if amount <= 0:
        raise Invalid("validation_error", field="amount")
    entry = PointsEntry(station_id=station_id, user_id=user_id, amount=-amount,
                        event_code=event_code, source_type=source_type,
                        source_id=str(source_id), note=note)
    try:
        with session.begin_nested():
            result: sa.CursorResult[Any] = session.execute(  # type: ignore[assignment]
                sa.update(PointsBalance)
                .where(PointsBalance.station_id == station_id, PointsBalance.user_id == user_id,
                       PointsBalance.balance >= amount)
                .values(balance=PointsBalance.balance - amount)
                .execution_options(synchronize_session=False))
            moved = result.rowcount
            if moved == 1:
                session.add(entry)
                session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("already_spent") from None
    if moved != 1:
        raise Conflict("insufficient_points", needed=amount,
                       balance=balance(session, station_id, user_id))
    return entry


def adjust(session: so.Session, *, station_id: int, user_id: int, amount: int, reason: str,
           by: int, source_id: str) -> PointsEntry:
    """An officer's correction, + or -; a minus never takes the balance below 0."""
    if amount == 0:
        raise Invalid("validation_error", field="amount")
    if amount < 0:
        entry = spend(session, station_id=station_id, user_id=user_id, amount=-amount,
                      event_code="core.adjustment", source_type="adjustment",
                      source_id=source_id, note=reason)
    else:
        entry = PointsEntry(station_id=station_id, user_id=user_id, amount=amount,
                            event_code="core.adjustment", source_type="adjustment",
                            source_id=source_id, note=reason)
        if not _book(session, entry):
            raise Conflict("already_spent")
        _add_to_balance(session, station_id, user_id, amount)
    entry.created_by = by
    return entry


# Officers' adjustments: never to themselves; above the threshold, a second officer approves ----

DEFAULT_APPROVAL_THRESHOLD = 200


def approval_threshold(station: Station) -> int:
    """Points (+ or -) above which an adjustment waits for a second officer (station setting)."""
    points = (station.settings or {}).get("points") or {}
    return int(points.get("approval_threshold", DEFAULT_APPROVAL_THRESHOLD))


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
    entry = adjust(session, station_id=actor.station.id, user_id=user_id, amount=amount,
                   reason=reason, by=by, source_id=uuid.uuid4().hex)
    extra = {"approved_by": approved_by} if approved_by is not None else {}
    audit.record(session, actor=actor.user, role=actor.role, action="points.adjusted",
                 record=entry, user_id=user_id, amount=amount, reason=reason, **extra)
    notifications.notify(session, user_id, "points_adjusted", station_id=actor.station.id,
                         amount=f"{amount:+d}", reason=reason)
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


def balance(session: so.Session, station_id: int, user_id: int) -> int:
    return session.scalar(sa.select(PointsBalance.balance).where(
        PointsBalance.station_id == station_id, PointsBalance.user_id == user_id)) or 0


# Rules as data ----------------------------------------------------------------------------------

def _defaults(session: so.Session) -> dict[str, int]:
    deployment = session.info.get("deployment")
    return dict(deployment.points_defaults) if deployment else {}


def rules(session: so.Session, station_id: int) -> list[dict[str, Any]]:
    """Every event the deployment knows with its default, the station's override and the amount."""
    defaults = _defaults(session)
    overrides: dict[str, int] = {code: amount for code, amount in session.execute(
        sa.select(PointsRule.event_code, PointsRule.amount)
        .where(PointsRule.station_id == station_id))}
    return [{"event_code": code, "default": defaults.get(code, 0),
             "override": overrides.get(code),
             "amount": overrides.get(code, defaults.get(code, 0))}
            for code in sorted(set(defaults) | set(overrides))]


def set_rules(session: so.Session, station_id: int, amounts: dict[str, int | None]) -> None:
    """Set the station's amounts for the events given; None returns one to the default.

    Past entries keep their amounts: a rule applies to what is booked after it changed.
    """
    defaults = _defaults(session)
    for code, amount in amounts.items():
        if code not in defaults:
            raise Invalid("unknown_event_code", field="rules", event_code=code)
        if amount is not None and amount < 0:
            raise Invalid("validation_error", field="rules")
    for code, amount in amounts.items():
        row = session.scalar(sa.select(PointsRule).where(PointsRule.station_id == station_id,
                                                         PointsRule.event_code == code))
        if amount is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(PointsRule(station_id=station_id, event_code=code, amount=amount,
                                   updated_at=clock.now()))
        else:
            row.amount, row.updated_at = amount, clock.now()
    session.flush()


# Reading the ledger -----------------------------------------------------------------------------

def entries_query(station_id: int, *, user_id: int | None = None,
                  since: dt.datetime | None = None, until: dt.datetime | None = None,
                  event_code: str | None = None) -> sa.Select[Any]:
    """Ledger entries of a station, newest first."""
    query = sa.select(PointsEntry).where(PointsEntry.station_id == station_id)
    if user_id is not None:
        query = query.where(PointsEntry.user_id == user_id)
    if since is not None:
        query = query.where(PointsEntry.created_at >= since)
    if until is not None:
        query = query.where(PointsEntry.created_at < until)
    if event_code:
        query = query.where(PointsEntry.event_code == event_code)
    return query.order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())


def period_start(period: str, timezone: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """The start of the current ``week`` (Monday) or ``month`` in the station's time zone."""
    if period not in PERIODS:
        raise Invalid("validation_error", field="period")
    if period == "all":
        return None
    zone = zoneinfo.ZoneInfo(timezone)
    today = (now or clock.now()).astimezone(zone).date()
    first = today - dt.timedelta(days=today.weekday()) if period == "week" else today.replace(day=1)
    # Built from the wall-clock date, so a DST change inside the period cannot shift midnight.
    return dt.datetime(first.year, first.month, first.day, tzinfo=zone).astimezone(dt.UTC)


def leaderboard(session: so.Session, station_id: int, *, since: dt.datetime | None,
                group_id: int | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """People ranked by points earned (positive entries) since ``since``; ties share a rank."""
    earned = sa.func.sum(PointsEntry.amount)
    ranked = (
        sa.select(PointsEntry.user_id.label("user_id"), earned.label("points"),
                  sa.func.rank().over(order_by=earned.desc()).label("rank"))
        .where(PointsEntry.station_id == station_id, PointsEntry.amount > 0)
        .group_by(PointsEntry.user_id)
    )
    if since is not None:
        ranked = ranked.where(PointsEntry.created_at >= since)
    if group_id is not None:
        ranked = ranked.where(PointsEntry.user_id.in_(
            sa.select(GroupMember.user_id).where(GroupMember.station_id == station_id,
                                                 GroupMember.group_id == group_id)))
    board = ranked.subquery()
    rows = session.execute(
        sa.select(board.c.rank, board.c.user_id, User.display_name, board.c.points)
        .join(User, User.id == board.c.user_id)
        .order_by(board.c.rank, board.c.user_id).limit(limit)
    ).all()
    return [{"rank": int(r.rank), "user_id": r.user_id, "display_name": r.display_name,
             "points": int(r.points)} for r in rows]
