"""Notices from officers to the whole station, a group or a role; the list of notices sent."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import request

from api.auth import actor
from api.fields import Name, TargetSchema, TimeRangeArgsSchema
from api.pagination import QueryPage
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core import notices, targets
from core.models import Notice, NoticeAudience, User
from core.models.stations import Role

blp = Blueprint("notices", __name__, url_prefix="/api/v1/stations",
                description="Notices from officers: to the station, a group or a role")

AUDIENCES = [a.value for a in NoticeAudience]
ROLES = [r.value for r in Role]


class NoticeCreateSchema(Schema):
    audience = ma.fields.String(required=True, validate=ma.validate.OneOf(AUDIENCES), metadata={
        "description": "`station`: every member; `group`: the members of `group_id`; `role`: "
                       "the members holding `role`. Never the sender."})
    group_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**63 - 1),
                                 metadata={"description": "With audience `group`, only then"})
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES),
                            metadata={"description": "With audience `role`, only then"})
    title = Name(max_length=80, required=True, metadata={"description": "The push title"})
    text = Name(max_length=1000, required=True)
    target = ma.fields.Nested(TargetSchema, metadata={
        "description": "Optional: what the app opens from it, e.g. `{\"kind\": \"core.task\", "
                       "\"task_id\": 5}` (core.task, core.group, core.points or a plugin's "
                       "`<plugin>.<thing>`; up to three `<thing>_id` ids)"})


class NoticeGroupSchema(Schema):
    id = ma.fields.Integer(allow_none=True, metadata={"description": "null once deleted"})
    name = ma.fields.String(metadata={"description": "As it was named when the notice went"})


class NoticeSenderSchema(Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()


class NoticeSchema(Schema):
    """Dumps (Notice, sender) rows, or a notice's view (:func:`notice_view`)."""

    id = ma.fields.Integer()
    audience = ma.fields.String(validate=ma.validate.OneOf(AUDIENCES))
    group = ma.fields.Nested(NoticeGroupSchema, allow_none=True)
    role = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(ROLES))
    title = ma.fields.String()
    text = ma.fields.String()
    target = ma.fields.Nested(TargetSchema, allow_none=True)
    recipients = ma.fields.Integer(metadata={"description": "How many inboxes it reached"})
    sent_by = ma.fields.Nested(NoticeSenderSchema)
    sent_at = ma.fields.AwareDateTime()

    @ma.pre_dump
    def _flatten(self, obj: Any, **_kwargs: Any) -> dict[str, Any]:
        if isinstance(obj, dict):
            return obj
        notice, sender = obj
        return notice_view(notice, sender, (request.view_args or {})["station"])


def notice_view(notice: Notice, sender: User, station: str) -> dict[str, Any]:
    """What an officer reads of a notice: to whom, what, what it opens, how many it reached."""
    target = None
    if notice.target:
        ids = {key: value for key, value in notice.target.items() if key != "kind"}
        target = targets.target(notice.target["kind"], station, **ids)
    return {"id": notice.id, "audience": notice.audience.value,
            "group": ({"id": notice.group_id, "name": notice.group_name}
                      if notice.audience == NoticeAudience.GROUP else None),
            "role": notice.role, "title": notice.title, "text": notice.text,
            "target": target, "recipients": notice.recipients,
            "sent_by": {"id": sender.id, "display_name": sender.display_name},
            "sent_at": notice.sent_at}


class NoticeQueryArgsSchema(TimeRangeArgsSchema):
    mine = ma.fields.Boolean(metadata={"description": "Only the notices I sent"})


@blp.route("/<station>/notices", methods=["POST"])
@blp.arguments(NoticeCreateSchema)
@blp.response(201, NoticeSchema)
def notices_send(body: dict[str, Any], station: str) -> Any:
    """Send a notice to the whole station, a group or a role (officers and admins).

    Everyone it reaches (never the sender) finds a `core.notice` in the inbox, pushed like every
    notification; the notice is audited (`notice.sent`). At most 10 notices an hour per officer
    and 50 a day per station: 429 `rate_limited` with Retry-After.
    """
    who = actor(station)
    return notice_view(notices.send(db(), who, **body), who.user, who.station.code)


@blp.route("/<station>/notices", methods=["GET"])
@blp.arguments(NoticeQueryArgsSchema, location="query")
@blp.response(200, NoticeSchema(many=True))
@blp.paginate(QueryPage)
def notices_list(args: dict[str, Any], station: str) -> sa.Select[Notice, Any]:
    """The notices sent in the station, newest first (officers and admins)."""
    who = actor(station)
    query = notices.sent(who)
    if args.get("mine"):
        query = query.where(Notice.sent_by == who.user.id)
    if "since" in args:
        query = query.where(Notice.sent_at >= args["since"])
    if "until" in args:
        query = query.where(Notice.sent_at < args["until"])
    return query
