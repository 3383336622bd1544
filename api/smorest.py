"""flask-smorest subclassed once: our error model, operationIds, JSON types, the station prefix."""

from __future__ import annotations

import calendar
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import flask_smorest
import marshmallow as ma
from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls, resolve_schema_instance
from flask import Response, current_app, g, request, url_for

from api import errors
from api.error_codes import error_codes
from api.unit_of_work import IDEMPOTENCY_KEY_MAX, honours_idempotency_key
from core import local_time, messages


def schema_name(schema: Any) -> str:
    """OpenAPI component names: a plugin's schemas carry its name (PatrolCoverage, not Coverage)."""
    cls = resolve_schema_cls(schema)
    if isinstance(cls, list):  # a oneOf of schemas: name it after the first
        cls = cls[0]
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    parts = cls.__module__.split(".")
    if parts[0] == "plugins" and len(parts) > 1:
        words = [word.title() for word in parts[1].split("_")]
        prefix = "".join(words)
        if not name.startswith(prefix):
            # CrossingShift in crossing_guard is CrossingGuardShift, not CrossingGuardCrossingShift
            name = prefix + name.removeprefix(words[0])
    return name


class TypedMarshmallowPlugin(MarshmallowPlugin):
    """apispec's converter, taught what it leaves out: enum types, a dict's size, HH:MM."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        assert self.converter is not None
        for function in (_catalogue, _enum_type, _dict_size, _clock_time):
            self.converter.add_attribute_function(function)


def _catalogue(converter: Any, field: ma.fields.Field, ret: dict[str, Any],
               **_kwargs: Any) -> dict[str, Any]:
    """Notification codes: the catalogue of the core and the installed plugins."""
    from api.fields import NotificationCode

    if isinstance(field, NotificationCode):
        return {"enum": sorted(messages.NOTIFICATIONS)}
    return {}


def _enum_type(converter: Any, field: ma.fields.Field, ret: dict[str, Any],
               **_kwargs: Any) -> dict[str, Any]:
    """An enum says what its values are: generated clients type it from that."""
    values = [v for v in ret.get("enum", []) if v is not None]
    if values and "type" not in ret:
        if all(isinstance(v, str) for v in values):
            return {"type": "string"}
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return {"type": "integer"}
    return {}


def _dict_size(converter: Any, field: ma.fields.Field, ret: dict[str, Any],
               **_kwargs: Any) -> dict[str, Any]:
    """A Length on a Dict counts its entries: minProperties/maxProperties, not string lengths."""
    if isinstance(field, ma.fields.Dict):
        for old, new in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
            if old in ret:
                ret[new] = ret.pop(old)
    return {}


HH_MM = r"^([01]?[0-9]|2[0-3]):[0-5]?[0-9]$"


def _clock_time(converter: Any, field: ma.fields.Field, ret: dict[str, Any],
                **_kwargs: Any) -> dict[str, Any]:
    """A Time read as %H:%M is a local clock time the server parses with strptime."""
    if isinstance(field, ma.fields.Time) and getattr(field, "format", None) == "%H:%M":
        ret.pop("format", None)
        return {"pattern": HH_MM}
    return {}


def marshmallow_plugin() -> MarshmallowPlugin:
    return TypedMarshmallowPlugin(schema_name_resolver=schema_name)


class ContractPlugin(BasePlugin):
    """What every operation shares, written into each: the headers it honours, its 401."""

    def init_spec(self, spec: APISpec) -> None:
        spec.components.parameter("AcceptLanguage", "header", {
            "name": "Accept-Language", "schema": {"type": "string"},
            "description": "The language of messages, texts and field-level validation "
                           "messages: zh-CN or en (RFC 9110 weights honoured). Without it, the "
                           "signed-in person's chosen locale (`PATCH /api/v1/me`), else zh-CN"})
        spec.components.parameter("IdempotencyKey", "header", {
            "name": "Idempotency-Key", "schema": {"type": "string",
                                                  "maxLength": IDEMPOTENCY_KEY_MAX},
            "description": "Any unique text per intended write (a UUID). A retry with the same "
                           "key and body replays the first answer (2xx or 4xx) with "
                           "`Idempotent-Replayed: true`; the same key with another body is 422 "
                           "`idempotency_key_reused`; while the first is running, 409 "
                           "`idempotency_key_in_flight`. Kept 7 days, per person."})
        spec.components.header("WWW_AUTHENTICATE", {
            "description": "Always `Bearer`", "required": True,
            "schema": {"type": "string", "enum": ["Bearer"]}})
        spec.components.response("UNAUTHENTICATED", {
            "description": "No valid bearer token: `authentication_required` (none sent), "
                           "`invalid_token` (expired, malformed or unknown: refresh it), "
                           "`session_revoked` (signed out or erased: sign in again)",
            "headers": {"WWW-Authenticate": {"$ref": "#/components/headers/WWW_AUTHENTICATE"}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        spec.components.header("DEPRECATION", DEPRECATION_HEADER)

    def operation_helper(self, path: str | None = None,
                         operations: dict[str, Any] | None = None, **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            parameters = operation.setdefault("parameters", [])
            parameters.append("AcceptLanguage")  # component ids: apispec makes them $refs
            if honours_idempotency_key(method.upper(), path or ""):
                parameters.append("IdempotencyKey")
            if operation.get("security") != []:
                operation.setdefault("responses", {}).setdefault(
                    "401", "UNAUTHENTICATED")
            if operation.get("deprecated") or operation.get("x-renamed-fields"):
                for status, response in operation.get("responses", {}).items():
                    if str(status).startswith("2") and isinstance(response, dict):
                        response.setdefault("headers", {})["Deprecation"] = "DEPRECATION"


# X-Pagination is sent as JSON text: a header schema of type object would tell generated
# clients (and validators) to expect the `k,v,k,v` header style instead.
PAGINATION_HEADER = {
    "description": "Pagination metadata as JSON text: {\"total\", \"total_pages\", "
                   "\"first_page\", \"last_page\", \"page\", \"previous_page\", \"next_page\"} "
                   "(integers; the last two only when such a page exists)",
    "schema": {"type": "string"},
}


class Api(flask_smorest.Api):
    """flask-smorest's Api; the blueprints' operations are written into the OpenAPI document
    when the document is first asked for, not at start-up.

    Documenting every operation (apispec walking each schema) is most of the time a server
    takes to start; requests never read the document. The operations are added in the order
    the blueprints were registered, so the document is the same either way.
    """

    ERROR_SCHEMA = errors.ErrorSchema

    # Re-entrant: documenting an operation may read the document (the same thread goes on).
    _documenting = threading.RLock()
    _documented: bool
    _undocumented: list[tuple[Any, str, Any]]

    @property  # type: ignore[override]
    def spec(self) -> APISpec:
        if not self.__dict__.get("_documented", True):
            with self._documenting:  # a second first reader waits for the whole document
                if not self._documented and not self.__dict__.get("_documenting_now"):
                    self._documenting_now = True
                    try:
                        for blp, name, parameters in self._undocumented:
                            blp.register_views_in_doc(self, self._app, self._spec, name=name,
                                                      parameters=parameters)
                            self._spec.tag({"name": name, "description": blp.description})
                        self._undocumented, self._documented = [], True
                    finally:
                        self._documenting_now = False
        return self._spec  # type: ignore[no-any-return]

    @spec.setter
    def spec(self, value: APISpec) -> None:
        self._spec = value

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self.__dict__.setdefault("_undocumented", []).append((blp, name, parameters))
        self._documented = False

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
    A page holds 20 items unless the request asks for up to 100 (a phone's list screen fills
    with one request; 10 took two).
    """

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 20, "max_page_size": 100}

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
                manual = doc.setdefault("manual_doc", {})
                manual.setdefault("operationId", endpoint)
                datum_codes = _document_positions(doc, method)
                # Its error codes are read from the source of the code it runs: slow, and only
                # the document needs them, so that waits until the document is written.
                self.__dict__.setdefault("_undocumented_errors", []).append(
                    (manual, obj, method, datum_codes))

    def register_views_in_doc(self, api: Any, app: Any, spec: Any, *, name: str,
                              parameters: Any) -> None:
        for manual, obj, method, datum_codes in self.__dict__.pop("_undocumented_errors", []):
            _document_error_codes(manual, obj, method, datum_codes,
                                  plugin=self.import_name.startswith("plugins."))
            _document_deprecation(manual, obj)
        super().register_views_in_doc(api, app, spec, name=name, parameters=parameters)


