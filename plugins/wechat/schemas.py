"""Request and response schemas of the wechat API."""

from __future__ import annotations

import marshmallow as ma

from api.smorest import Schema


class SubscriptionSchema(Schema):
    notification_code = ma.fields.String()
    template_id = ma.fields.String()
    long_term = ma.fields.Boolean(metadata={"description": "One acceptance, many messages"})
    accepted = ma.fields.Boolean(metadata={"description": "A message may be sent now"})
    remaining = ma.fields.Integer(allow_none=True, metadata={
        "description": "Messages the one-time acceptances still allow (null: long-term)"})


class SubscriptionResultsSchema(Schema):
    results = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=8, max=64)),
        values=ma.fields.String(validate=ma.validate.OneOf(["accept", "reject", "ban"])),
        required=True, validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "wx.requestSubscribeMessage's answer: template id -> accept,"
                                 " reject or ban"})
