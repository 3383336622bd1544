"""Patrol routes and their checkpoints: secrets, tag provisioning, rotation, the static code sheet."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock
from core.access import Actor
from core.db import flush_or_conflict
from core.errors import Conflict, Invalid, NotFound
from core.models import Group, Task
from plugins.patrol import codes
from plugins.patrol.models import Checkpoint, Route, RouteTask
from plugins.patrol.settings import for_station

ISSUER = "Wardens"
TEAM_KIND = "patrol_team"
GRID_KIND = "grid"
TASK_KIND = "patrol"


def _group(session: so.Session, station_id: int, group_id: int | None, kind: str,
           code: str, field: str) -> int | None:
    if group_id is None:
        return None
    found = session.scalar(sa.select(Group.kind).where(Group.id == group_id,
                                                       Group.station_id == station_id))
    if found != kind:
        raise Invalid(code, field=field, kind=kind)
    return group_id


def routes_query(who: Actor, *, archived: bool = False) -> sa.Select[Route]:
    """The station's routes; archived ones are for officers."""
    who.require_member()
    query = sa.select(Route).where(Route.station_id == who.station.id)
    if archived:
        who.require("officer", "admin")
        query = query.where(Route.archived_at.is_not(None))
    else:
        query = query.where(Route.archived_at.is_(None))
    return query.order_by(Route.name, Route.id)


def get_route(session: so.Session, who: Actor, route_id: int) -> Route:
    who.require_member()
    route = session.scalar(sa.select(Route).where(Route.id == route_id,
                                                  Route.station_id == who.station.id))
    if route is None or (route.archived_at is not None and not who.is_staff):
        raise NotFound("route_not_found")
    return route


def route_checkpoints(session: so.Session, route: Route) -> list[Checkpoint]:
    """The route's checkpoints in walking order (archived ones left out)."""
    return list(session.scalars(
        sa.select(Checkpoint).where(Checkpoint.station_id == route.station_id,
                                    Checkpoint.route_id == route.id,
                                    Checkpoint.archived_at.is_(None))
        .order_by(Checkpoint.sequence, Checkpoint.id)))


def create_route(session: so.Session, who: Actor, *, name: str, description: str = "",
                 team_group_id: int | None = None, ordered: bool = False,
                 checkpoints: list[dict[str, Any]] | None = None, key: str | None = None) -> Route:
    """Create a route, with its checkpoints when given (officers)."""
    who.require("officer", "admin")
    station_id = who.station.id
    route = Route(station_id=station_id, name=name, description=description, ordered=ordered,
                  key=key,
                  team_group_id=_group(session, station_id, team_group_id, TEAM_KIND,
                                       "team_group_invalid", "team_group_id"),
                  created_by=who.user.id)
    session.add(route)
    flush_or_conflict(session, None, "route_name_taken", field="name", name=name)
    for fields in checkpoints or []:
        add_checkpoint(session, who, route, audited=False, **fields)
    audit.record(session, actor=who.user, role=who.role, action="patrol.route_created",
                 record=route, checkpoints=len(checkpoints or []))
    return route


def update_route(session: so.Session, who: Actor, route_id: int, changes: dict[str, Any]) -> Route:
    who.require("officer", "admin")
    route = get_route(session, who, route_id)
    if "team_group_id" in changes:
        _group(session, route.station_id, changes["team_group_id"], TEAM_KIND,
               "team_group_invalid", "team_group_id")
    for key, value in changes.items():
        setattr(route, key, value)
    route.updated_at = clock.now()
    flush_or_conflict(session, None, "route_name_taken", field="name", name=changes.get("name"))
    audit.record(session, actor=who.user, role=who.role, action="patrol.route_updated",
                 record=route, fields=sorted(changes))
    return route


def archive_route(session: so.Session, who: Actor, route_id: int) -> None:
    """Retire a route; its patrols and scans stay (nothing accountable is deleted)."""
    who.require("officer", "admin")
    route = get_route(session, who, route_id)
    if route.archived_at is None:
        route.archived_at = clock.now()
        audit.record(session, actor=who.user, role=who.role, action="patrol.route_archived",
                     record=route)


def add_checkpoint(session: so.Session, who: Actor, route: Route, *, name: str, lat: float,
                   lon: float, radius_m: int = 30, grid_group_id: int | None = None,
                   sequence: int | None = None, audited: bool = True,
                   key: str | None = None) -> Checkpoint:
    """A checkpoint with a fresh secret; appended to the walking order unless placed."""
    who.require("officer", "admin")
    if route.archived_at is not None:
        raise Conflict("route_archived")
    if sequence is None:
        last = session.scalar(sa.select(sa.func.max(Checkpoint.sequence)).where(
            Checkpoint.station_id == route.station_id, Checkpoint.route_id == route.id))
        sequence = (last or 0) + 1
    checkpoint = Checkpoint(
        station_id=route.station_id, route_id=route.id, key=key, name=name, sequence=sequence, lat=lat,
        lon=lon, radius_m=radius_m, secret=codes.new_secret(),
        code_step_s=for_station(session, route.station_id).code_step_seconds,
        grid_group_id=_group(session, route.station_id, grid_group_id, GRID_KIND,
                             "grid_group_invalid", "grid_group_id"))
    session.add(checkpoint)
    session.flush()
    if audited:
        audit.record(session, actor=who.user, role=who.role, action="patrol.checkpoint_added",
                     record=checkpoint, route_id=route.id)
    return checkpoint


