"""The signed-in person: profile, account deletion, memberships."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app

from api.auth import actor, current_user
from api.fields import Name, StationRefSchema, TargetSchema
from api.pagination import QueryPage
from api.resources.auth import UserSchema
from api.smorest import Blueprint, Schema
from api.unit_of_work import db, writes
from core import accounts, audit, export, messages, stations, targets
from core.errors import Invalid
from core.models import Station, User

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in person")


class ProfileUpdateSchema(Schema):
    display_name = Name(max_length=80)
    locale = ma.fields.String(validate=ma.validate.OneOf(messages.LOCALES))


class MyMembershipSchema(Schema):
    """Dumps (Membership, Station) rows."""

    id = ma.fields.Integer(attribute="Membership.id")
    station = ma.fields.Nested(StationRefSchema, attribute="Station")
    roles = ma.fields.List(ma.fields.String(), attribute="Membership.roles")
    created_at = ma.fields.AwareDateTime(attribute="Membership.created_at")


@blp.route("", methods=["GET"])
@blp.response(200, UserSchema)
def me_get() -> User:
    """The signed-in person."""
    return current_user()


@blp.route("", methods=["PATCH"])
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UserSchema)
def me_update(changes: dict[str, Any]) -> User:
    """Change display name or language."""
    user = current_user()
    for key, value in changes.items():
        setattr(user, key, value)
    audit.record(db(), actor=user, action="user.updated", record=user, fields=sorted(changes))
    return user


@blp.route("", methods=["DELETE"])
@blp.response(204)
def me_delete() -> None:
    """Delete the account: personal data anonymised, sessions ended; records kept anonymously."""
    accounts.erase_user(db(), current_user())


class ExportSchema(Schema):
    """Everything the deployment holds about me; each record with all its columns."""

    exported_at = ma.fields.String(metadata={"description": "ISO 8601, UTC"})
    account = ma.fields.Dict(metadata={"description": "My account (no password hash)"})
    memberships = ma.fields.List(ma.fields.Dict())
    stations = ma.fields.List(ma.fields.Dict(), metadata={"description": "Stations I belong to"})
    groups = ma.fields.List(ma.fields.Dict(), metadata={"description": "Groups I am in"})
    sessions = ma.fields.List(ma.fields.Dict(), metadata={"description": "Sign-ins (no tokens)"})
    devices = ma.fields.List(ma.fields.Dict(), metadata={"description": "Push devices (no tokens)"})
    identities = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "Sign-in providers linked to the account, with their ids for me"})
    assignments = ma.fields.List(ma.fields.Dict())
    checkins = ma.fields.List(ma.fields.Dict(), metadata={"description": "With positions"})
    points = ma.fields.List(ma.fields.Dict(), metadata={"description": "Ledger entries"})
    notifications = ma.fields.List(ma.fields.Dict())
    audit_events = ma.fields.List(ma.fields.Dict(), metadata={"description": "What I did"})
    plugins = ma.fields.Dict(metadata={"description": "Each installed plugin's part, by name"})


@blp.route("/export", methods=["GET"])
@blp.response(200, ExportSchema)
@blp.alt_response(429, response="TOO_MANY_REQUESTS",
                  description="rate_limited: three exports a day; Retry-After says when")
@writes
def me_export() -> dict[str, Any]:
    """Download everything the deployment holds about me, as JSON (PIPL); audited."""
    return export.export_user(db(), current_user())


@blp.route("/memberships", methods=["GET"])
@blp.response(200, MyMembershipSchema(many=True))
@blp.paginate(QueryPage)
def me_memberships() -> Any:
    """The stations I belong to, with my roles there."""
    return stations.my_memberships(current_user())


class MyGroupQueryArgsSchema(Schema):
    station = ma.fields.String(validate=ma.validate.Length(max=32),
                               metadata={"description": "A station code"})
    kind = ma.fields.String(validate=ma.validate.Length(max=32),
                            metadata={"description": "grid, patrol_team, crossing_team, ..."})


class MyGroupSchema(Schema):
    """Dumps (GroupMember, Group, Station) rows."""

    id = ma.fields.Integer(metadata={"description": "The group's id"})
    kind = ma.fields.String()
    name = ma.fields.String()
    station = ma.fields.Nested(StationRefSchema)
    is_leader = ma.fields.Boolean(metadata={"description": "I lead it"})
    joined_at = ma.fields.AwareDateTime()
    target = ma.fields.Nested(TargetSchema)

    @ma.pre_dump
    def _row(self, row: Any, **_kwargs: Any) -> dict[str, Any]:
        member, group, station = row
        return {"id": group.id, "kind": group.kind, "name": group.name, "station": station,
                "is_leader": member.is_leader, "joined_at": member.created_at,
                "target": targets.target("core.group", station.code, group_id=group.id)}


@blp.route("/groups", methods=["GET"])
@blp.arguments(MyGroupQueryArgsSchema, location="query")
@blp.response(200, MyGroupSchema(many=True))
@blp.paginate(QueryPage)
def me_groups(args: dict[str, Any]) -> Any:
    """The groups I am in (teams, grid cells, shops), in every station; filter by station
    or kind."""
    return stations.my_groups(current_user(), **args)


@blp.route("/memberships/<code>", methods=["DELETE"])
@blp.response(204)
def me_membership_leave(code: str) -> None:
    """Leave a station."""
    stations.leave(db(), actor(code))



class PhoneCodeSchema(Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^\d{6}$"))


class PhoneCodeSentSchema(Schema):
    phone = ma.fields.String()
    expires_in_minutes = ma.fields.Integer()


class PhoneVerifiedSchema(Schema):
    phone_verified = ma.fields.Boolean()
    memberships = ma.fields.List(ma.fields.Nested(MyMembershipSchema))


@blp.route("/phone-verification", methods=["POST"])
@blp.response(202, PhoneCodeSentSchema)
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def me_phone_code_send() -> dict[str, Any]:
    """Text a 6-digit code to my phone, to prove the number is mine."""
    user = current_user()
    throttle = current_app.extensions["wardens.throttle"]
    throttle.check("phone-code", user.phone)
    throttle.hit("phone-code", user.phone)
    valid_for = accounts.send_phone_code(db(), user, current_app.config["SECRET_KEY"])
    return {"phone": user.phone, "expires_in_minutes": int(valid_for.total_seconds()) // 60}


@blp.route("/phone-verification/confirm", methods=["POST"])
@blp.arguments(PhoneCodeSchema)
@blp.response(200, PhoneVerifiedSchema)
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def me_phone_code_confirm(body: dict[str, Any]) -> dict[str, Any]:
    """Confirm the texted code: the phone is verified and memberships waiting for it are mine."""
    user = current_user()
    throttle = current_app.extensions["wardens.throttle"]
    throttle.check("phone-confirm", user.phone)
    try:
        claimed = accounts.confirm_phone(db(), user, body["code"], current_app.config["SECRET_KEY"])
    except Invalid:
        throttle.hit("phone-confirm", user.phone)
        raise
    stations_by_id = {s.id: s for s in db().scalars(
        sa.select(Station).where(Station.id.in_([m.station_id for m in claimed])))}
    return {"phone_verified": True,
            "memberships": [SimpleNamespace(Membership=m, Station=stations_by_id[m.station_id])
                            for m in claimed]}



class IdentitySchema(Schema):
    provider = ma.fields.String(metadata={"description": "firebase, wechat, wechat_union..."})
    created_at = ma.fields.AwareDateTime()
    last_used_at = ma.fields.AwareDateTime()


@blp.route("/identities", methods=["GET"])
@blp.response(200, IdentitySchema(many=True))
def me_identities() -> Any:
    """The sign-in providers linked to my account (their ids for me are not shown)."""
    return accounts.identities_of(db(), current_user())


@blp.route("/identities/<provider>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def me_identity_unlink(provider: str) -> None:
    """Unlink a sign-in provider; refused while it is my only way to sign in."""
    accounts.unlink_identity(db(), current_user(), provider)
