"""The points ledger: award once per source, spend without ever going negative, rules as data."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import dialect_insert, flushed
from core.errors import Conflict, Invalid
from core.models import GroupMember, PointsBalance, PointsEntry, PointsRule, Station, User

PERIODS = ("week", "month", "all")
#: the core's generic event for a completed assignment of a task
TASK_COMPLETED = "core.task_completed"


def amount_for(session: so.Session, station_id: int, event_code: str) -> int:
    """The station's override, else the deployment default (plugins.toml), else 0."""
    override = session.scalar(sa.select(PointsRule.amount).where(
        PointsRule.station_id == station_id, PointsRule.event_code == event_code))
    if override is not None:
        return override
    deployment = session.info.get("deployment")
    return deployment.points_defaults.get(event_code, 0) if deployment else 0


def _add_to_balance(session: so.Session, station_id: int, user_id: int, amount: int) -> None:
    insert = dialect_insert(session, PointsBalance)
    session.execute(
        insert.values(station_id=station_id, user_id=user_id, balance=amount)
        .on_conflict_do_update(index_elements=["station_id", "user_id"],
                               set_={"balance": PointsBalance.balance + amount})
    )


def _book(session: so.Session, entry: PointsEntry) -> bool:
    """Insert an entry; False when that (user, source) was already booked (earn-once)."""
    return flushed(session, entry)


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


def award_many(session: so.Session, *, station_id: int, user_id: int, event_code: str,
               source_type: str, source_ids: Iterable[str | int], note: str = "",
               amount: int | None = None) -> int:
    """Book ``event_code`` for many sources of one person at once, each once (earn-once).

    One INSERT for every source and one move of the balance, whatever their number (a
    patrol's checkpoints at its finish). The station's rule unless ``amount`` is given.
    :return: the points booked (sources booked before count nothing).
    """
    amount = amount_for(session, station_id, event_code) if amount is None else amount
    sources = list(dict.fromkeys(str(s) for s in source_ids))
    if amount <= 0 or not sources:
        return 0
    now = clock.now()
    booked = session.scalars(
        dialect_insert(session, PointsEntry)
        .values([{"station_id": station_id, "user_id": user_id, "amount": amount,
                  "event_code": event_code, "source_type": source_type, "source_id": source,
                  "note": note, "created_at": now} for source in sources])
        .on_conflict_do_nothing(
            index_elements=["station_id", "user_id", "source_type", "source_id"])
        .returning(PointsEntry.id)).all()
    if booked:
        _add_to_balance(session, station_id, user_id, amount * len(booked))
    return amount * len(booked)


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


# What a completed task pays ---------------------------------------------------------------------

def task_completed_also_for(station: Station | None) -> list[str]:
    """The task kinds whose completion books ``core.task_completed`` besides their own event.

    A kind pays the one event it names (``TaskKind.pays``); a kind naming an event of its own
    pays the generic ``core.task_completed`` as well only where the station's rules list it.
    None by default.
    """
    points = ((station.settings if station else None) or {}).get("points") or {}
    return list(points.get("task_completed_also_for") or [])


def set_task_completed_also_for(session: so.Session, station: Station,
                                kinds: Iterable[str]) -> list[str]:
    """Set the whole list of kinds that pay ``core.task_completed`` besides their own event.

    Past entries stay as they are: the list applies to completions paid after it changed.

    :raises Invalid: ``unknown_task_kind``, or ``task_kind_pays_task_completed`` for a kind
        whose own event already is ``core.task_completed``.
    """
    deployment = session.info.get("deployment")
    known = deployment.task_kinds if deployment else {}
    wanted = sorted(set(kinds))
    for kind in wanted:
        if kind not in known:
            raise Invalid("unknown_task_kind", field="task_completed_also_for", kind=kind)
        if known[kind].pays == TASK_COMPLETED:
            raise Invalid("task_kind_pays_task_completed", field="task_completed_also_for",
                          kind=kind)
    settings = dict(station.settings or {})
    points = {k: v for k, v in (settings.get("points") or {}).items()
              if k != "task_completed_also_for"}
    if wanted:
        points["task_completed_also_for"] = wanted
    settings["points"] = points
    station.settings = settings  # a new dict: JSON columns only see reassignment
    return wanted


def booked_for(session: so.Session, *, station_id: int, user_id: int,
               source_types: Iterable[str], source_id: str | int) -> int:
    """The points booked for one source, whichever of ``source_types`` booked them."""
    return session.scalar(sa.select(sa.func.coalesce(sa.func.sum(PointsEntry.amount), 0)).where(
        PointsEntry.station_id == station_id, PointsEntry.user_id == user_id,
        PointsEntry.source_type.in_(list(source_types)),
        PointsEntry.source_id == str(source_id))) or 0


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
