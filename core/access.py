"""Who may do what in a station: a person's roles there, never global (but the superuser)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.errors import NotFound, PermissionDenied
from core.models import AuthSession, Membership, Station, User
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


# Where the transaction's view of each station's plugins_version is kept (core.plugins reads it
# to use the switches it cached, with no query); dropped at the transaction's end.
STATION_VERSIONS = "station_plugins_versions"


def load_actor(session: so.Session, code: str, user: User) -> Actor:
    """The station by code with the person's membership, in one query.

    A station the person is not a member of is only visible when it is open to join.
    """
    row = session.execute(
        sa.select(Station, Membership, Station.plugins_version)
        .outerjoin(
            Membership, sa.and_(Membership.station_id == Station.id, Membership.user_id == user.id)
        )
        .where(Station.code == code)
    ).first()
    if row is None:
        raise NotFound("station_not_found")
    return acting(session, user, *row)


# The signed-in person and, for a request in a station, that station and their membership:
# one statement, built once (the session id and the station code are bound per call).
_SIGNED_IN = (sa.select(AuthSession, User).join(User, User.id == AuthSession.user_id)
              .where(AuthSession.id == sa.bindparam("session_id")))
# The version as a column of its own: a Station already in the session's identity map keeps
# the attribute it was loaded with, the column is always this statement's.
_SIGNED_IN_AT = (_SIGNED_IN.add_columns(Station, Membership, Station.plugins_version)
                 .outerjoin(Station, Station.code == sa.bindparam("code"))
                 .outerjoin(Membership, sa.and_(Membership.station_id == Station.id,
                                                Membership.user_id == User.id)))


@dataclass
class SignedIn:
    """What a bearer token's session resolves to; ``station`` only when one was asked for."""

    auth_session: AuthSession
    user: User
    station: Station | None = None
    membership: Membership | None = None
    plugins_version: int | None = None


def load_signed_in(session: so.Session, session_id: int, code: str | None = None
                   ) -> SignedIn | None:
    """The auth session and its person, with station ``code`` and the membership there when
    given: one round trip for everything a request needs to know who acts where."""
    if code is None:
        row = session.execute(_SIGNED_IN, {"session_id": session_id}).first()
        return SignedIn(*row) if row is not None else None
    row = session.execute(_SIGNED_IN_AT, {"session_id": session_id, "code": code}).first()
    return SignedIn(*row) if row is not None else None


def acting(session: so.Session, user: User, station: Station | None,
           membership: Membership | None, plugins_version: int | None) -> Actor:
    """The actor, or 404 for a station that does not exist or that this person may not see.

    The station's plugins_version read with it is noted on the session for the transaction:
    the plugin switches cached in this process are used while it is the same.
    """
    if station is None:
        raise NotFound("station_not_found")
    if membership is None and not station.open_join and not user.is_superuser:
        raise NotFound("station_not_found")
    if plugins_version is not None:
        session.info.setdefault(STATION_VERSIONS, {})[station.id] = plugins_version
    return Actor(user, station, membership)
