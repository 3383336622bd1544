"""Stations, their members (by phone, pending until registered) and groups."""

from __future__ import annotations

import zoneinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, datum, events, messages, notifications, phones, targets, tasks
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.models import (
    Assignment,
    AssignmentStatus,
    Group,
    GroupMember,
    Membership,
    Role,
    Station,
    Task,
    TaskStatus,
    User,
)

ROLES = {r.value for r in Role}


def validate_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid("invalid_timezone", field="timezone", timezone=name) from None
    return name


def validate_roles(roles: list[str]) -> list[str]:
    for role in roles:
        if role not in ROLES:
            raise Invalid("invalid_role", field="roles", role=role)
    if not roles:
        raise Invalid("validation_error", field="roles")
    return sorted(set(roles), key=[r.value for r in Role].index)


def create_station(
    session: so.Session,
    actor: User,
    *,
    code: str,
    name: str,
    timezone: str = "Asia/Shanghai",
    open_join: bool = False,
    admin_phone: str,
) -> tuple[Station, Membership]:
    """Create a station with its first admin (pending until that phone is proven)."""
    if not actor.is_superuser:
        raise PermissionDenied("superuser_required")
    validate_timezone(timezone)
    if session.scalar(sa.select(Station.id).where(Station.code == code)) is not None:
        raise Conflict("station_code_taken", field="code", code=code)
    station = Station(code=code, name=name, timezone=timezone, open_join=open_join)
    session.add(station)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("station_code_taken", field="code", code=code) from None
    membership = _add_membership(session, station, admin_phone, ["admin"], actor)
    audit.record(session, actor=actor, role="superuser", action="station.created", record=station)
    return station, membership


def update_station(session: so.Session, actor: Actor, changes: dict[str, Any]) -> Station:
    """Change a station's fields (admins); ``default_crs`` is kept in its settings."""
    actor.require("admin")
    if "timezone" in changes:
        validate_timezone(changes["timezone"])
    for key, value in changes.items():
        if key == "default_crs":
            if value not in datum.CRS:
                raise Invalid("crs_unknown", field="default_crs", crs=value,
                              allowed=list(datum.CRS))
            # a new dict: JSON columns only see reassignment
            actor.station.settings = {**(actor.station.settings or {}), "default_crs": value}
        else:
            setattr(actor.station, key, value)
    audit.record(session, actor=actor.user, role=actor.role, action="station.updated",
                 record=actor.station, fields=sorted(changes))
    return actor.station


def visible_stations(session: so.Session, user: User) -> sa.Select:
    """Stations open to join, and the person's own."""
    mine = sa.select(Membership.station_id).where(Membership.user_id == user.id)
    query = sa.select(Station).order_by(Station.name, Station.id)
    if not user.is_superuser:
        query = query.where(sa.or_(Station.open_join.is_(True), Station.id.in_(mine)))
    return query


def my_memberships(user: User) -> sa.Select:
    return (
        sa.select(Membership, Station)
        .join(Station, Station.id == Membership.station_id)
        .where(Membership.user_id == user.id)
        .order_by(Station.name)
    )


def my_groups(user: User, *, station: str | None = None,
              kind: str | None = None) -> sa.Select[GroupMember, Group, Station]:
    """The groups a person is in, across their stations, by station then group name."""
    query = (sa.select(GroupMember, Group, Station)
             .join(Group, Group.id == GroupMember.group_id)
             .join(Station, Station.id == GroupMember.station_id)
             .where(GroupMember.user_id == user.id)
             .order_by(Station.name, Group.name, Group.id))
    if station is not None:
        query = query.where(Station.code == station)
    if kind is not None:
        query = query.where(Group.kind == kind)
    return query


def join(session: so.Session, actor: Actor) -> Membership:
    if actor.membership is not None:
        raise Conflict("already_member")
    if not actor.station.open_join:
        raise PermissionDenied("join_closed")
    membership = Membership(station_id=actor.station.id, user_id=actor.user.id, roles=["resident"])
    session.add(membership)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("already_member") from None
    audit.record(session, actor=actor.user, role="resident", action="member.joined",
                 record=membership)
    events.membership_created(session, membership)
    return membership


def leave(session: so.Session, actor: Actor) -> None:
    actor.require_member()
    assert actor.membership is not None
    _guard_last_admin(session, actor.membership, remaining_roles=[])
    withdrawn = _remove(session, actor, actor.membership)
    audit.record(session, actor=actor.user, role=actor.role, action="member.left",
                 station_id=actor.station.id, record_type="membership", withdrawn=withdrawn)


