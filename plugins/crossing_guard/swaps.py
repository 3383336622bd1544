"""Swaps: a guard offers their place on a shift; a qualified member takes it in one step."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, notifications, targets, tasks
from core.access import Actor
from core.errors import Conflict, NotFound, PermissionDenied
from core.models import Assignment, AssignmentStatus, Task, TaskStatus, User
from plugins.crossing_guard import roster, schedule, team
from plugins.crossing_guard.models import Shift, SwapOffer, SwapStatus

S = AssignmentStatus


def get_offer(session: so.Session, station_id: int, offer_id: int) -> SwapOffer:
    offer = session.scalar(sa.select(SwapOffer).where(SwapOffer.id == offer_id,
                                                      SwapOffer.station_id == station_id))
    if offer is None:
        raise NotFound("swap_not_found")
    return offer


def offer(session: so.Session, who: Actor, shift_id: int, *, offered_to: int | None = None,
          note: str = "") -> SwapOffer:
    """Offer my place on a shift, to anyone qualified or to one named guard, who are told."""
    who.require_member()
    view = roster.load(session, who.station.id, shift_id)
    roster.require_open(view)
    mine = tasks.find_assignment(session, view.task, who.user.id)
    if mine is None or mine.status != S.SIGNED_UP:
        raise Conflict("not_on_shift")
    if offered_to is not None:
        if offered_to == who.user.id:
            raise Conflict("swap_own_offer")
        if not team.is_guard(session, who.station.id, offered_to, view.school):
            raise PermissionDenied("not_eligible", field="offered_to")
    row = SwapOffer(station_id=who.station.id, shift_id=view.shift.id, offered_by=who.user.id,
                    offered_to=offered_to, note=note, created_at=clock.now())
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("swap_already_offered") from None
    labels = schedule.local_labels(who.station, view.task)
    candidates = [offered_to] if offered_to is not None else free_guards(
        session, view, exclude={who.user.id})
    for user_id in candidates:
        notifications.notify(session, user_id, "crossing_guard.swap_offered",
                             station_id=who.station.id, target=swap_target(row), offer_id=row.id,
                             shift_id=view.shift.id, name=who.user.display_name,
                             post=view.post.name, **labels)
    audit.record(session, actor=who.user, role=who.role, action="crossing_guard.swap_offered",
                 record=row, shift_id=view.shift.id, offered_to=offered_to)
    return row


def swap_target(offer: SwapOffer) -> dict[str, Any]:
    """What the app opens for a notification about a swap offer."""
    return targets.target("crossing_guard.swap", offer_id=offer.id, shift_id=offer.shift_id)


def take(session: so.Session, who: Actor, offer_id: int) -> SwapOffer:
    """Take an open offer: the place changes hands at once, or nothing changes.

    The offer is claimed by a conditional UPDATE, so of many takers at once exactly one wins
    (409 ``swap_not_open`` for the others); the place moves from giver to taker without ever
    returning to the pool.
    """
    who.require_member()
    row = get_offer(session, who.station.id, offer_id)
    if row.status != SwapStatus.OPEN:
        raise Conflict("swap_not_open", status=str(row.status))
    if row.offered_by == who.user.id:
        raise Conflict("swap_own_offer")
    if row.offered_to is not None and row.offered_to != who.user.id:
        raise PermissionDenied("swap_offered_to_other")
    view = roster.load(session, who.station.id, row.shift_id)
    roster.require_open(view)
    if not team.is_guard(session, who.station.id, who.user.id, view.school):
        raise PermissionDenied("not_eligible")
    mine = tasks.find_assignment(session, view.task, who.user.id)
    if mine is not None and mine.status in roster.HOLDING:
        raise Conflict("already_on_shift", status=str(mine.status))
    if roster.overlapping(session, who.station.id, who.user.id, view.task):
        raise Conflict("overlapping_shift")
    now = clock.now()
    claimed = cast(sa.CursorResult[Any], session.execute(
        sa.update(SwapOffer).where(SwapOffer.id == row.id, SwapOffer.status == SwapStatus.OPEN)
        .values(status=SwapStatus.TAKEN, taken_by=who.user.id, closed_at=now)
        .execution_options(synchronize_session=False))).rowcount
    if claimed != 1:
        raise Conflict("swap_not_open")
    try:
        tasks.transfer_place(session, view.task, row.offered_by, who.user.id)
    except Conflict as error:
        # The giver lost the place meanwhile (released, say): the offer is void, nothing moves.
        raise Conflict("swap_not_open", reason=error.code) from None
    session.refresh(row)
    labels = schedule.local_labels(who.station, view.task)
    notifications.notify(session, row.offered_by, "crossing_guard.swap_taken",
                         station_id=who.station.id, target=swap_target(row), offer_id=row.id,
                         shift_id=view.shift.id, name=who.user.display_name,
                         post=view.post.name, **labels)
    audit.record(session, actor=who.user, role=who.role, action="crossing_guard.swap_taken",
                 record=row, shift_id=view.shift.id, from_user_id=row.offered_by)
    return row


def withdraw_offer(session: so.Session, who: Actor, offer_id: int) -> SwapOffer:
    row = get_offer(session, who.station.id, offer_id)
    if row.offered_by != who.user.id:
        raise PermissionDenied("swap_offer_not_yours")
    closed = cast(sa.CursorResult[Any], session.execute(
        sa.update(SwapOffer).where(SwapOffer.id == row.id, SwapOffer.status == SwapStatus.OPEN)
        .values(status=SwapStatus.CANCELLED, closed_at=clock.now())
        .execution_options(synchronize_session=False))).rowcount
    if closed != 1:
        raise Conflict("swap_not_open")
    session.refresh(row)
    return row


def void_offers(session: so.Session, shift: Shift, user_id: int) -> None:
    """A guard leaving a shift takes their open offers with them."""
    session.execute(
        sa.update(SwapOffer).where(SwapOffer.station_id == shift.station_id,
                                   SwapOffer.shift_id == shift.id,
                                   SwapOffer.offered_by == user_id,
                                   SwapOffer.status == SwapStatus.OPEN)
        .values(status=SwapStatus.CANCELLED, closed_at=clock.now())
        .execution_options(synchronize_session=False))


def void_person(session: so.Session, station_id: int, user_id: int) -> None:
    """A person leaving the station: the open offers they made, or that name them, close."""
    session.execute(
        sa.update(SwapOffer).where(SwapOffer.station_id == station_id,
                                   sa.or_(SwapOffer.offered_by == user_id,
                                          SwapOffer.offered_to == user_id),
                                   SwapOffer.status == SwapStatus.OPEN)
        .values(status=SwapStatus.CANCELLED, closed_at=clock.now())
        .execution_options(synchronize_session=False))


def offers_query(who: Actor, *, status: str | None = None,
                 shift_id: int | None = None) -> sa.Select[Any]:
    """Offers of the station (open ones to take, or my own), newest first."""
    who.require_member()
    query = (sa.select(SwapOffer).where(SwapOffer.station_id == who.station.id)
             .order_by(SwapOffer.created_at.desc(), SwapOffer.id.desc()))
    if status:
        query = query.where(SwapOffer.status == status)
    if shift_id is not None:
        query = query.where(SwapOffer.shift_id == shift_id)
    # A named offer is seen by the two people concerned (and coordinators, via the shift).
    if not who.has_any("officer", "admin"):
        query = query.where(sa.or_(SwapOffer.offered_to.is_(None),
                                   SwapOffer.offered_to == who.user.id,
                                   SwapOffer.offered_by == who.user.id))
    return query


def free_guards(session: so.Session, view: roster.ShiftView,
                exclude: set[int] | None = None) -> list[int]:
    """Qualified guards of the school not on this shift and not busy at its time."""
    exclude = set(exclude or ())
    on_shift = set(session.scalars(sa.select(Assignment.user_id).where(
        Assignment.task_id == view.task.id,
        Assignment.status.in_(roster.ON_SHIFT))))
    busy = set(session.scalars(
        sa.select(Assignment.user_id).join(Task,
                                                 Task.id == Assignment.task_id)
        .where(Assignment.station_id == view.shift.station_id,
               Assignment.status.in_((S.SIGNED_UP, S.CHECKED_IN)),
               Task.status == TaskStatus.OPEN,
               Task.starts_at < view.task.ends_at, Task.ends_at > view.task.starts_at)))
    people = team.guards(session, view.shift.station_id, view.school)
    active = set(session.scalars(sa.select(User.id).where(User.id.in_(people),
                                                          User.erased_at.is_(None))))
    return [uid for uid in people
            if uid in active and uid not in exclude | on_shift | busy]


def in_progress(session: so.Session, who: Actor) -> list[dict[str, Any]]:
    """Open offers of the station's coming shifts, soonest shift first, with the names of the
    people concerned (coordinators)."""
    team.require_coordinator(session, who, None)
    giver, receiver = so.aliased(User), so.aliased(User)
    rows = session.execute(
        roster.shift_query(who.station.id)
        .add_columns(SwapOffer, giver.display_name, receiver.display_name)
        .join(SwapOffer, SwapOffer.shift_id == Shift.id)
        .join(giver, giver.id == SwapOffer.offered_by)
        .outerjoin(receiver, receiver.id == SwapOffer.offered_to)
        .where(SwapOffer.station_id == who.station.id, SwapOffer.status == SwapStatus.OPEN,
               Shift.starts_at > clock.now())
        .order_by(Shift.starts_at, SwapOffer.id)).all()
    return [{"offer": offer, "shift": shift, "post": post, "school": school,
             "when": schedule.local_labels(who.station, task), "offered_by": by,
             "offered_to": to}
            for shift, task, post, school, offer, by, to in rows]
