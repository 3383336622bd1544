"""The core's own plugin: default providers (registered last, so plugins replace them), jobs."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import orm as so

from core import messages
from core.hookspecs import Delivery, PluginInfo
from core.models import Notification
from core.plugins import hookimpl

log = logging.getLogger("wardens.sms")


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    return PluginInfo(name="core", version="1", points_rules={"core.task_completed": 0})


@hookimpl(trylast=True)
def wardens_verify_identity(session: so.Session, grant_type: str, payload: dict[str, Any]) -> None:
    return None  # only password and refresh_token, which the core handles itself


@hookimpl(trylast=True)
def wardens_deliver_notification(session: so.Session, notification: Notification) -> Delivery:
    return Delivery("skipped")  # the in-app inbox is the delivery


@hookimpl(trylast=True)
def wardens_send_text(session: so.Session, phone: str, code: str, params: dict[str, Any],
                      locale: str) -> bool:
    log.warning("SMS to %s: %s", phone, messages.render(code, locale, params))
    return True
