"""Settings forms generated from a plugin's marshmallow schema, and read back into values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import marshmallow as ma

from core.plugins import InstalledPlugin, deployment_settings, secret_settings


@dataclass(frozen=True)
class SettingField:
    """One input of a plugin's settings form."""

    name: str
    input: str  # "number", "checkbox", "select", "text", "password"
    value: Any
    step: str = "1"
    minimum: Any = None
    maximum: Any = None
    choices: tuple[Any, ...] = ()
    description: str = ""
    deployment: bool = False
    secret: bool = False
    secret_set: bool = False
    overridden: bool = False


def _bounds(field: ma.fields.Field) -> tuple[Any, Any, tuple[Any, ...]]:
    low = high = None
    choices: tuple[Any, ...] = ()
    for validator in field.validators:
        if isinstance(validator, ma.validate.Range):
            low, high = validator.min, validator.max
        elif isinstance(validator, ma.validate.OneOf):
            choices = tuple(validator.choices)
    return low, high, choices


def settings_form(plugin: InstalledPlugin, view: dict[str, Any]) -> list[SettingField]:
    """The inputs of a plugin's settings, filled with the station's effective values."""
    schema = plugin.info.settings_schema
    if schema is None:
        return []
    fixed = set(deployment_settings(plugin.info))
    secrets = set(secret_settings(plugin.info))
    values = view.get("settings") or {}
    overridden = set(view.get("overridden") or ())
    found = []
    for name, field in schema().fields.items():
        key = field.data_key or name
        low, high, choices = _bounds(field)
        if key in secrets:
            kind = "password"
        elif choices:
            kind = "select"
        elif isinstance(field, ma.fields.Boolean):
            kind = "checkbox"
        elif isinstance(field, (ma.fields.Integer, ma.fields.Float, ma.fields.Decimal)):
            kind = "number"
        else:
            kind = "text"
        found.append(SettingField(
            name=key, input=kind, value=values.get(key),
            step="1" if isinstance(field, ma.fields.Integer) else "any",
            minimum=low, maximum=high, choices=choices,
            description=str(field.metadata.get("description", "")), deployment=key in fixed,
            secret=key in secrets, secret_set=bool((view.get("secret_settings") or {}).get(key)),
            overridden=key in overridden))
    return found


def changed_settings(fields: list[SettingField], form: Any) -> dict[str, Any]:
    """What the form changes: keys whose submitted value differs from the effective one (as
    typed text, judged by the plugin's schema in the service), and keys put back (``reset:``)."""
    changes: dict[str, Any] = {}
    for field in fields:
        if field.deployment:
            continue
        if form.get(f"reset:{field.name}"):
            changes[field.name] = None
            continue
        if field.input == "checkbox":
            wanted: Any = bool(form.get(field.name))
            if wanted != bool(field.value):
                changes[field.name] = wanted
            continue
        if field.name not in form:
            continue  # not on the form sent: unchanged
        raw = (form.get(field.name) or "").strip()
        if field.secret:
            if raw:
                changes[field.name] = raw
            continue
        if raw != _shown(field.value):
            changes[field.name] = raw
    return changes


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return str(value)
