"""Points of a station: balance, ledger entries, adjustments, rules and the leaderboard."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import jsonify

from api.auth import actor
from api.fields import Name, TimeRangeArgsSchema
from api.pagination import QueryPage
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core import ledger, point_requests
from core.models import PendingAdjustment

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


class PendingAdjustmentSchema(Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    amount = ma.fields.Integer()
    reason = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending, approved or rejected"})
    requested_by = ma.fields.Integer()
    requested_at = ma.fields.AwareDateTime()
    decided_by = ma.fields.Integer(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    entry_id = ma.fields.Integer(allow_none=True,
                                 metadata={"description": "The ledger entry, once approved"})


class PointsSettingsSchema(Schema):
    approval_threshold = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=0, max=100000),
        metadata={"description": "Adjustments of more points than this (+ or -) wait for a "
                                 f"second officer; default {point_requests.DEFAULT_APPROVAL_THRESHOLD}"})


class RuleSchema(Schema):
    event_code = ma.fields.String()
    default = ma.fields.Integer(metadata={"description": "The deployment's (plugins.toml)"})
    override = ma.fields.Integer(allow_none=True, metadata={"description": "This station's"})
    amount = ma.fields.Integer(metadata={"description": "What an event earns now"})


ALSO_FOR = ("Task kinds whose completion books core.task_completed besides the event the kind "
            "pays (GET .../plugins shows each kind's `pays`); none by default")


class RulesSchema(Schema):
    rules = ma.fields.List(ma.fields.Nested(RuleSchema))
    task_completed_also_for = ma.fields.List(ma.fields.String(), metadata={
        "description": ALSO_FOR})


class RulesPutSchema(Schema):
    rules = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        values=ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=0, max=100000)),
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "event code -> amount; null returns it to the default"})
    task_completed_also_for = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        validate=ma.validate.Length(max=50),
        metadata={"description": ALSO_FOR + "; the whole list, left out: unchanged"})


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
@blp.alt_response(202, schema=PendingAdjustmentSchema,
                  description="Above the station's approval threshold: waiting for a second "
                              "officer (POST .../adjustments/{id}/approval)")
def points_adjust(body: dict[str, Any], station: str) -> Any:
    """Correct someone's points, + or -, with a reason (officers and admins; audited).

    Never one's own (403 ``points_self_adjustment``). Above the station's approval threshold
    (``GET .../points/settings``) it answers 202 with a pending adjustment that a second
    officer approves. A minus never takes a balance below 0 (409 ``insufficient_points``).
    """
    done = point_requests.adjust(db(), actor(station), **body)
    if isinstance(done, PendingAdjustment):
        # Another shape than the 201's: the response decorator would dump it as an entry.
        waiting = jsonify(PendingAdjustmentSchema().dump(done))
        waiting.status_code = 202
        return waiting
    return done


@blp.route("/<station>/points/adjustments/pending", methods=["GET"])
@blp.response(200, PendingAdjustmentSchema(many=True))
@blp.paginate(QueryPage)
def points_adjustments_pending(station: str) -> Any:
    """Adjustments waiting for a second officer, oldest first (officers and admins)."""
    return point_requests.pending_adjustments(actor(station))


@blp.route("/<station>/points/adjustments/<int:adjustment_id>/approval", methods=["POST"])
@blp.response(200, PendingAdjustmentSchema)
def points_adjustments_approve(station: str, adjustment_id: int) -> PendingAdjustment:
    """Approve a pending adjustment: the points are booked (another officer than the one who
    asked, never the person it credits; audited)."""
    return point_requests.decide_adjustment(db(), actor(station), adjustment_id, approve=True)


@blp.route("/<station>/points/adjustments/<int:adjustment_id>/rejection", methods=["POST"])
@blp.response(200, PendingAdjustmentSchema)
def points_adjustments_reject(station: str, adjustment_id: int) -> PendingAdjustment:
    """Reject a pending adjustment: nothing is booked (another officer; audited)."""
    return point_requests.decide_adjustment(db(), actor(station), adjustment_id, approve=False)


@blp.route("/<station>/points/settings", methods=["GET"])
@blp.response(200, PointsSettingsSchema)
def points_settings_get(station: str) -> dict[str, Any]:
    """The station's points settings: the approval threshold (officers and admins)."""
    return point_requests.points_settings(actor(station))


@blp.route("/<station>/points/settings", methods=["PUT"])
@blp.arguments(PointsSettingsSchema)
@blp.response(200, PointsSettingsSchema)
def points_settings_put(body: dict[str, Any], station: str) -> dict[str, Any]:
    """Change the approval threshold (admins; audited)."""
    return {"approval_threshold": point_requests.set_approval_threshold(
        db(), actor(station), body["approval_threshold"])}


@blp.route("/<station>/points/rules", methods=["GET"])
@blp.response(200, RulesSchema)
def points_rules_get(station: str) -> dict[str, Any]:
    """What each event earns here (the deployment default and this station's override), and
    the task kinds that pay core.task_completed besides their own event."""
    return point_requests.rules(db(), actor(station))


@blp.route("/<station>/points/rules", methods=["PUT"])
@blp.arguments(RulesPutSchema)
@blp.response(200, RulesSchema)
def points_rules_put(body: dict[str, Any], station: str) -> dict[str, Any]:
    """Set what events earn here (officers and admins; audited); past entries keep theirs."""
    return point_requests.set_rules(db(), actor(station), body.get("rules"),
                                    body.get("task_completed_also_for"))


@blp.route("/<station>/points/leaderboard", methods=["GET"])
@blp.arguments(LeaderboardArgsSchema, location="query")
@blp.response(200, LeaderboardSchema)
def points_leaderboard(args: dict[str, Any], station: str) -> dict[str, Any]:
    """Points earned this week or month (the station's time zone) or ever; ties share a rank."""
    return point_requests.leaderboard(db(), actor(station), period=args["period"],
                                      group_id=args.get("group"), limit=args["limit"])
