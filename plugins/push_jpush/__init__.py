"""Push inside mainland China through JPush (Android vendor channels and iOS), by its official
Python client."""

from __future__ import annotations

from sqlalchemy import orm as so

from core.hookspecs import Delivery, PluginInfo
from core.models import Notification
from core.plugins import hookimpl


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from plugins.push_jpush import settings

    return PluginInfo(
        name=settings.NAME, version="1.0.0",
        description="Push notifications inside mainland China by JPush (极光推送)",
        settings_schema=settings.JpushSettings, package=__name__)


@hookimpl
def wardens_deliver_notifications(session: so.Session,
                                  notifications: list[Notification]) -> list[Delivery] | None:
    from plugins.push_jpush import pushes, settings

    return pushes.deliver(session, notifications, settings.of(session))
