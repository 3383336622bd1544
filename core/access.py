"""Who may do what in a station: a person's roles there, never global (but the superuser)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.errors import NotFound, PermissionDenied
from core.models import Membership, Station, User
from core.models.stations import STAFF_ROLES


@dataclass
class Actor:
    """A signed-in person acting in one station."""

    user: User
    station: Station
    membership: Membership | None

    @property
    def roles(self) -> list[str]:
        return list(self.membership.roles) if self.membership else []

    @property
    def is_member(self) -> bool:
        return self.membership is not None

    @property
    def is_staff(self) -> bool:
        return self.has_any(*STAFF_ROLES)

    @property
    def role(self) -> str:
        """The strongest role, written into audit events."""
        order = ["admin", "officer", "partner", "merchant", "volunteer", "resident"]
        held = [r for r in order if r in self.roles]
        if held:
            return held[0]
        return "superuser" if self.user.is_superuser else ""

    def has_any(self, *roles: str) -> bool:
        # The deployment superuser may act as any station's admin (e.g. to repair one).
        if self.user.is_superuser:
            return True
        return self.membership is not None and self.membership.has_any(*roles)

    def require(self, *roles: str) -> None:
        """Raise 404 for a stranger (the station stays unseen), 403 for a member without the role."""
        if not self.is_member and not self.user.is_superuser:
            raise NotFound("station_not_found")
        if not self.has_any(*roles):
            raise PermissionDenied("role_required", roles=", ".join(roles))

    def require_member(self) -> None:
        if not self.is_member:
            raise NotFound("station_not_found")


def load_actor(session: so.Session, code: str, user: User) -> Actor:
    """The station by code with the person's membership, in one query.

    A station the person is not a member of is only visible when it is open to join.
    """
    row = session.execute(
        sa.select(Station, Membership)
        .outerjoin(
            Membership, sa.and_(Membership.station_id == Station.id, Membership.user_id == user.id)
        )
        .where(Station.code == code)
    ).first()
    if row is None:
        raise NotFound("station_not_found")
    station, membership = row
    if membership is None and not station.open_join and not user.is_superuser:
        raise NotFound("station_not_found")
    return Actor(user, station, membership)
