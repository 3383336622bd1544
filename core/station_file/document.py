"""Reading a station file: TOML in, every mistake with its path out, or the loaded document."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import marshmallow as ma
import tomli_w

from core.errors import Invalid
from core.station_file.section import StationSection, without_none

if TYPE_CHECKING:
    from core.plugins import Deployment

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_ERRORS = 200  # a file of garbage answers with enough to start on, not megabytes


class FileErrors(Invalid):
    """422 ``station_file_invalid``: every mistake, each with its path in the file."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("station_file_invalid", count=len(errors), errors=errors[:MAX_ERRORS])
        self.errors = errors


def sections(deployment: Deployment) -> list[StationSection]:
    return list(deployment.station_sections.values())


def parse(text: str) -> dict[str, Any]:
    """The TOML text as a dict; a syntax error is one located mistake."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileErrors([{"path": "", "message": f"not valid TOML: {exc}"}]) from None


def dumps(document: dict[str, Any]) -> str:
    return tomli_w.dumps(without_none(document))


def file_keys(schema: ma.Schema, data: Any) -> Any:
    """Loaded data (a section's export) under the file's names: a field's ``data_key``
    (a closure's ``reason``), so the exported file reads back as it was written."""
    if isinstance(data, list):
        return [file_keys(schema, item) for item in data]
    if not isinstance(data, dict):
        return data
    found: dict[str, Any] = {}
    for name, value in data.items():
        field = schema.fields.get(name)
        if field is None:
            found[name] = value
            continue
        inner = field.inner if isinstance(field, ma.fields.List) else field
        if isinstance(inner, ma.fields.Nested) and isinstance(inner.schema, ma.Schema):
            value = file_keys(inner.schema, value)
        found[field.data_key or name] = value
    return found


def plain(value: Any) -> Any:
    """TOML dates and times as the ISO text the schemas read (JSON bodies carry text too)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def join(prefix: str, part: Any) -> str:
    if isinstance(part, int):
        return f"{prefix}[{part}]"
    text = str(part)
    if text == "_schema":
        return prefix
    if not NAME.match(text):
        text = f'"{text}"'
    return f"{prefix}.{text}" if prefix else text


def flatten(messages: Any, prefix: str) -> list[dict[str, str]]:
    """marshmallow's nested messages as a flat list of {path, message}."""
    if isinstance(messages, dict):
        found: list[dict[str, str]] = []
        for part, inner in messages.items():
            found += flatten(inner, join(prefix, part))
        return found
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"path": prefix, "message": m.rstrip(".") if m.endswith(".") else m}
                for m in messages]
    if isinstance(messages, list):
        found = []
        for inner in messages:
            found += flatten(inner, prefix)
        return found
    return [{"path": prefix, "message": str(messages)}]


def validate(deployment: Deployment, data: dict[str, Any]) -> dict[str, Any]:
    """Load every section with its schema; raise :class:`FileErrors` with all mistakes at once.

    Nothing is read from or written to the database: a file is checked on its own.
    """
    data = plain(data)
    known = deployment.station_sections
    errors: list[dict[str, str]] = []
    loaded: dict[str, Any] = {}
    if "station" not in data:
        errors.append({"path": "station", "message": "Missing data for required field"})
    for name, value in data.items():
        section = known.get(name)
        if section is None:
            errors.append({"path": join("", name), "message": "unknown section (no installed"
                           " plugin owns it)"})
            continue
        if section.many and not (isinstance(value, list)
                                 and all(isinstance(v, dict) for v in value)):
            errors.append({"path": join("", name), "message": "must be an array of tables"})
            continue
        if not section.many and not isinstance(value, dict):
            errors.append({"path": join("", name), "message": "must be a table"})
            continue
        try:
            loaded[name] = section.schema(many=section.many).load(value)
        except ma.ValidationError as exc:
            errors += flatten(exc.messages, name)
    for name, value in loaded.items():
        check = known[name].check
        if check is not None:
            errors += [{"path": path, "message": message}
                       for path, message in check(value, loaded, deployment)]
    if errors:
        raise FileErrors(errors)
    return loaded


def read(deployment: Deployment, text: str) -> dict[str, Any]:
    return validate(deployment, parse(text))


def inline_files(deployment: Deployment, data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Put into the document what its sections name by path (e.g. a question bank file).

    Only the command line does this: through the API a file never names a path on the server.
    """
    for name, value in list(data.items()):
        section = deployment.station_sections.get(name)
        if section is not None and section.inline_files is not None:
            data[name] = section.inline_files(value, base)
    return data


def json_schema(deployment: Deployment) -> dict[str, Any]:
    """A JSON Schema (2020-12) of the file: the core's sections and the installed plugins'."""
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    spec = APISpec("station file", "1", "3.1.0",
                   plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)])
    properties: dict[str, Any] = {}
    for section in sections(deployment):
        name = f"{section.name}_section"
        spec.components.schema(name, schema=section.schema)
        ref = {"$ref": f"#/$defs/{name}"}
        properties[section.name] = {"type": "array", "items": ref} if section.many else ref
        if section.description:
            properties[section.name]["description"] = section.description
    defs = spec.to_dict().get("components", {}).get("schemas", {})
    text = _refs(defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Wardens station file", "type": "object", "required": ["station"],
            "additionalProperties": False, "properties": properties, "$defs": text}


def _schema_name(schema: Any) -> str:
    """A plugin's schemas carry its name (PatrolRouteFile), so two plugins never collide."""
    from apispec.ext.marshmallow.common import resolve_schema_cls

    cls = resolve_schema_cls(schema)
    cls = cls[0] if isinstance(cls, list) else cls
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    parts = cls.__module__.split(".")
    if parts[0] in ("plugins", "tests") and len(parts) > 1:
        prefix = "".join(word.title() for word in parts[1].split("_"))
        name = name if name.startswith(prefix) else prefix + name
    return name


def _refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (v.replace("#/components/schemas/", "#/$defs/") if k == "$ref" else _refs(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_refs(v) for v in value]
    return value
