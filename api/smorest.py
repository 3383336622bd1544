"""flask-smorest subclassed once: our error model, operationIds, JSON types, the station prefix."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls, resolve_schema_instance

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


# X-Pagination is sent as JSON text: a header schema of type object would tell generated
# clients (and validators) to expect the `k,v,k,v` header style instead.
PAGINATION_HEADER = {
    "description": "Pagination metadata as JSON text: {\"total\", \"total_pages\", "
                   "\"first_page\", \"last_page\", \"page\", \"previous_page\", \"next_page\"} "
                   "(integers; the last two only when such a page exists)",
    "schema": {"type": "string"},
}


class Api(flask_smorest.Api):
    ERROR_SCHEMA = errors.ErrorSchema

    def _register_error_handlers(self) -> None:
        errors.register(self._app)

    def _register_pagination_header(self) -> None:
        self.spec.components.header("PAGINATION", PAGINATION_HEADER, lazy=True)


class JsonFloat(ma.fields.Float):
    """A number in a JSON body is a JSON number: the text "1.5" is refused, not converted."""

    def _validated(self, value: Any) -> float:
        if isinstance(value, str):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class JsonBoolean(ma.fields.Boolean):
    """A boolean in a JSON body is true or false: 1, "yes" and "true" are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value is not True and value is not False:
            raise self.make_error("invalid", input=value)
        return value


def json_typed(schema: ma.Schema) -> ma.Schema:
    """Make a body schema take JSON types as they are: 7.9 is no id, "3" no amount.

    Query strings and forms carry text, so their schemas keep marshmallow's conversions;
    a JSON body has real types, and converting them would truncate (7.9 -> 7) or guess.
    """
    seen: set[int] = set()

    def walk_schema(instance: ma.Schema) -> None:
        if id(instance) in seen:
            return
        seen.add(id(instance))
        for field in instance.fields.values():
            walk(field)

    def walk(field: ma.fields.Field) -> None:
        if isinstance(field, ma.fields.Integer):
            field.strict = True
        elif type(field) is ma.fields.Float:
            field.__class__ = JsonFloat
        elif type(field) is ma.fields.Boolean:
            field.__class__ = JsonBoolean
        elif isinstance(field, ma.fields.List):
            walk(field.inner)
        elif isinstance(field, ma.fields.Tuple):
            for inner in field.tuple_fields:
                walk(inner)
        elif isinstance(field, ma.fields.Dict) and field.value_field is not None:
            walk(field.value_field)
        elif isinstance(field, ma.fields.Nested) and isinstance(field.schema, ma.Schema):
            walk_schema(field.schema)

    walk_schema(schema)
    return schema


def _requires_something(schema: ma.Schema) -> bool:
    return any(field.required for field in schema.load_fields.values())


class Blueprint(flask_smorest.Blueprint):
    """Every operation gets an operationId: the view function's name (e.g. ``tasks_create``).

    JSON bodies are read with JSON types (see ``json_typed``), and a body is documented as
    required exactly when its schema requires a field: a body that may be empty may be absent.
    """

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Any:
        if location == "json":
            schema = json_typed(resolve_schema_instance(schema))
            kwargs.setdefault("required", _requires_something(schema))
        return super().arguments(schema, location=location, **kwargs)

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
