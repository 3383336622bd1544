"""A station as one file (the station file) for its admins: plan a change, apply it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.auth import actor
from api.errors import ErrorSchema
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core.station_file import document, plan

blp = Blueprint("station_definition", __name__, url_prefix="/api/v1/stations",
                description="The station file: plan and apply a whole station's set-up")

class DefinitionSchema(Schema):
    text = ma.fields.String(metadata={"description": "The station file as TOML text"})
    document = ma.fields.Dict(metadata={
        "description": "Or the same structure as JSON (dates and times as ISO text). Files "
                       "are never read from the server: a question bank comes inline."})

    @ma.validates_schema
    def _one(self, data: dict[str, Any], **_: Any) -> None:
        if ("text" in data) == ("document" in data):
            raise ma.ValidationError("give either text or document", "_schema")


class DefinitionApplySchema(DefinitionSchema):
    allow = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(sorted(plan.HARMS))),
                           load_default=list,
                           metadata={"description": "Harms to accept (e.g. "
                                                    "cancel_guarded_shifts); others are refused"})


# A field of any section: text, a number, a flag, a list or a table (null when unset).
ANY_VALUE = {"oneOf": [{"type": "string", "nullable": True}, {"type": "number"},
                       {"type": "boolean"}, {"type": "array", "items": {}}, {"type": "object"}]}


class FieldChangeSchema(Schema):
    before = ma.fields.Raw(allow_none=True, metadata=ANY_VALUE)
    after = ma.fields.Raw(allow_none=True, metadata=ANY_VALUE)


class ChangeSchema(Schema):
    section = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "e.g. route, checkpoint, seat"})
    key = ma.fields.String()
    action = ma.fields.String(metadata={"description": "create, update or archive"})
    path = ma.fields.String(metadata={"description": "e.g. patrol.routes[night].checkpoints[gate]"})
    harm = ma.fields.String(allow_none=True,
                            metadata={"description": "refused unless allowed"})
    note = ma.fields.String()
    changed = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(FieldChangeSchema),
                             data_key="fields", attribute="fields",
                             metadata={"description": "field -> before and after"})


class SummarySchema(Schema):
    created = ma.fields.Integer()
    changed = ma.fields.Integer()
    archived = ma.fields.Integer()


class PlanSchema(Schema):
    station = ma.fields.String()
    creates_station = ma.fields.Boolean()
    summary = ma.fields.Nested(SummarySchema)
    harms = ma.fields.List(ma.fields.String())
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema))


def _document(body: dict[str, Any]) -> dict[str, Any]:
    deployment = db().info["deployment"]
    data = document.parse(body["text"]) if "text" in body else body["document"]
    return document.validate(deployment, data)


def _plain(found: plan.Plan) -> dict[str, Any]:
    """The plan as JSON-ready data (dates and times as ISO text)."""
    import json

    return json.loads(json.dumps(found.as_dict(), default=str))


@blp.route("/<station>/definition/plan", methods=["POST"])
@blp.arguments(DefinitionSchema)
@blp.response(200, PlanSchema)
@blp.alt_response(422, schema=ErrorSchema, description="`station_file_invalid`: every mistake "
                  "in `details.errors` as {path, message}; nothing is changed")
@blp.alt_response(403, schema=ErrorSchema, description="Not an admin of the station")
@blp.alt_response(404, schema=ErrorSchema, description="No such station")
def station_definition_plan(body: dict[str, Any], station: str) -> dict[str, Any]:
    """What applying this station file would create, change and archive (admins)."""
    who = actor(station)
    who.require("admin")  # before the file is read: a stranger learns nothing from its errors
    return _plain(plan.make_plan(db(), who.user, _document(body), code=station))


@blp.route("/<station>/definition", methods=["PUT"])
@blp.arguments(DefinitionApplySchema)
@blp.response(200, PlanSchema)
@blp.alt_response(422, schema=ErrorSchema, description="`station_file_invalid` (every mistake "
                  "with its path) or `station_file_refused` (a rule of the station broken)")
@blp.alt_response(409, schema=ErrorSchema, description="`station_file_harmful`: the file would "
                  "hurt people (`details.harms`) and `allow` does not name it")
@blp.alt_response(403, schema=ErrorSchema, description="Not an admin of the station")
@blp.alt_response(404, schema=ErrorSchema, description="No such station")
def station_definition_apply(body: dict[str, Any], station: str) -> dict[str, Any]:
    """Bring the station to this file's state in one transaction (admins); answers the plan.

    Applying the same file twice changes nothing. Objects with history are archived, never
    deleted; one `station.applied` audit event records the summary.
    """
    who = actor(station)
    who.require("admin")  # before the file is read: a stranger learns nothing from its errors
    return _plain(plan.apply(db(), who.user, _document(body), code=station,
                             allow=set(body["allow"])))


