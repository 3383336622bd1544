"""WeChat mini-program: sign-in (grant_type wechat) and subscription messages as a delivery channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import orm as so

from core.hookspecs import Delivery, Identity, PluginInfo
from core.models import Notification, User
from core.plugins import hookimpl


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    from plugins.wechat import settings
    from plugins.wechat.messages import FIELD_MESSAGES, MESSAGES

    return PluginInfo(
        name=settings.NAME, version="1.0.0",
        description="WeChat mini-program sign-in and subscription messages",
        settings_schema=settings.WechatSettings, messages=MESSAGES,
        field_messages=FIELD_MESSAGES, package=__name__)


@hookimpl
def wardens_verify_identity(session: so.Session, grant_type: str,
                            payload: dict[str, Any]) -> Identity | None:
    if grant_type != "wechat":
        return None
    from plugins.wechat import identity, settings

    return identity.verify(session, settings.of(session), payload)


@hookimpl
def wardens_deliver_notifications(session: so.Session,
                                  notifications: list[Notification]) -> list[Delivery] | None:
    from plugins.wechat import settings, subscription_messages

    config = settings.of(session)
    if not config["templates"]:
        return None
    return subscription_messages.deliver(session, notifications, config)


@hookimpl
def wardens_register_blueprints() -> list[Any]:
    from plugins.wechat.api import blp

    return [blp]


@hookimpl
def wardens_export_user(session: so.Session, user: User) -> dict[str, Any]:
    from plugins.wechat import privacy

    return privacy.export_person(session, user)


@hookimpl
def wardens_user_erased(session: so.Session, user: User) -> None:
    from plugins.wechat import privacy

    privacy.erasure(session, user)
