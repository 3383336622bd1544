"""The ``[patrol]`` section of the station file: routes and their checkpoints, by key."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from core.station_file.section import (
    ARCHIVE,
    CREATE,
    Change,
    SectionContext,
    StationSection,
    diff_items,
    key_field,
    key_of,
    lat_field,
    lon_field,
)
from plugins.patrol.checkpoints import (
    add_checkpoint,
    archive_checkpoint,
    archive_route,
    create_route,
    get_route,
    update_checkpoint,
    update_route,
)
from plugins.patrol.models import Checkpoint, Route

SECTION = "patrol"


class CheckpointFileSchema(ma.Schema):
    key = key_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    lat = lat_field()
    lon = lon_field()
    radius_m = ma.fields.Integer(load_default=30, validate=ma.validate.Range(
        5, 500, error="must be between {min} and {max}"))
    grid = ma.fields.String(load_default=None, metadata={"description": "a grid group's key"})


class RouteFileSchema(ma.Schema):
    key = key_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    description = ma.fields.String(load_default="")
    team = ma.fields.String(load_default=None,
                            metadata={"description": "the patrol_team group's key"})
    ordered = ma.fields.Boolean(load_default=False)
    checkpoints = ma.fields.List(ma.fields.Nested(CheckpointFileSchema), load_default=list)


class PatrolFileSchema(ma.Schema):
    routes = ma.fields.List(ma.fields.Nested(RouteFileSchema), load_default=list)


def check(section: dict[str, Any], document: dict[str, Any], _deployment: Any) -> list[tuple[str, str]]:
    errors = []
    groups = ({g["key"]: g["kind"] for g in document["groups"]} if "groups" in document
              else None)
    route_keys: set[str] = set()
    checkpoint_keys: set[str] = set()
    for r, route in enumerate(section["routes"]):
        where = f"patrol.routes[{r}]"
        if route["key"] in route_keys:
            errors.append((f"{where}.key", "appears twice"))
        route_keys.add(route["key"])
        errors += _reference(groups, route["team"], "patrol_team", f"{where}.team")
        for c, checkpoint in enumerate(route["checkpoints"]):
            if checkpoint["key"] in checkpoint_keys:
                errors.append((f"{where}.checkpoints[{c}].key", "appears twice in the station"))
            checkpoint_keys.add(checkpoint["key"])
            errors += _reference(groups, checkpoint["grid"], "grid",
                                 f"{where}.checkpoints[{c}].grid")
    return errors


def _reference(groups: dict[str, str] | None, key: str | None, kind: str,
               path: str) -> list[tuple[str, str]]:
    if key is None or groups is None:
        return []
    if key not in groups:
        return [(path, f"no group with key {key} in [[groups]]")]
    if groups[key] != kind:
        return [(path, f"group {key} is a {groups[key]}, not a {kind}")]
    return []


def export(ctx: SectionContext) -> dict[str, Any]:
    assert ctx.station is not None
    groups = ctx.group_keys()
    routes = ctx.session.scalars(sa.select(Route).where(
        Route.station_id == ctx.station.id, Route.archived_at.is_(None)).order_by(Route.id)).all()
    stops: dict[int, list[Checkpoint]] = {}
    for checkpoint in ctx.session.scalars(sa.select(Checkpoint).where(
            Checkpoint.station_id == ctx.station.id, Checkpoint.archived_at.is_(None))
            .order_by(Checkpoint.sequence, Checkpoint.id)):
        stops.setdefault(checkpoint.route_id, []).append(checkpoint)
    return {"routes": [
        {"key": key_of(route, "route"), "id": route.id, "name": route.name,
         "description": route.description or "",
         "team": groups.get(route.team_group_id) if route.team_group_id else None,
         "ordered": route.ordered,
         "checkpoints": [
             {"key": key_of(c, "checkpoint"), "id": c.id, "name": c.name, "lat": c.lat,
              "lon": c.lon, "radius_m": c.radius_m,
              "grid": groups.get(c.grid_group_id) if c.grid_group_id else None}
             for c in stops.get(route.id, [])]}
        for route in routes]}


def _walked(route: dict[str, Any]) -> list[dict[str, Any]]:
    """Checkpoints with their place in the walking order (the file's order)."""
    return [{**c, "sequence": n, "route": route["key"]}
            for n, c in enumerate(route["checkpoints"], start=1)]


def plan(ctx: SectionContext, current: dict[str, Any], wanted: dict[str, Any]) -> list[Change]:
    routes = current.get("routes", [])
    changes = diff_items(SECTION, "route", "patrol.routes", routes, wanted["routes"],
                         skip=("checkpoints",))
    stored = [c for r in routes for c in _walked(r)]
    every = [c for r in wanted["routes"] for c in _walked(r)]
    for change in diff_items(SECTION, "checkpoint", "", stored, every):
        item = change.wanted or change.current
        change.path = f"patrol.routes[{item['route']}].checkpoints[{change.key}]"
        if change.action == CREATE:
            change.fields.pop("sequence", None)
            change.fields.pop("route", None)
        changes.append(change)
    return changes


def apply(ctx: SectionContext, changes: list[Change]) -> None:
    session, who = ctx.session, ctx.actor
    assert who is not None and ctx.station is not None
    # What goes comes first: a new route may take the name of one the file drops.
    for change in (c for c in changes if c.kind == "checkpoint" and c.action == ARCHIVE):
        # The key goes with the object's life in the file: a later file may use it again.
        update_checkpoint(session, who, change.current["id"], {"key": None})
        archive_checkpoint(session, who, change.current["id"])
        ctx.progress(change)
    for change in (c for c in changes if c.kind == "route" and c.action == ARCHIVE):
        update_route(session, who, change.current["id"], {"key": None})
        archive_route(session, who, change.current["id"])
        ctx.progress(change)
    route_ids: dict[str, int] = {}
    for change in (c for c in changes if c.kind == "route" and c.action != ARCHIVE):
        item = change.wanted
        fields = {"key": item["key"], "name": item["name"], "description": item["description"],
                  "team_group_id": ctx.group_id(item["team"]), "ordered": item["ordered"]}
        archived = session.scalar(sa.select(Route.id).where(
            Route.station_id == ctx.station.id, Route.name == item["name"],
            Route.archived_at.is_not(None))) if change.action == CREATE else None
        if archived is not None:
            # An archived route of that name comes back (with its history), not a twin.
            update_route(session, who, archived, {**fields, "archived_at": None})
            route_ids[item["key"]] = archived
        elif change.action == CREATE:
            route_ids[item["key"]] = create_route(session, who, **fields).id
        else:
            update_route(session, who, change.current["id"], fields)
        ctx.progress(change)
    for change in (c for c in changes if c.kind == "checkpoint" and c.action != ARCHIVE):
        item = change.wanted
        fields = {"key": item["key"], "name": item["name"], "lat": item["lat"], "lon": item["lon"],
                  "radius_m": item["radius_m"], "grid_group_id": ctx.group_id(item["grid"]),
                  "sequence": item["sequence"]}
        route_id = route_ids.get(item["route"]) or _route_id(ctx, item["route"])
        if change.action == CREATE:
            route = get_route(session, who, route_id)
            add_checkpoint(session, who, route, **fields)
        else:
            update_checkpoint(session, who, change.current["id"],
                                      {**fields, "route_id": route_id})
        ctx.progress(change)


def _route_id(ctx: SectionContext, key: str) -> int:
    assert ctx.station is not None
    for route in export(ctx)["routes"]:
        if route["key"] == key:
            return int(route["id"])
    raise LookupError(key)  # the plan listed the route: it exists by now


SECTION_SPEC = StationSection(
    SECTION, PatrolFileSchema, export, plan, apply, check=check,
    description="Patrol routes by key, each with its checkpoints in walking order.")
