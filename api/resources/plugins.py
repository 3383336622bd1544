"""A station's plugins: which installed plugins it has on, and their settings (admins switch)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.auth import actor
from api.smorest import Blueprint, Schema
from api.unit_of_work import db
from core import station_plugins

blp = Blueprint("station_plugins", __name__, url_prefix="/api/v1/stations",
                description="Per-station plugin switches and settings")


class TaskKindSchema(Schema):
    name = ma.fields.String()
    private = ma.fields.Boolean()
    managed = ma.fields.Boolean(metadata={"description": "Created only through its plugin"})
    generic = ma.fields.List(ma.fields.String(), metadata={
        "description": "What the generic /tasks endpoints may do with a task of this kind "
                       "(sign_up, assign, withdraw, edit, cancel); the rest goes through the "
                       "plugin"})
    needs_acceptance = ma.fields.Boolean(metadata={
        "description": "A completion pays only once an officer accepts it"})
    pays = ma.fields.String(allow_none=True, metadata={
        "description": "The points event a completed assignment books (null: the plugin's own)"})


class StationPluginSchema(Schema):
    name = ma.fields.String()
    url_name = ma.fields.String(metadata={"description": "Path segment of its endpoints"})
    version = ma.fields.String()
    description = ma.fields.String()
    enabled = ma.fields.Boolean()
    task_kinds = ma.fields.List(ma.fields.Nested(TaskKindSchema))
    settings = ma.fields.Dict(allow_none=True, metadata={
        "description": "Effective settings (plugins.toml with the station's overrides), "
                       "secrets left out; officers and admins only"})
    secret_settings = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean(),
                                     allow_none=True,
                                     metadata={"description": "Secret setting -> whether set"})
    overridden = ma.fields.List(ma.fields.String(), allow_none=True,
                                metadata={"description": "Settings this station overrides"})
    updated_at = ma.fields.AwareDateTime(allow_none=True)


class StationPluginUpdateSchema(Schema):
    enabled = ma.fields.Boolean(required=True)
    settings = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        values=ma.fields.Raw(allow_none=True), load_default=None,
        metadata={"description": "Overrides to change, validated by the plugin's schema; "
                                 "null puts a key back to the plugins.toml value"})


@blp.route("/<station>/plugins", methods=["GET"])
@blp.response(200, StationPluginSchema(many=True))
def station_plugins_list(station: str) -> list[dict[str, Any]]:
    """The deployment's installed plugins, on or off for this station (members).

    Not paginated: the list is as long as plugins.toml's `installed`.
    """
    return station_plugins.list_for_station(db(), actor(station))


@blp.route("/<station>/plugins/<name>", methods=["PUT"])
@blp.arguments(StationPluginUpdateSchema)
@blp.response(200, StationPluginSchema)
def station_plugins_update(body: dict[str, Any], station: str, name: str) -> dict[str, Any]:
    """Switch a plugin on or off and change its settings (admins); applies at once, audited."""
    return station_plugins.switch(db(), actor(station), name, enabled=body["enabled"],
                                  settings=body["settings"])
