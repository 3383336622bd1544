"""flask-smorest subclassed once: our error model, operationIds, and the station URL prefix."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls

from api import errors


def schema_name(schema: Any) -> str:
    """OpenAPI component names: a plugin's schemas carry its name (PatrolCoverage, not Coverage)."""
    cls = resolve_schema_cls(schema)
    if isinstance(cls, list):  # a oneOf of schemas: name it after the first
        cls = cls[0]
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    parts = cls.__module__.split(".")
    if parts[0] == "plugins" and len(parts) > 1:
        prefix = "".join(word.title() for word in parts[1].split("_"))
        if not name.startswith(prefix):
            name = prefix + name
    return name


def marshmallow_plugin() -> MarshmallowPlugin:
    return MarshmallowPlugin(schema_name_resolver=schema_name)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = errors.ErrorSchema

    def _register_error_handlers(self) -> None:
        errors.register(self._app)


class Blueprint(flask_smorest.Blueprint):
    """Every operation gets an operationId: the view function's name (e.g. ``tasks_create``)."""

    def _store_endpoint_docs(self, endpoint: str, obj: Any, parameters: Any, tags: Any,
                             **options: Any) -> None:
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        for method, doc in self._docs[endpoint].items():
            if method != "parameters" and doc is not None:
                doc.setdefault("manual_doc", {}).setdefault("operationId", endpoint)


class Schema(ma.Schema):
    """Base schema: unknown fields are refused, so a typo is an error, not silence."""

    class Meta:
        unknown = ma.RAISE
        ordered = True
