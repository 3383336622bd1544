"""My home screen in one call: what to do now and next in every station, and the unread count."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import marshmallow as ma
from flask import request

from api.auth import current_user
from api.errors import request_locale
from api.fields import StationRefSchema, TargetSchema
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core import today

blp = Blueprint("today", __name__, url_prefix="/api/v1/me",
                description="My home screen: what to do now and next")


class TodayQueryArgsSchema(Schema):
    station = ma.fields.String(validate=ma.validate.Length(max=32),
                               metadata={"description": "Only this station (its code)"})


class TodayCardSchema(Schema):
    kind = ma.fields.String(metadata={
        "description": "<plugin>.<noun>: core.task, core.notifications, patrol.patrol, "
                       "patrol.task, crossing_guard.shift, care_visits.visit, anti_fraud.quiz, "
                       "anti_fraud.coupon, ..."})
    title = ma.fields.String(metadata={"description": "The record's own words (a task's title)"})
    station = ma.fields.Nested(StationRefSchema, allow_none=True, metadata={
        "description": "Whose card; its times are in this station's zone (none: the inbox)"})
    starts_at = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "RFC 3339 with the station's offset"})
    ends_at = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "The end, or the deadline (a coupon's expiry); the station's offset"})
    now = ma.fields.Boolean(metadata={"description": "To do now (under way, check-in open, "
                                                    "about to expire); else next"})
    status = ma.fields.String(allow_none=True, metadata={"description": "My status on it"})
    details = ma.fields.Dict(metadata={"description": "A few values the card shows"})
    target = ma.fields.Nested(TargetSchema, metadata={"description": "What the app opens"})


class TodaySchema(Schema):
    generated_at = ma.fields.AwareDateTime(metadata={"description": "The server's now (UTC)"})
    stations = ma.fields.List(ma.fields.Nested(StationRefSchema), metadata={
        "description": "My stations (with their time zones)"})
    unread_notifications = ma.fields.Integer(metadata={"description": "For the app's badge"})
    cards = ma.fields.List(ma.fields.Nested(TodayCardSchema), metadata={
        "description": "Under way first, then by time"})


def _local(value: dt.datetime | None, zone: zoneinfo.ZoneInfo | None) -> dt.datetime | None:
    return value.astimezone(zone) if value is not None and zone is not None else value


@blp.route("/today", methods=["GET"])
@blp.arguments(TodayQueryArgsSchema, location="query")
@blp.response(200, TodaySchema)
def me_today(args: dict[str, Any]) -> dict[str, Any]:
    """My home screen in one call, across my stations (or one): tasks, patrols, shifts, visits,
    quizzes and coupons to act on now and in the next days, each with what the app opens.

    Every switched-on plugin adds its cards; times are in each card's station's zone.
    """
    user = current_user()
    locale = request_locale() if request.headers.get("Accept-Language") else user.locale
    found = today.today(db(), user, station=args.get("station"), locale=locale)
    cards = []
    for station, card in found.cards:
        zone = zoneinfo.ZoneInfo(station.timezone) if station is not None else None
        cards.append({"kind": card.kind, "title": card.title, "station": station,
                      "starts_at": _local(card.starts_at, zone),
                      "ends_at": _local(card.ends_at, zone), "now": card.now,
                      "status": card.status, "details": card.details, "target": card.target})
    return {"generated_at": found.generated_at, "stations": found.stations,
            "unread_notifications": found.unread_notifications, "cards": cards}