def get_checkpoint(session: so.Session, who: Actor, checkpoint_id: int) -> Checkpoint:
    who.require_member()
    checkpoint = session.scalar(sa.select(Checkpoint).where(
        Checkpoint.id == checkpoint_id, Checkpoint.station_id == who.station.id))
    if checkpoint is None:
        raise NotFound("checkpoint_not_found")
    return checkpoint


def update_checkpoint(session: so.Session, who: Actor, checkpoint_id: int,
                      changes: dict[str, Any]) -> Checkpoint:
    who.require("officer", "admin")
    checkpoint = get_checkpoint(session, who, checkpoint_id)
    if "grid_group_id" in changes:
        _group(session, checkpoint.station_id, changes["grid_group_id"], GRID_KIND,
               "grid_group_invalid", "grid_group_id")
    for key, value in changes.items():
        setattr(checkpoint, key, value)
    audit.record(session, actor=who.user, role=who.role, action="patrol.checkpoint_updated",
                 record=checkpoint, fields=sorted(changes))
    return checkpoint


def archive_checkpoint(session: so.Session, who: Actor, checkpoint_id: int) -> None:
    who.require("officer", "admin")
    checkpoint = get_checkpoint(session, who, checkpoint_id)
    if checkpoint.archived_at is None:
        checkpoint.archived_at = clock.now()
        audit.record(session, actor=who.user, role=who.role, action="patrol.checkpoint_archived",
                     record=checkpoint)


def provisioning(session: so.Session, who: Actor, checkpoint_id: int) -> dict[str, Any]:
    """What a tag is set up with: the otpauth URI (for a QR code) and its parts (officers, audited)."""
    who.require("officer", "admin")
    checkpoint = get_checkpoint(session, who, checkpoint_id)
    audit.record(session, actor=who.user, role=who.role, action="patrol.secret_read",
                 record=checkpoint)
    return _payload(who, checkpoint)


def _payload(who: Actor, checkpoint: Checkpoint) -> dict[str, Any]:
    label = f"{who.station.code}-{checkpoint.id} {checkpoint.name}"
    return {
        "checkpoint_id": checkpoint.id,
        "otpauth_uri": codes.provisioning_uri(checkpoint.secret, label=label, issuer=ISSUER,
                                              step=checkpoint.code_step_s),
        "secret": checkpoint.secret,
        "algorithm": "SHA1",
        "digits": codes.DIGITS,
        "period": checkpoint.code_step_s,
        "static_code": codes.static_code(checkpoint.secret),
        "rotated_at": checkpoint.secret_rotated_at,
    }


def rotate_secret(session: so.Session, who: Actor, checkpoint_id: int) -> dict[str, Any]:
    """A new secret (and static code) at once; the old one still verifies scans made before now."""
    who.require("officer", "admin")
    checkpoint = get_checkpoint(session, who, checkpoint_id)
    checkpoint.previous_secret = checkpoint.secret
    checkpoint.secret = codes.new_secret()
    checkpoint.secret_rotated_at = clock.now()
    checkpoint.code_step_s = for_station(session, checkpoint.station_id).code_step_seconds
    audit.record(session, actor=who.user, role=who.role, action="patrol.secret_rotated",
                 record=checkpoint)
    return _payload(who, checkpoint)


def code_sheet(session: so.Session, who: Actor, route_id: int) -> list[dict[str, Any]]:
    """The printable static codes of a route's checkpoints (officers, audited)."""
    who.require("officer", "admin")
    route = get_route(session, who, route_id)
    checkpoints = route_checkpoints(session, route)
    grids = dict(session.execute(sa.select(Group.id, Group.name).where(
        Group.station_id == route.station_id,
        Group.id.in_({c.grid_group_id for c in checkpoints if c.grid_group_id}))).all())
    audit.record(session, actor=who.user, role=who.role, action="patrol.code_sheet_read",
                 record=route)
    from plugins.patrol import tags

    return [{"route": route.name, "sequence": c.sequence, "checkpoint_id": c.id, "name": c.name,
             "grid": grids.get(c.grid_group_id or 0, ""), "lat": c.lat, "lon": c.lon,
             "static_code": codes.static_code(c.secret),
             "tag_uri": tags.static_payload(who.station.code, c).uri} for c in checkpoints]


def link_task(session: so.Session, who: Actor, route_id: int, task_id: int) -> RouteTask:
    """Say which route a scheduled patrol task walks (officers); a task walks one route."""
    who.require("officer", "admin")
    route = get_route(session, who, route_id)
    task = session.scalar(sa.select(Task).where(Task.id == task_id,
                                                Task.station_id == route.station_id))
    if task is None:
        raise NotFound("task_not_found")
    if task.kind != TASK_KIND:
        raise Invalid("task_not_patrol", kind=task.kind)
    link = session.scalar(sa.select(RouteTask).where(RouteTask.station_id == route.station_id,
                                                     RouteTask.task_id == task_id))
    if link is None:
        link = RouteTask(station_id=route.station_id, task_id=task_id, route_id=route.id)
        session.add(link)
    else:
        link.route_id = route.id
    session.flush()
    audit.record(session, actor=who.user, role=who.role, action="patrol.task_linked",
                 record=route, task_id=task_id)
    return link


def unlink_task(session: so.Session, who: Actor, route_id: int, task_id: int) -> None:
    who.require("officer", "admin")
    route = get_route(session, who, route_id)
    deleted = cast(sa.CursorResult[Any], session.execute(sa.delete(RouteTask).where(
        RouteTask.station_id == route.station_id, RouteTask.route_id == route.id,
        RouteTask.task_id == task_id))).rowcount
    if not deleted:
        raise NotFound("task_not_found")
