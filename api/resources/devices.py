"""The signed-in person's push devices: register this phone's push token, list, remove."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.auth import current_session, current_user
from api.pagination import QueryPage
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core import devices

blp = Blueprint("devices", __name__, url_prefix="/api/v1/me",
                description="Push devices of the signed-in person")

PLATFORMS = ("android", "ios", "web")
SERVICES = ("fcm", "jpush")


class DeviceSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    token = ma.fields.String(required=True, load_only=True,
                             validate=ma.validate.Length(min=1, max=4096),
                             metadata={"description": "The push token: an FCM registration"
                                                      " token or a JPush registration id"})
    platform = ma.fields.String(required=True, validate=ma.validate.OneOf(PLATFORMS))
    service = ma.fields.String(
        load_default="fcm", validate=ma.validate.OneOf(SERVICES),
        metadata={"description": "The push service of the token: fcm (Firebase Cloud Messaging)"
                                 " or jpush (JPush, inside mainland China)"})
    locale = ma.fields.String(
        load_default="zh-CN", validate=ma.validate.Length(min=2, max=35),
        metadata={"description": "The phone's language (BCP 47); pushes are written in it"})
    created_at = ma.fields.AwareDateTime(dump_only=True)


@blp.route("/devices", methods=["POST"])
@blp.arguments(DeviceSchema)
@blp.response(201, DeviceSchema)
@blp.alt_response(200, schema=DeviceSchema, description="The token was already registered")
def devices_register(body: dict[str, Any]) -> Any:
    """Register this phone for push notifications; logging out removes the registration."""
    user = current_user()
    device, created = devices.register(
        db(), user_id=user.id, session_id=current_session().id, token=body["token"],
        platform=body["platform"], locale=body["locale"], service=body["service"])
    return device if created else (device, 200)


@blp.route("/devices", methods=["GET"])
@blp.response(200, DeviceSchema(many=True))
@blp.paginate(QueryPage)
def devices_list() -> Any:
    """My registered devices."""
    return devices.of_user(current_user().id)


@blp.route("/devices/<ref>", methods=["DELETE"])
@blp.response(204)
def devices_delete(ref: str) -> None:
    """Stop pushing to a device, named by its id or by its push token."""
    devices.remove(db(), current_user().id, ref)