def members_query(actor: Actor, *, role: str | None = None,
                  q: str | None = None) -> sa.Select:
    actor.require("officer", "admin")
    query = (
        sa.select(Membership, User)
        .outerjoin(User, User.id == Membership.user_id)
        .where(Membership.station_id == actor.station.id)
        .order_by(Membership.id)
    )
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(User.display_name.ilike(like), User.phone.like(like),
                                   Membership.pending_phone.like(like)))
    if role:
        validate_roles([role])
        # Roles are a short JSON list; a text match is portable across both databases.
        query = query.where(sa.cast(Membership.roles, sa.String).like(f'%"{role}"%'))
    return query


def add_member(session: so.Session, actor: Actor, phone: str, roles: list[str]) -> Membership:
    """Add a person by phone; a phone not yet proven by its owner gets a pending membership."""
    actor.require("admin")
    roles = validate_roles(roles)
    return _add_membership(session, actor.station, phone, roles, actor.user, role=actor.role)


def _add_membership(session: so.Session, station: Station, phone: str, roles: list[str],
                    by: User, role: str = "superuser") -> Membership:
    phone = phones.normalize(phone)
    # A seat goes to a proven phone only: whoever registered the number by password without
    # proving it must not take it; it waits until the number is proven (core.accounts).
    user = session.scalar(sa.select(User).where(User.phone == phone,
                                               User.phone_verified.is_(True)))
    if user is not None:
        membership = Membership(station_id=station.id, user_id=user.id, roles=roles, added_by=by.id)
    else:
        membership = Membership(station_id=station.id, pending_phone=phone, roles=roles,
                                added_by=by.id)
    session.add(membership)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("already_member", field="phone") from None
    audit.record(session, actor=by, role=role, action="member.added", record=membership,
                 roles=roles, pending=user is None)
    if user is not None:
        events.membership_created(session, membership)
    return membership


def get_member(session: so.Session, actor: Actor, membership_id: int) -> Membership:
    membership = session.scalar(
        sa.select(Membership).where(
            Membership.id == membership_id, Membership.station_id == actor.station.id
        )
    )
    if membership is None:
        raise NotFound("member_not_found")
    return membership


def update_member(session: so.Session, actor: Actor, membership_id: int,
                  roles: list[str], *, allow_last_admin: bool = False) -> Membership:
    """Change a member's roles; taking the last admin's role needs ``allow_last_admin``
    (a station file applied with ``--allow remove_last_admin``: the superuser still reaches it)."""
    actor.require("admin")
    membership = get_member(session, actor, membership_id)
    roles = validate_roles(roles)
    if not allow_last_admin:
        _guard_last_admin(session, membership, remaining_roles=roles)
    before = list(membership.roles)
    membership.roles = roles
    audit.record(session, actor=actor.user, role=actor.role, action="member.roles_changed",
                 record=membership, before=before, after=roles)
    return membership


def remove_member(session: so.Session, actor: Actor, membership_id: int) -> None:
    actor.require("admin")
    membership = get_member(session, actor, membership_id)
    _guard_last_admin(session, membership, remaining_roles=[])
    audit.record(session, actor=actor.user, role=actor.role, action="member.removed",
                 record=membership, user_id=membership.user_id,
                 withdrawn=_remove(session, actor, membership))


def _remove(session: so.Session, actor: Actor, membership: Membership) -> list[int]:
    """A person leaving a station leaves nothing behind that gave them sight or standing there:
    their future sign-ups are withdrawn (waitlists move up), they leave its groups (duty teams
    are told) and every plugin drops what they held (``wardens_membership_removed``).

    :return: the ids of the tasks they were withdrawn from.
    """
    user_id, station_id = membership.user_id, membership.station_id
    withdrawn: list[int] = []
    if user_id is not None:
        withdrawn = withdraw_future_sign_ups(session, station_id, user_id)
        for group in session.scalars(
                sa.select(Group).join(GroupMember, GroupMember.group_id == Group.id)
                .where(GroupMember.station_id == station_id, GroupMember.user_id == user_id)
                .order_by(Group.id)).all():
            if duty_owner(session, group.kind):
                _tell_team(session, actor, group, "core.duty_group_member_removed", user_id,
                           skip=user_id)
        session.execute(sa.delete(GroupMember).where(
            GroupMember.station_id == station_id, GroupMember.user_id == user_id))
        events.membership_removed(session, membership)
    session.delete(membership)
    session.flush()
    return withdrawn


def withdraw_future_sign_ups(session: so.Session, station_id: int, user_id: int) -> list[int]:
    """Places and waitlist spots on the station's tasks not yet over, given back."""
    held = session.scalars(
        sa.select(Task).join(Assignment, Assignment.task_id == Task.id)
        .where(Assignment.station_id == station_id, Assignment.user_id == user_id,
               Assignment.status.in_((AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED)),
               Task.status == TaskStatus.OPEN, Task.ends_at > clock.now())
        .order_by(Task.starts_at, Task.id)).all()
    for task in held:
        tasks.withdraw(session, task, user_id)
    return [task.id for task in held]


