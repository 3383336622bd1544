"""Text messages (SMS) inside mainland China through Alibaba Cloud Dysms, by its official SDK."""

from __future__ import annotations

from typing import Any

from sqlalchemy import orm as so

from core.hookspecs import Delivery, PluginInfo
from core.plugins import hookimpl


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from plugins.sms_aliyun import settings

    return PluginInfo(
        name=settings.NAME, version="1.0.0",
        description="Text messages (sign-in codes, reminders) by Alibaba Cloud SMS (Dysms)",
        settings_schema=settings.AliyunSettings, package=__name__,
        check_deployment=settings.check)


@hookimpl
def wardens_send_text(session: so.Session, phone: str, code: str, params: dict[str, Any],
                      locale: str) -> Delivery:
    from plugins.sms_aliyun import texts

    return texts.send(session, phone, code, params)