def _document_positions(doc: dict[str, Any], method: str) -> set[str]:
    """A GET whose answer holds positions takes ``?crs=``; a body with positions takes ``crs``.

    Returns the error codes that follow (the datum's, for the operation's 422).
    """
    from api.positions import CrsArgsSchema, holds_positions  # positions builds on Schema here

    arguments = doc.setdefault("arguments", {})
    bodies = [p["schema"] for p in arguments.get("parameters", []) if p.get("in") == "json"]
    codes = {"position_incomplete", "crs_unknown"} if any(map(holds_positions, bodies)) else set()
    answers = [r["schema"] for found in doc.get("response", {}).get("responses", {}).values()
               for r in found if isinstance(r, dict) and "schema" in r]
    queries = [p["schema"] for p in arguments.get("parameters", []) if p.get("in") == "query"]
    if any(map(holds_positions, queries)):  # a point to filter by (?lat=&lon=&crs=)
        codes |= {"position_incomplete", "crs_unknown"}
    elif method == "get" and any(map(holds_positions, answers)):
        arguments.setdefault("parameters", []).append(
            {"in": "query", "required": False, "schema": CrsArgsSchema})
        arguments.setdefault("responses", {})[422] = HTTPStatus(422).name
        codes.add("crs_unknown")
    return codes


