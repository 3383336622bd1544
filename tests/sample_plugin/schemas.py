"""The sample plugin's request and answer schemas."""

from __future__ import annotations

import marshmallow as ma

from api.fields import Text
from api.smorest import Schema


class SampleNoteSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    user_id = ma.fields.Integer(dump_only=True, allow_none=True)
    text = Text(max_length=2000, required=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class SampleNoteCreatedSchema(SampleNoteSchema):
    points = ma.fields.Integer(dump_only=True)
