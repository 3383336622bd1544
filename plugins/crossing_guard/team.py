"""Who guards, who coordinates and who plans: the crossing teams, the station's officers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit
from core.access import Actor
from core.errors import PermissionDenied
from core.models import Group, GroupMember, Membership
from plugins.crossing_guard.models import School

TEAM_KIND = "crossing_team"
GUARD_ROLES = ("volunteer", "officer")


def _team_query(station_id: int, school: School | None) -> sa.Select[int]:
    query = (sa.select(GroupMember.user_id).join(Group, Group.id == GroupMember.group_id)
             .where(GroupMember.station_id == station_id, Group.kind == TEAM_KIND))
    if school is not None and school.team_group_id is not None:
        query = query.where(Group.id == school.team_group_id)
    return query


def is_guard(session: so.Session, station_id: int, user_id: int, school: School | None) -> bool:
    """A qualified guard: in the crossing team, with the volunteer or officer role."""
    in_team = session.scalar(_team_query(station_id, school)
                             .where(GroupMember.user_id == user_id).limit(1))
    if in_team is None:
        return False
    roles = session.scalar(sa.select(Membership.roles).where(
        Membership.station_id == station_id, Membership.user_id == user_id))
    return roles is not None and any(role in roles for role in GUARD_ROLES)


def guards(session: so.Session, station_id: int, school: School | None) -> list[int]:
    """Every qualified guard of the school's team, by user id."""
    rows = session.execute(
        sa.select(Membership.user_id, Membership.roles)
        .where(Membership.station_id == station_id,
               Membership.user_id.in_(_team_query(station_id, school)))
        .order_by(Membership.user_id)
    ).all()
    # Roles are a short JSON list: filtered here, the same way on both databases.
    return [uid for uid, roles in rows
            if uid is not None and any(role in roles for role in GUARD_ROLES)]


def coordinators(session: so.Session, station_id: int, school: School | None) -> list[int]:
    """The leaders of the school's crossing team (of every crossing team if it has none)."""
    query = _team_query(station_id, school).where(GroupMember.is_leader.is_(True))
    return sorted(set(session.scalars(query)))


def is_coordinator(session: so.Session, who: Actor, school: School | None) -> bool:
    """Officers and admins plan the work; a team leader coordinates their school's team."""
    if who.has_any("officer", "admin"):
        return True
    if not who.is_member:
        return False
    return who.user.id in coordinators(session, who.station.id, school)


def require_coordinator(session: so.Session, who: Actor, school: School | None) -> None:
    who.require_member()
    if not is_coordinator(session, who, school):
        raise PermissionDenied("coordinator_required")


def require_planner(who: Actor) -> None:
    """Schools, posts, the calendar and templates are set up by officers and admins."""
    who.require("officer", "admin")


def record_planning(session: so.Session, who: Actor, action: str, row: Any, **details: Any) -> None:
    """Audit a planner's change to the set-up as ``crossing_guard.<action>``."""
    audit.record(session, actor=who.user, role=who.role, action=f"crossing_guard.{action}",
                 record=row, **details)
