"""Firebase: phone sign-in (grant_type firebase) and push notifications by FCM, via firebase-admin."""

from __future__ import annotations

from typing import Any

from sqlalchemy import orm as so

from core.hookspecs import Delivery, Identity, PluginInfo
from core.models import Notification
from core.plugins import hookimpl
from plugins.firebase import identity, push, sdk, settings
from plugins.firebase.messages import FIELD_MESSAGES, MESSAGES


@hookimpl
def wardens_describe_plugin() -> PluginInfo:
    # Called once at start-up: the place to refuse a dangerous environment.
    sdk.refuse_emulator_in_production()
    return PluginInfo(
        name=settings.NAME, version="1.0.0",
        description="Firebase phone sign-in and push notifications (FCM)",
        settings_schema=settings.FirebaseSettings, messages=MESSAGES, field_messages=FIELD_MESSAGES,
        package=__name__,
        check_deployment=settings.check_credentials_file)


@hookimpl
def wardens_verify_identity(session: so.Session, grant_type: str,
                            payload: dict[str, Any]) -> Identity | None:
    if grant_type != "firebase":
        return None
    return identity.verify(settings.of(session), payload)


@hookimpl
def wardens_deliver_notifications(session: so.Session,
                                  notifications: list[Notification]) -> list[Delivery] | None:
    config = settings.of(session)
    if not config["push"]:
        return None
    return push.deliver(session, notifications, config)
