"""The plugin's settings (plugins.toml [plugins.sms_tencent]) and how the code reads them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core import events, sms
from core.plugins import load_settings

NAME = "sms_tencent"
DEPLOYMENT = {"deployment": True}
SECRET = {"secret": True, "deployment": True}


class TencentSettings(ma.Schema):
    """Deployment settings: the account (from the environment), SMS app, sign, templates, limits."""

    secret_id = ma.fields.String(
        required=True, validate=ma.validate.Length(min=8, max=128),
        metadata={"description": "A CAM key's SecretId: {env = \"...\"}", **SECRET})
    secret_key = ma.fields.String(
        required=True, validate=ma.validate.Length(min=8, max=128),
        metadata={"description": "Its SecretKey: {env = \"...\"}", **SECRET})
    sdk_app_id = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^14\d{8}$", error="not an SMS SdkAppId"),
        metadata={"description": "The SMS application's SdkAppId (1400...)", **DEPLOYMENT})
    sign_name = ma.fields.String(
        required=True, validate=ma.validate.Length(min=2, max=40),
        metadata={"description": "The approved signature (签名)", **DEPLOYMENT})
    templates = sms.templates_field()
    region = ma.fields.String(load_default="ap-guangzhou",
                              validate=ma.validate.Regexp(r"^[a-z]{2}-[a-z]+$"),
                              metadata=DEPLOYMENT)
    endpoint = ma.fields.String(
        load_default="sms.tencentcloudapi.com", validate=ma.validate.Length(min=3, max=255),
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
    """At start-up: the core's code texts have templates (numeric ids), the endpoint is a host."""
    sms.check_templates(settings["templates"])
    for code, template in settings["templates"].items():
        if not template["template"].isdecimal():
            raise ValueError(f"templates.{code}.template: a Tencent template id is a number")
    if "/" in settings["endpoint"]:
        raise ValueError("endpoint: a host (and port), without a scheme or path")


def of(session: so.Session) -> dict[str, Any]:
    """The deployment's settings (plugins.toml only)."""
    plugin = events.deployment(session).plugins[NAME]
    return load_settings(plugin.info, plugin.defaults)
