"""What a phone app asks before anything else: the API's version, the oldest app it serves well."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import marshmallow as ma
from flask import current_app

from api.smorest import Blueprint, Deprecation, Schema
from core import clock

blp = Blueprint("meta", __name__, url_prefix="/api/v1",
                description="The server: API version, the oldest app it serves, plugins")


class InstalledPluginSchema(Schema):
    name = ma.fields.String()
    version = ma.fields.String(metadata={"description": "MAJOR.MINOR.PATCH"})


class DeprecatedOperationSchema(Schema):
    operation = ma.fields.String(metadata={"description": "The old operationId"})
    successor = ma.fields.String(metadata={"description": "The operationId that replaces it"})
    since = ma.fields.Date(metadata={"description": "When it was deprecated (the `Deprecation` "
                                                    "header's date)"})


class MetaSchema(Schema):
    api_version = ma.fields.String(metadata={
        "description": "The contract's version, MAJOR.MINOR.PATCH (MAJOR is the path's v1); "
                       "also the OpenAPI document's info.version"})
    server_version = ma.fields.String(metadata={"description": "The Wardens release running"})
    min_app_version = ma.fields.String(metadata={
        "description": "The oldest app release this server still serves well: an older app "
                       "asks its user to update (a deployment setting)"})
    server_time = ma.fields.AwareDateTime(metadata={
        "description": "The server's clock (UTC): a phone whose clock is far off can say so"})
    plugins = ma.fields.List(ma.fields.Nested(InstalledPluginSchema), metadata={
        "description": "Installed plugins; each station switches its own (GET "
                       ".../stations/<code>/plugins)"})
    deprecated = ma.fields.List(ma.fields.Nested(DeprecatedOperationSchema), metadata={
        "description": "Old paths kept for one release, and what replaces them"})


def _server_version() -> str:
    try:
        return importlib.metadata.version("wardens")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


@blp.route("/meta", methods=["GET"])
@blp.response(200, MetaSchema)
@blp.doc(security=[])
def meta_get() -> dict[str, Any]:
    """The API's version, the oldest app version served well, installed plugins; public."""
    deployment = current_app.extensions["wardens"]
    deprecated = []
    for endpoint, view in sorted(current_app.view_functions.items()):
        alias: Deprecation | None = getattr(view, "wardens_deprecated", None)
        if alias is not None:
            deprecated.append({"operation": endpoint.split(".", 1)[-1],
                               "successor": alias.successor.split(".", 1)[-1],
                               "since": alias.since})
    return {"api_version": current_app.config["API_VERSION"],
            "server_version": _server_version(),
            "min_app_version": current_app.config["MIN_APP_VERSION"],
            "server_time": clock.now(),
            "plugins": [{"name": p.name, "version": p.info.version}
                        for p in sorted(deployment.plugins.values(), key=lambda p: p.name)],
            "deprecated": deprecated}