def _guard_last_admin(session: so.Session, membership: Membership,
                      remaining_roles: list[str]) -> None:
    if "admin" not in membership.roles or "admin" in remaining_roles:
        return
    # Lock the station row first: two admins demoting each other at once are then counted one
    # after the other (PostgreSQL), and the second sees the first's change. SQLite writers are
    # serialised by BEGIN IMMEDIATE already.
    session.execute(sa.select(Station.id).where(Station.id == membership.station_id)
                    .with_for_update())
    admins = session.scalars(
        sa.select(Membership.roles).where(Membership.station_id == membership.station_id)
    ).all()
    if sum("admin" in roles for roles in admins) <= 1:
        raise Conflict("last_admin")


# Groups ---------------------------------------------------------------------------------------

def groups_query(actor: Actor, kind: str | None = None) -> sa.Select:
    actor.require_member()
    query = sa.select(Group).where(Group.station_id == actor.station.id).order_by(Group.name)
    if kind:
        query = query.where(Group.kind == kind)
    return query


def get_group(session: so.Session, actor: Actor, group_id: int) -> Group:
    actor.require_member()
    group = session.scalar(
        sa.select(Group).where(Group.id == group_id, Group.station_id == actor.station.id)
    )
    if group is None:
        raise NotFound("group_not_found")
    return group


def create_group(session: so.Session, actor: Actor, *, plugin: str | None = None,
                 **fields: Any) -> Group:
    """Create a group (officers and admins; a duty kind: see :func:`_require_duty_right`)."""
    actor.require("officer", "admin")
    duty = _require_duty_right(session, actor, [fields.get("kind", "")], plugin)
    group = Group(station_id=actor.station.id, **fields)
    session.add(group)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("group_name_taken", field="name", name=fields.get("name")) from None
    audit.record(session, actor=actor.user, role=actor.role, action="group.created", record=group,
                 kind=group.kind, **_by(plugin))
    if duty:
        _tell_team(session, actor, group, "core.duty_group_created")
    return group


def update_group(session: so.Session, actor: Actor, group_id: int, changes: dict[str, Any],
                 *, plugin: str | None = None) -> Group:
    actor.require("officer", "admin")
    group = get_group(session, actor, group_id)
    kind_changes = "kind" in changes and changes["kind"] != group.kind
    duty = kind_changes and _require_duty_right(session, actor, [group.kind, changes["kind"]],
                                                plugin)
    if (duty and plugin is None and duty_owner(session, changes["kind"])
            and _in_group(session, group.id, actor.user.id)):
        raise PermissionDenied("duty_self_grant", kind=changes["kind"])
    before = group.kind
    for key, value in changes.items():
        setattr(group, key, value)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict("group_name_taken", field="name", name=changes.get("name")) from None
    details: dict[str, Any] = {"kind_before": before, "kind": group.kind} if kind_changes else {}
    audit.record(session, actor=actor.user, role=actor.role, action="group.updated", record=group,
                 fields=sorted(changes), **details, **_by(plugin))
    if duty:
        _tell_team(session, actor, group, "core.duty_group_kind_changed")
    return group


def delete_group(session: so.Session, actor: Actor, group_id: int, *,
                 plugin: str | None = None) -> None:
    actor.require("officer", "admin")
    group = get_group(session, actor, group_id)
    if _require_duty_right(session, actor, [group.kind], plugin):
        _tell_team(session, actor, group, "core.duty_group_deleted")
    audit.record(session, actor=actor.user, role=actor.role, action="group.deleted", record=group,
                 name=group.name, kind=group.kind, **_by(plugin))
    try:
        with session.begin_nested():
            session.execute(sa.delete(GroupMember).where(GroupMember.group_id == group.id))
            session.delete(group)
            session.flush()
    except sa.exc.IntegrityError:
        # A plugin's record still points at it (a shop's staff group, a route's team).
        raise Conflict("group_in_use", group_id=group_id) from None


def group_members(session: so.Session, actor: Actor, group: Group) -> list[tuple[GroupMember, User]]:
    return list(session.execute(
        sa.select(GroupMember, User).join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id == group.id).order_by(GroupMember.id)
    ).all())  # type: ignore[arg-type]


