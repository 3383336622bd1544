"""The points ledger: award once per source, spend without ever going negative, rules as data."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm as so
from sqlalchemy.dialects import postgresql, sqlite

from core.errors import Conflict, Invalid
from core.models import PointsBalance, PointsEntry, PointsRule


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
    succeed; the same source spent twice is 409 ``already_spent``.
    """
    if amount <= 0:
        raise Invalid("validation_error", field="amount")
    moved = session.execute(
        sa.update(PointsBalance)
        .where(PointsBalance.station_id == station_id, PointsBalance.user_id == user_id,
               PointsBalance.balance >= amount)
        .values(balance=PointsBalance.balance - amount)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if moved != 1:
        raise Conflict("insufficient_points", needed=amount,
                       balance=balance(session, station_id, user_id))
    entry = PointsEntry(station_id=station_id, user_id=user_id, amount=-amount,
                        event_code=event_code, source_type=source_type,
                        source_id=str(source_id), note=note)
    if not _book(session, entry):
        raise Conflict("already_spent")
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


