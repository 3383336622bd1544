"""HTTP endpoints under /api/v1/stations/<station>/wechat/: the person's subscription messages."""

from __future__ import annotations

from typing import Any

from api.auth import actor
from api.smorest import Blueprint
from api.unit_of_work import db
from plugins.wechat import schemas, subscriptions
from plugins.wechat.settings import of

blp = Blueprint("wechat", __name__, description="WeChat subscription messages of the signed-in"
                                                " person")


@blp.route("/subscriptions", methods=["GET"])
@blp.response(200, schemas.SubscriptionSchema(many=True))
def wechat_subscriptions(station: str) -> Any:
    """The notifications sent as subscription messages, and whether I accepted each (the
    mini-program asks wx.requestSubscribeMessage for the ones not accepted)."""
    who = actor(station)
    return subscriptions.offered(db(), who.user, of(db()))


@blp.route("/subscriptions", methods=["POST"])
@blp.arguments(schemas.SubscriptionResultsSchema)
@blp.response(200, schemas.SubscriptionSchema(many=True))
def wechat_subscriptions_record(body: dict[str, Any], station: str) -> Any:
    """Record wx.requestSubscribeMessage's answer: each "accept" allows one message (long-term:
    messages until turned off); "reject" or "ban" stops them."""
    who = actor(station)
    return subscriptions.record(db(), who.user, body["results"], of(db()))
