"""The signed-in person: profile, account deletion, memberships."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.auth import actor, current_user
from api.fields import Name, StationRefSchema
from api.pagination import QueryPage
from api.resources.auth import UserSchema
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core import accounts, audit, messages, stations
from core.models import User

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


@blp.route("/memberships", methods=["GET"])
@blp.response(200, MyMembershipSchema(many=True))
@blp.paginate(QueryPage)
def me_memberships() -> Any:
    """The stations I belong to, with my roles there."""
    return stations.my_memberships(current_user())


@blp.route("/memberships/<code>", methods=["DELETE"])
@blp.response(204)
def me_membership_leave(code: str) -> None:
    """Leave a station."""
    stations.leave(db(), actor(code))

