"""The plugin's settings (plugins.toml [plugins.wechat]) and how the code reads them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import orm as so

from core import events
from core.plugins import load_settings

NAME = "wechat"
DEPLOYMENT = {"deployment": True}
#: values of a template's data that are not a parameter of the notification
TEXT, TITLE = "$text", "$title"


class TemplateSchema(ma.Schema):
    """A notification's subscription message: the template and what fills each of its keys."""

    template_id = ma.fields.String(required=True, validate=ma.validate.Length(min=8, max=64))
    data = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Regexp(r"^[a-z_]+\d+$")),
        values=ma.fields.String(validate=ma.validate.Length(min=1, max=40)), required=True,
        metadata={"description": "Template key (thing1, time2...) -> a parameter of the"
                                 " notification, $text (its text) or $title"})
    long_term = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "A long-term subscription (government, public services"
                                 " mini-programs): one acceptance, many messages"})


class WechatSettings(ma.Schema):
    """Deployment settings of the mini-program; a station only switches the plugin on."""

    app_id = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^wx[0-9a-f]{16}$", error="not a WeChat AppID"),
        metadata={"description": "The mini-program's AppID", **DEPLOYMENT})
    app_secret = ma.fields.String(
        required=True, validate=ma.validate.Length(min=16, max=64),
        metadata={"description": "The mini-program's AppSecret: {env = \"...\"}", "secret": True,
                  **DEPLOYMENT})
    api_base = ma.fields.Url(
        load_default="https://api.weixin.qq.com", require_tld=False,
        metadata={"description": "WeChat's API (the tests point it at a stand-in)", **DEPLOYMENT})
    timeout_seconds = ma.fields.Integer(load_default=10, validate=ma.validate.Range(1, 60),
                                        metadata=DEPLOYMENT)
    templates = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Regexp(r"^[a-z0-9_]+\.[a-z0-9_]+$")),
        values=ma.fields.Nested(TemplateSchema), load_default=dict,
        metadata={"description": "Notification code -> its subscription message template",
                  **DEPLOYMENT})
    page = ma.fields.String(
        load_default="pages/index/index", validate=ma.validate.Regexp(r"^[A-Za-z0-9_/.-]+$"),
        metadata={"description": "The page a message opens; the target goes in its query",
                  **DEPLOYMENT})
    miniprogram_state = ma.fields.String(
        load_default="formal", validate=ma.validate.OneOf(["formal", "trial", "developer"]),
        metadata=DEPLOYMENT)
    sends_per_minute = ma.fields.Integer(
        load_default=600, validate=ma.validate.Range(1, 100000),
        metadata={"description": "Subscription messages a minute for the whole deployment"
                                 " (every worker together)", **DEPLOYMENT})


def of(session: so.Session) -> dict[str, Any]:
    return of_deployment(events.deployment(session))


def of_deployment(deployment: Any) -> dict[str, Any]:
    """The deployment's settings (plugins.toml only: a station only switches the plugin on)."""
    plugin = deployment.plugins[NAME]
    return load_settings(plugin.info, plugin.defaults)
