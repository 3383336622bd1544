"""What the crossing-guard plugin holds about a person: their copy, and erasure's extra step."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.export import rows
from core.models import Notification, User
from plugins.crossing_guard.models import Feed, Reminder, SwapOffer, SwapStatus


def export_person(session: so.Session, user: User) -> dict[str, Any]:
    """Their calendar address (whether one is set, never its secret), swaps and reminders."""
    return {
        "calendar_feeds": rows(session, Feed, Feed.user_id == user.id),
        "swap_offers": rows(session, SwapOffer, sa.or_(
            SwapOffer.offered_by == user.id, SwapOffer.offered_to == user.id,
            SwapOffer.taken_by == user.id)),
        "reminders": rows(session, Reminder, Reminder.user_id == user.id),
    }


# The notices that carry a person's display name, and the offer column naming that person.
NAMED_IN = {"crossing_guard.swap_offered": "offered_by", "crossing_guard.swap_taken": "taken_by"}


def erase_person(session: so.Session, user: User) -> None:
    """Their calendar address goes; their open offers (and those naming them) close, all their
    offers lose their note; the swap notices other guards received no longer carry their name.
    Their shifts stay, anonymous, for the records."""
    session.execute(sa.delete(Feed).where(Feed.user_id == user.id))
    session.execute(
        sa.update(SwapOffer).where(sa.or_(SwapOffer.offered_by == user.id,
                                          SwapOffer.offered_to == user.id),
                                   SwapOffer.status == SwapStatus.OPEN)
        .values(status=SwapStatus.CANCELLED, closed_at=clock.now())
        .execution_options(synchronize_session=False))
    session.execute(sa.update(SwapOffer).where(SwapOffer.offered_by == user.id)
                    .values(note="").execution_options(synchronize_session=False))
    erased = f"erased-{user.id}"  # the name the core gives the account
    for code, column in NAMED_IN.items():
        offers = set(session.scalars(sa.select(SwapOffer.id).where(
            getattr(SwapOffer, column) == user.id)))
        if not offers:
            continue
        for note in session.scalars(sa.select(Notification).where(Notification.code == code)):
            if note.params.get("offer_id") in offers and note.params.get("name") != erased:
                note.params = {**note.params, "name": erased}