def put_group_member(session: so.Session, actor: Actor, group_id: int, user_id: int,
                     leader: bool, *, plugin: str | None = None) -> GroupMember:
    """Put a station member in a group, as a leader or not (officers and admins).

    A group whose kind grants a duty is changed only by an admin or through the plugin owning
    the kind (``plugin``), never by the person concerned; the team is told.
    """
    actor.require("officer", "admin")
    group = get_group(session, actor, group_id)
    duty = _require_duty_right(session, actor, [group.kind], plugin)
    if duty and plugin is None and user_id == actor.user.id:
        raise PermissionDenied("duty_self_grant", kind=group.kind)
    is_member = session.scalar(sa.select(Membership.id).where(
        Membership.station_id == actor.station.id, Membership.user_id == user_id))
    if is_member is None:
        raise Invalid("not_a_member", field="user_id")
    row = session.scalar(sa.select(GroupMember).where(
        GroupMember.group_id == group.id, GroupMember.user_id == user_id))
    change = "core.duty_group_member_added"
    if row is None:
        row = GroupMember(station_id=actor.station.id, group_id=group.id, user_id=user_id,
                          is_leader=leader)
        session.add(row)
    elif row.is_leader != leader:
        row.is_leader = leader
        change = "core.duty_group_leader_changed"
    else:
        return row  # nothing changes: nothing to record or tell
    session.flush()
    audit.record(session, actor=actor.user, role=actor.role, action="group.member_set",
                 record=group, user_id=user_id, leader=leader, kind=group.kind, **_by(plugin))
    if duty:
        _tell_team(session, actor, group, change, user_id)
    return row


def remove_group_member(session: so.Session, actor: Actor, group_id: int, user_id: int, *,
                        plugin: str | None = None) -> None:
    actor.require("officer", "admin")
    group = get_group(session, actor, group_id)
    duty = _require_duty_right(session, actor, [group.kind], plugin)
    if duty:  # the person leaving the team is told as well
        _tell_team(session, actor, group, "core.duty_group_member_removed", user_id)
    deleted = session.execute(sa.delete(GroupMember).where(
        GroupMember.group_id == group.id, GroupMember.user_id == user_id)).rowcount  # type: ignore[attr-defined]
    if not deleted:
        raise NotFound("member_not_found")
    audit.record(session, actor=actor.user, role=actor.role, action="group.member_removed",
                 record=group, user_id=user_id, kind=group.kind, **_by(plugin))


def duty_owner(session: so.Session, kind: str) -> str | None:
    """The plugin whose duty a group of ``kind`` grants (``PluginInfo.group_kinds``), if any."""
    found = session.info.get("deployment")
    return found.group_kinds.get(kind) if found is not None else None


def _require_duty_right(session: so.Session, actor: Actor, kinds: list[str],
                        plugin: str | None) -> bool:
    """Groups that grant a duty (a care team, a shop's staff...) change only by an admin's hand
    or through the service of the plugin owning the kind; True when one of ``kinds`` does."""
    duty = False
    for kind in kinds:
        owner = duty_owner(session, kind)
        if owner is None:
            continue
        duty = True
        if plugin is not None:
            if plugin != owner:
                raise PermissionDenied("duty_group_admins_only", kind=kind)
        elif not actor.has_any("admin"):
            raise PermissionDenied("duty_group_admins_only", kind=kind)
    return duty


def _in_group(session: so.Session, group_id: int, user_id: int) -> bool:
    return session.scalar(sa.select(GroupMember.id).where(
        GroupMember.group_id == group_id, GroupMember.user_id == user_id)) is not None


def _by(plugin: str | None) -> dict[str, Any]:
    return {"plugin": plugin} if plugin else {}


def _tell_team(session: so.Session, actor: Actor, group: Group, code: str,
               user_id: int | None = None, *, skip: int | None = None) -> None:
    """Tell a duty group's officers, admins and leaders (and the person concerned) of a change."""
    rows = session.execute(
        sa.select(GroupMember.user_id, GroupMember.is_leader, Membership.roles)
        .join(Membership, sa.and_(Membership.station_id == GroupMember.station_id,
                                  Membership.user_id == GroupMember.user_id))
        .where(GroupMember.group_id == group.id)
    ).all()
    told = {uid for uid, leader, roles in rows
            if leader or any(role in roles for role in ("officer", "admin"))}
    if user_id is not None:
        told.add(user_id)
    told.discard(actor.user.id)
    told.discard(skip)
    kind = messages.NOTIFICATIONS[code]
    target = targets.target("core.group", group_id=group.id) if kind.target else None
    about = {**notifications.named(session, "by", actor.user.id),
             **notifications.named(session, "person", user_id)}
    for uid in sorted(told):
        notifications.notify(session, uid, code, station_id=group.station_id, target=target,
                             group=group.name, group_id=group.id, kind=group.kind, **about)


def in_group_of_kind(session: so.Session, station_id: int, user_id: int, kind: str,
                     *, leader: bool = False) -> bool:
    """Duties come from groups: e.g. a crossing guard is in a ``crossing_team`` group."""
    query = (
        sa.select(GroupMember.id).join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.station_id == station_id, GroupMember.user_id == user_id,
               Group.kind == kind)
    )
    if leader:
        query = query.where(GroupMember.is_leader.is_(True))
    return session.scalar(query.limit(1)) is not None
