"""Points of a station: balance, ledger entries, adjustments, rules and the leaderboard."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.auth import actor
from api.fields import Name, TimeRangeArgsSchema
from api.pagination import QueryPage
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core import ledger, point_requests
from core.models import PointsEntry

blp = Blueprint("points", __name__, url_prefix="/api/v1/stations",
                description="Points: balances, the ledger, rules and the leaderboard")


class UserArgsSchema(Schema):
    user_id = ma.fields.Integer(metadata={"description": "Someone else's (officers and admins)"})


class EntryQueryArgsSchema(UserArgsSchema, TimeRangeArgsSchema):
    event_code = ma.fields.String(validate=ma.validate.Length(max=64))


class BalanceSchema(Schema):
    user_id = ma.fields.Integer()
    balance = ma.fields.Integer()


class EntrySchema(Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    amount = ma.fields.Integer()
    event_code = ma.fields.String()
    source_type = ma.fields.String()
    source_id = ma.fields.String()
    note = ma.fields.String()
    created_by = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class AdjustmentSchema(Schema):
    user_id = ma.fields.Integer(required=True)
    amount = ma.fields.Integer(required=True,
                               validate=ma.validate.Range(min=-100000, max=100000),
                               metadata={"description": "+ to add, - to take (never below 0)"})
    reason = Name(max_length=500, required=True)


class RuleSchema(Schema):
    event_code = ma.fields.String()
    default = ma.fields.Integer(metadata={"description": "The deployment's (plugins.toml)"})
    override = ma.fields.Integer(allow_none=True, metadata={"description": "This station's"})
    amount = ma.fields.Integer(metadata={"description": "What an event earns now"})


class RulesSchema(Schema):
    rules = ma.fields.List(ma.fields.Nested(RuleSchema))


class RulesPutSchema(Schema):
    rules = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        values=ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=0, max=100000)),
        required=True, validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "event code -> amount; null returns it to the default"})


class LeaderboardArgsSchema(Schema):
    period = ma.fields.String(load_default="week", validate=ma.validate.OneOf(ledger.PERIODS))
    group = ma.fields.Integer(metadata={"description": "Only this group's members"})
    limit = ma.fields.Integer(load_default=10, validate=ma.validate.Range(min=1, max=100))


class LeaderRowSchema(Schema):
    rank = ma.fields.Integer()
    user_id = ma.fields.Integer()
    display_name = ma.fields.String()
    points = ma.fields.Integer()


class LeaderboardSchema(Schema):
    period = ma.fields.String()
    since = ma.fields.AwareDateTime(allow_none=True,
                                    metadata={"description": "Start of the period (UTC)"})
    timezone = ma.fields.String()
    group = ma.fields.Integer(allow_none=True)
    entries = ma.fields.List(ma.fields.Nested(LeaderRowSchema))


@blp.route("/<station>/points/balance", methods=["GET"])
@blp.arguments(UserArgsSchema, location="query")
@blp.response(200, BalanceSchema)
def points_balance(args: dict[str, Any], station: str) -> dict[str, Any]:
    """My balance in this station (officers and admins: anyone's)."""
    return point_requests.balance(db(), actor(station), args.get("user_id"))


@blp.route("/<station>/points/entries", methods=["GET"])
@blp.arguments(EntryQueryArgsSchema, location="query")
@blp.response(200, EntrySchema(many=True))
@blp.paginate(QueryPage)
def points_entries(args: dict[str, Any], station: str) -> Any:
    """My ledger entries, newest first (officers and admins: anyone's, or everyone's)."""
    return point_requests.entries(actor(station), **args)


@blp.route("/<station>/points/adjustments", methods=["POST"])
@blp.arguments(AdjustmentSchema)
@blp.response(201, EntrySchema)
def points_adjust(body: dict[str, Any], station: str) -> PointsEntry:
    """Correct someone's points, + or -, with a reason (officers and admins; audited).

    A minus never takes a balance below 0 (409 ``insufficient_points``).
    """
    return point_requests.adjust(db(), actor(station), **body)


@blp.route("/<station>/points/rules", methods=["GET"])
@blp.response(200, RulesSchema)
def points_rules_get(station: str) -> dict[str, Any]:
    """What each event earns here: the deployment default and this station's override."""
    return {"rules": point_requests.rules(db(), actor(station))}


@blp.route("/<station>/points/rules", methods=["PUT"])
@blp.arguments(RulesPutSchema)
@blp.response(200, RulesSchema)
def points_rules_put(body: dict[str, Any], station: str) -> dict[str, Any]:
    """Set what events earn here (officers and admins; audited); past entries keep theirs."""
    return {"rules": point_requests.set_rules(db(), actor(station), body["rules"])}


@blp.route("/<station>/points/leaderboard", methods=["GET"])
@blp.arguments(LeaderboardArgsSchema, location="query")
@blp.response(200, LeaderboardSchema)
def points_leaderboard(args: dict[str, Any], station: str) -> dict[str, Any]:
    """Points earned this week or month (the station's time zone) or ever; ties share a rank."""
    return point_requests.leaderboard(db(), actor(station), period=args["period"],
                                      group_id=args.get("group"), limit=args["limit"])
