"""Stations, their members and groups, and the audit log."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from api.auth import actor, current_user
from api.fields import Name, Phone, Text, TimeRangeArgsSchema
from api.pagination import QueryPage
from api.positions import CrsField, Positioned
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core import stations
from core.models import AuditEvent, Group, Station

blp = Blueprint("stations", __name__, url_prefix="/api/v1/stations",
                description="Stations, members, groups and audit")

DEFAULT_CRS = ("The datum of positions that members' requests send without `crs`: `gcj02` "
               "where the station's app uses AMap or Tencent maps, `bd09` for Baidu")
CODE = ma.validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,31}$",
                          error="Use 2-32 lowercase letters, digits and hyphens.")


class StationSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String(required=True, validate=CODE)
    name = Name(required=True)
    timezone = ma.fields.String(load_default="Asia/Shanghai", validate=ma.validate.Length(max=64))
    open_join = ma.fields.Boolean(load_default=False)
    default_crs = CrsField(dump_only=True, description=DEFAULT_CRS)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class StationCreateSchema(StationSchema):
    admin_phone = Phone(required=True, load_only=True,
                        metadata={"description": "The first admin, by phone"})


class StationDetailSchema(StationSchema):
    my_roles = ma.fields.List(ma.fields.String(), dump_only=True)


class StationUpdateSchema(Schema):
    name = Name()
    timezone = ma.fields.String(validate=ma.validate.Length(max=64))
    open_join = ma.fields.Boolean()
    default_crs = CrsField(description=DEFAULT_CRS)


def role_list() -> ma.fields.List:
    """A member's roles; required, so a body without them is a 422, never a KeyError."""
    return ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(sorted(stations.ROLES))),
                          required=True, validate=ma.validate.Length(min=1, max=6))


class MemberSchema(Schema):
    """Dumps (Membership, User | None) rows; a pending member has no user yet."""

    id = ma.fields.Integer(attribute="Membership.id", dump_only=True)
    user_id = ma.fields.Integer(attribute="Membership.user_id", dump_only=True, allow_none=True)
    display_name = ma.fields.Method("_name", dump_only=True,
                                    metadata={"type": "string", "nullable": True})
    phone = ma.fields.Method("_phone", dump_only=True,
                             metadata={"type": "string", "nullable": True})
    pending = ma.fields.Method("_pending", dump_only=True, metadata={"type": "boolean"})
    phone_verified = ma.fields.Method(
        "_phone_verified", dump_only=True,
        metadata={"type": "boolean", "description": "False: the seat's number is unverified (not"
                  " yet proven by its owner); a pending seat waits for that proof"})
    roles = ma.fields.List(ma.fields.String(), attribute="Membership.roles", dump_only=True)
    created_at = ma.fields.AwareDateTime(attribute="Membership.created_at", dump_only=True)

    def _name(self, row: Any) -> str | None:
        return row.User.display_name if row.User else None

    def _phone(self, row: Any) -> str | None:
        return row.User.phone if row.User else row.Membership.pending_phone

    def _pending(self, row: Any) -> bool:
        return row.User is None

    def _phone_verified(self, row: Any) -> bool:
        return bool(row.User is not None and row.User.phone_verified)




def member_row(membership: Any, user: Any) -> SimpleNamespace:
    # Shaped like the members query's rows; a tuple would read as (body, status) to smorest.
    return SimpleNamespace(Membership=membership, User=user)


class MemberCreateSchema(Schema):
    phone = Phone(required=True)
    roles = role_list()


class MemberUpdateSchema(Schema):
    roles = role_list()


class MemberQueryArgsSchema(Schema):
    role = ma.fields.String(validate=ma.validate.OneOf(sorted(stations.ROLES)))
    q = ma.fields.String(validate=ma.validate.Length(max=50),
                         metadata={"description": "Name or phone contains"})


class GroupMemberSchema(Schema):
    user_id = ma.fields.Integer()
    display_name = ma.fields.String()
    is_leader = ma.fields.Boolean()


class GroupSchema(Positioned):
    POSITIONS = ()
    OUTLINES = ("polygon",)

    id = ma.fields.Integer(dump_only=True)
    kind = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$"),
                            metadata={"description": "grid, patrol_team, crossing_team, "
                                                     "care_team, shop, or your own word"})
    name = Name(required=True)
    description = Text(max_length=2000, load_default="")
    polygon = ma.fields.List(
        ma.fields.List(ma.fields.Float(), validate=ma.validate.Length(equal=2)),
        allow_none=True, load_default=None, validate=ma.validate.Length(max=500),
        metadata={"description": "A grid cell's outline as [[lat, lon], ...] (in `crs`)"})
    created_at = ma.fields.AwareDateTime(dump_only=True)


