"""The plugin's settings (plugins.toml [plugins.push_jpush]) and how the code reads them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core import events
from core.plugins import load_settings

NAME = "push_jpush"
DEPLOYMENT = {"deployment": True}


class JpushSettings(ma.Schema):
    """Deployment settings: the JPush application (its secret from the environment)."""

    app_key = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^[0-9a-f]{24}$", error="not a JPush AppKey"),
        metadata={"description": "The JPush application's AppKey", **DEPLOYMENT})
    master_secret = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^[0-9a-f]{24}$",
                                                   error="not a JPush Master Secret"),
        metadata={"description": "Its Master Secret: {env = \"...\"}", "secret": True,
                  "from_env": True, **DEPLOYMENT})
    zone = ma.fields.String(load_default="default", validate=ma.validate.OneOf(["default", "bj"]),
                            metadata={"description": "JPush's data centre", **DEPLOYMENT})
    apns_production = ma.fields.Boolean(
        load_default=True, metadata={"description": "iOS pushes to the production APNs"
                                                   " (false: the development one)", **DEPLOYMENT})
    timeout_seconds = ma.fields.Integer(load_default=10, validate=ma.validate.Range(1, 60),
                                        metadata=DEPLOYMENT)
    pushes_per_minute = ma.fields.Integer(
        load_default=600, validate=ma.validate.Range(1, 100000),
        metadata={"description": "Pushes a minute for the whole deployment (every worker"
                                 " together; JPush's own limit is per AppKey)", **DEPLOYMENT})


def of(session: so.Session) -> dict[str, Any]:
    plugin = events.deployment(session).plugins[NAME]
    return load_settings(plugin.info, plugin.defaults)