def _document_error_codes(manual: dict[str, Any], view: Any, method: str,
                          extra_422: set[str], *, plugin: bool) -> None:
    """Each error status the operation may answer, with its codes (and ``x-error-codes``)."""
    found = error_codes(view)
    if extra_422:
        found.setdefault(422, set()).update(extra_422)
    if plugin:  # the plugin gate (api.app): switched off for this station
        found.setdefault(404, set()).add("plugin_disabled")
    if method.upper() == "POST":  # the Idempotency-Key (unit_of_work); harmless where unused
        found.setdefault(422, set()).update({"idempotency_key_invalid", "idempotency_key_reused"})
        found.setdefault(409, set()).add("idempotency_key_in_flight")
    if manual.get("security") == []:
        found.pop(401, None)
    responses = manual.setdefault("responses", {})
    for status, codes in sorted(found.items()):
        if status == 401:
            continue  # the shared UNAUTHENTICATED response says it
        if status == 422:
            codes = codes | {"validation_error"}
        listed = ", ".join(f"`{code}`" for code in sorted(codes))
        responses.setdefault(str(status), {
            "description": f"{HTTPStatus(status).phrase}: {listed}",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
    manual["x-error-codes"] = {str(status): sorted(codes) for status, codes in sorted(found.items())}


class Timestamp(ma.fields.AwareDateTime):
    """A time out is RFC 3339 with its offset, always: one without a zone is UTC (stored so)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return super()._serialize(local_time.as_utc(value) if value is not None else None, attr,
                                  obj, **kwargs)


class Schema(ma.Schema):
    """Base schema: unknown fields are refused, so a typo is an error, not silence; every
    time out carries its offset (:class:`Timestamp`).

    A field kept under its old name (``api.fields.renamed``) loads into its new name, and the
    answer then carries ``Deprecation``; sending both names is a 422.
    """

    class Meta:
        unknown = ma.RAISE
        ordered = True

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        if type(field_obj) is ma.fields.AwareDateTime:
            field_obj.__class__ = Timestamp

    @ma.post_load
    def _renamed_fields(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        for name, field in self.load_fields.items():
            new = field.metadata.get("x-renamed-to")
            old = field.attribute or name
            if new is None or old not in data:
                continue
            if new in data:
                raise ma.ValidationError([f"Send `{new}` only (`{field.data_key or name}` is its "
                                          "deprecated name)."], field_name=field.data_key or name)
            data[new] = data.pop(old)
            note_deprecated_use()
        return data


# Deprecation (RFC 9745) ----------------------------------------------------------------------------
#
# A renamed path or field keeps its old name for one release. The document marks the old one
# `deprecated: true` (and names its successor), and an answer to a request that used it carries
# `Deprecation: @<unix time>` (the date it was deprecated), so a phone team sees it in its logs
# before the old name goes.

F = TypeVar("F", bound=Callable[..., Any])

#: the release that renamed paths and fields for one shape across plugins
RENAMED_ON = dt.date(2026, 12, 1)

DEPRECATION_HEADER = {
    "description": "RFC 9745: the request used a deprecated path or field name (the document "
                   "marks it `deprecated` and names its successor); `@` and the Unix time it "
                   "was deprecated. It goes one release later.",
    "schema": {"type": "string", "pattern": r"^@[0-9]+$"},
}


@dataclass(frozen=True)
class Deprecation:
    """An old path kept for a release: what replaced it, and since when."""

    successor: str  # the endpoint that replaced it, e.g. "crossing_guard.crossing_shifts_signup"
    since: dt.date = RENAMED_ON


def deprecated_alias(successor: str, since: dt.date = RENAMED_ON) -> Callable[[F], F]:
    """Mark a view as an old path kept for a release (put it closest to the function).

    The document marks the operation deprecated and names ``successor`` (an endpoint name);
    every answer carries ``Deprecation`` and a ``Link`` to the successor's URL.
    """
    def mark(view: F) -> F:
        view.wardens_deprecated = Deprecation(successor, since)  # type: ignore[attr-defined]
        return view
    return mark


def note_deprecated_use(since: dt.date = RENAMED_ON) -> None:
    """This request used an old field name: its answer carries ``Deprecation``."""
    earlier = g.get("wardens_deprecated_since")
    g.wardens_deprecated_since = since if earlier is None else min(earlier, since)


def deprecation_header(response: Response) -> Response:
    """After each request: ``Deprecation`` when an old path or field name was used."""
    view = current_app.view_functions.get(request.endpoint or "")
    alias: Deprecation | None = getattr(view, "wardens_deprecated", None)
    since = alias.since if alias is not None else g.get("wardens_deprecated_since")
    if since is None:
        return response
    response.headers["Deprecation"] = f"@{calendar.timegm(since.timetuple())}"
    if alias is not None:
        try:
            successor = url_for(alias.successor, **(request.view_args or {}))
        except Exception:  # noqa: BLE001  (a header is no reason to fail the answer)
            successor = None
        if successor:
            response.headers["Link"] = f'<{successor}>; rel="successor-version"'
    return response


def _document_deprecation(manual: dict[str, Any], view: Any) -> None:
    alias: Deprecation | None = getattr(view, "wardens_deprecated", None)
    if alias is not None:
        manual["deprecated"] = True
        manual["x-successor"] = alias.successor.split(".", 1)[-1]  # its operationId
        manual["x-deprecated-since"] = alias.since.isoformat()
    renamed: dict[str, str] = {}
    for argument in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        schema = argument.get("schema")
        if schema is None:
            continue
        for name, field in resolve_schema_instance(schema).fields.items():
            if "x-renamed-to" in field.metadata:
                renamed[field.data_key or name] = field.metadata["x-renamed-to"]
    if renamed:
        manual["x-renamed-fields"] = renamed