class GroupDetailSchema(GroupSchema):
    members = ma.fields.List(ma.fields.Nested(GroupMemberSchema), dump_only=True)


class GroupUpdateSchema(Positioned):
    POSITIONS = ()
    OUTLINES = ("polygon",)

    name = Name()
    description = Text(max_length=2000)
    polygon = ma.fields.List(ma.fields.List(ma.fields.Float(),
                                            validate=ma.validate.Length(equal=2)),
                             allow_none=True, validate=ma.validate.Length(max=500))


class GroupQueryArgsSchema(Schema):
    kind = ma.fields.String(validate=ma.validate.Length(max=32))


class GroupMemberPutSchema(Schema):
    leader = ma.fields.Boolean(load_default=False)


class AuditEventSchema(Schema):
    id = ma.fields.Integer()
    actor_id = ma.fields.Integer(allow_none=True)
    actor_role = ma.fields.String()
    action = ma.fields.String()
    record_type = ma.fields.String()
    record_id = ma.fields.String()
    details = ma.fields.Dict()
    created_at = ma.fields.AwareDateTime()


class AuditQueryArgsSchema(TimeRangeArgsSchema):
    actor_id = ma.fields.Integer()
    action = ma.fields.String(validate=ma.validate.Length(max=64))


# Stations -------------------------------------------------------------------------------------

@blp.route("", methods=["POST"])
@blp.arguments(StationCreateSchema)
@blp.response(201, StationSchema)
def stations_create(body: dict[str, Any]) -> Station:
    """Create a station with its first admin (deployment superusers only)."""
    station, _ = stations.create_station(db(), current_user(), **body)
    return station


@blp.route("", methods=["GET"])
@blp.response(200, StationSchema(many=True))
@blp.paginate(QueryPage)
def stations_list() -> Any:
    """Stations open to join, and mine."""
    return stations.visible_stations(db(), current_user())


@blp.route("/<station>", methods=["GET"])
@blp.response(200, StationDetailSchema)
def stations_get(station: str) -> dict[str, Any]:
    """A station, with my roles in it."""
    who = actor(station)
    return {**_station_dict(who.station), "my_roles": who.roles}


def _station_dict(station: Station) -> dict[str, Any]:
    return {c: getattr(station, c) for c in
            ("id", "code", "name", "timezone", "open_join", "default_crs", "created_at")}


@blp.route("/<station>", methods=["PATCH"])
@blp.arguments(StationUpdateSchema)
@blp.response(200, StationSchema)
def stations_update(changes: dict[str, Any], station: str) -> Station:
    """Change a station's name, time zone, open sign-up or default datum (admins)."""
    return stations.update_station(db(), actor(station), changes)


@blp.route("/<station>/join", methods=["POST"])
@blp.response(201, MemberSchema)
def stations_join(station: str) -> Any:
    """Join a station that is open to join, as a resident."""
    who = actor(station)
    return member_row(stations.join(db(), who), who.user)


# Members --------------------------------------------------------------------------------------

@blp.route("/<station>/members", methods=["GET"])
@blp.arguments(MemberQueryArgsSchema, location="query")
@blp.response(200, MemberSchema(many=True))
@blp.paginate(QueryPage)
def members_list(args: dict[str, Any], station: str) -> Any:
    """The station's members, pending ones included (officers and admins)."""
    return stations.members_query(actor(station), **args)


@blp.route("/<station>/members", methods=["POST"])
@blp.arguments(MemberCreateSchema)
@blp.response(201, MemberSchema)
def members_create(body: dict[str, Any], station: str) -> Any:
    """Add a member by phone with roles; pending until that phone registers (admins)."""
    membership = stations.add_member(db(), actor(station), body["phone"], body["roles"])
    return member_row(membership, _user_of(membership))


@blp.route("/<station>/members/<int:member_id>", methods=["PATCH"])
@blp.arguments(MemberUpdateSchema)
@blp.response(200, MemberSchema)
def members_update(body: dict[str, Any], station: str, member_id: int) -> Any:
    """Change a member's roles (admins); a station keeps at least one admin."""
    membership = stations.update_member(db(), actor(station), member_id, body["roles"])
    return member_row(membership, _user_of(membership))


