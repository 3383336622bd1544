"""The plugin's settings (plugins.toml [plugins.sms_aliyun]) and how the code reads them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core import events, sms
from core.plugins import load_settings

NAME = "sms_aliyun"
DEPLOYMENT = {"deployment": True}
SECRET = {"secret": True, "deployment": True}


class AliyunSettings(ma.Schema):
    """Deployment settings: the account (from the environment), sign name, templates, limits."""

    access_key_id = ma.fields.String(
        required=True, validate=ma.validate.Length(min=8, max=64),
        metadata={"description": "A RAM user's AccessKey ID: {env = \"...\"}", **SECRET})
    access_key_secret = ma.fields.String(
        required=True, validate=ma.validate.Length(min=8, max=128),
        metadata={"description": "Its AccessKey secret: {env = \"...\"}", **SECRET})
    sign_name = ma.fields.String(
        required=True, validate=ma.validate.Length(min=2, max=40),
        metadata={"description": "The approved sign name (签名)", **DEPLOYMENT})
    templates = sms.templates_field()
    endpoint = ma.fields.String(
        load_default="dysmsapi.aliyuncs.com", validate=ma.validate.Length(min=3, max=255),
        metadata={"description": "The API's host (and port)", **DEPLOYMENT})
    protocol = ma.fields.String(load_default="https", validate=ma.validate.OneOf(["https", "http"]),
                                metadata=DEPLOYMENT)
    timeout_seconds = ma.fields.Integer(load_default=10, validate=ma.validate.Range(1, 60),
                                        metadata=DEPLOYMENT)
    per_number_per_hour = ma.fields.Integer(
        load_default=5, validate=ma.validate.Range(1, 100),
        metadata={"description": "Texts to one number in an hour, then they wait", **DEPLOYMENT})
    per_deployment_per_minute = ma.fields.Integer(
        load_default=100, validate=ma.validate.Range(1, 10000),
        metadata={"description": "Texts in a minute for the whole deployment", **DEPLOYMENT})


def check(settings: dict[str, Any]) -> None:
    """At start-up: the core's code texts have templates, the endpoint is a host."""
    sms.check_templates(settings["templates"])
    if "/" in settings["endpoint"]:
        raise ValueError("endpoint: a host (and port), without a scheme or path")


def of(session: so.Session) -> dict[str, Any]:
    """The deployment's settings (plugins.toml only)."""
    plugin = events.deployment(session).plugins[NAME]
    return load_settings(plugin.info, plugin.defaults)
