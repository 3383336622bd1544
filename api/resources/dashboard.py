"""A station's dashboard: core metrics and every switched-on plugin's."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.auth import actor
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core import dashboard

blp = Blueprint("dashboard", __name__, url_prefix="/api/v1/stations",
                description="Station dashboard")


class DashboardArgsSchema(Schema):
    since = ma.fields.AwareDateTime(metadata={"description": "Start of the period; default 30 "
                                                             "days ago"})


class CoreMetricsSchema(Schema):
    members = ma.fields.Integer()
    pending_members = ma.fields.Integer()
    members_by_role = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    open_tasks = ma.fields.Integer()
    completions = ma.fields.Integer(metadata={"description": "Assignments completed since"})
    no_shows = ma.fields.Integer(metadata={"description": "No-shows marked since"})
    points_awarded = ma.fields.Integer(metadata={"description": "Points earned since"})


class DashboardSchema(Schema):
    since = ma.fields.AwareDateTime()
    generated_at = ma.fields.AwareDateTime()
    core = ma.fields.Nested(CoreMetricsSchema)
    plugins = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Dict(), metadata={
        "description": "Plugin name -> its metrics, for each plugin switched on"})


@blp.route("/<station>/dashboard", methods=["GET"])
@blp.arguments(DashboardArgsSchema, location="query")
@blp.response(200, DashboardSchema)
def dashboard_get(args: dict[str, Any], station: str) -> dict[str, Any]:
    """The station's metrics since a time (officers and admins)."""
    return dashboard.station_dashboard(db(), actor(station), args.get("since"))