@blp.route("/<station>/members/<int:member_id>", methods=["DELETE"])
@blp.response(204)
def members_delete(station: str, member_id: int) -> None:
    """Remove a member (admins)."""
    stations.remove_member(db(), actor(station), member_id)


def _user_of(membership: Any) -> Any:
    from core.models import User

    return db().get(User, membership.user_id) if membership.user_id else None


# Groups ---------------------------------------------------------------------------------------

@blp.route("/<station>/groups", methods=["GET"])
@blp.arguments(GroupQueryArgsSchema, location="query")
@blp.response(200, GroupSchema(many=True))
@blp.paginate(QueryPage)
def groups_list(args: dict[str, Any], station: str) -> Any:
    """The station's groups (members of the station)."""
    return stations.groups_query(actor(station), args.get("kind"))


@blp.route("/<station>/groups", methods=["POST"])
@blp.arguments(GroupSchema)
@blp.response(201, GroupSchema)
def groups_create(body: dict[str, Any], station: str) -> Group:
    """Create a group (officers and admins)."""
    return stations.create_group(db(), actor(station), **body)


@blp.route("/<station>/groups/<int:group_id>", methods=["GET"])
@blp.response(200, GroupDetailSchema)
def groups_get(station: str, group_id: int) -> dict[str, Any]:
    """A group with its members and leaders."""
    who = actor(station)
    group = stations.get_group(db(), who, group_id)
    return _group_detail(group, who)


def _group_detail(group: Group, who: Any) -> dict[str, Any]:
    rows = stations.group_members(db(), who, group)
    return {
        **{c: getattr(group, c) for c in ("id", "kind", "name", "description", "polygon",
                                          "created_at")},
        "members": [{"user_id": m.user_id, "display_name": u.display_name,
                     "is_leader": m.is_leader} for m, u in rows],
    }


@blp.route("/<station>/groups/<int:group_id>", methods=["PATCH"])
@blp.arguments(GroupUpdateSchema)
@blp.response(200, GroupDetailSchema)
def groups_update(changes: dict[str, Any], station: str, group_id: int) -> dict[str, Any]:
    """Rename or describe a group (officers and admins)."""
    who = actor(station)
    return _group_detail(stations.update_group(db(), who, group_id, changes), who)


@blp.route("/<station>/groups/<int:group_id>", methods=["DELETE"])
@blp.response(204)
def groups_delete(station: str, group_id: int) -> None:
    """Delete a group (officers and admins)."""
    stations.delete_group(db(), actor(station), group_id)


@blp.route("/<station>/groups/<int:group_id>/members/<int:user_id>", methods=["PUT"])
@blp.arguments(GroupMemberPutSchema)
@blp.response(200, GroupDetailSchema)
def groups_member_put(body: dict[str, Any], station: str, group_id: int,
                      user_id: int) -> dict[str, Any]:
    """Put a station member in a group, as a leader or not (officers and admins)."""
    who = actor(station)
    stations.put_group_member(db(), who, group_id, user_id, body["leader"])
    return _group_detail(stations.get_group(db(), who, group_id), who)


@blp.route("/<station>/groups/<int:group_id>/members/<int:user_id>", methods=["DELETE"])
@blp.response(204)
def groups_member_delete(station: str, group_id: int, user_id: int) -> None:
    """Take a person out of a group (officers and admins)."""
    stations.remove_group_member(db(), actor(station), group_id, user_id)


# Audit ----------------------------------------------------------------------------------------

@blp.route("/<station>/audit", methods=["GET"])
@blp.arguments(AuditQueryArgsSchema, location="query")
@blp.response(200, AuditEventSchema(many=True))
@blp.paginate(QueryPage)
def audit_list(args: dict[str, Any], station: str) -> Any:
    """The station's audit log, newest first (admins); filter by time, actor and action."""
    who = actor(station)
    who.require("admin")
    query = sa.select(AuditEvent).where(AuditEvent.station_id == who.station.id)
    if "since" in args:
        query = query.where(AuditEvent.created_at >= args["since"])
    if "until" in args:
        query = query.where(AuditEvent.created_at < args["until"])
    if "actor_id" in args:
        query = query.where(AuditEvent.actor_id == args["actor_id"])
    if "action" in args:
        query = query.where(AuditEvent.action == args["action"])
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
