"""A person's WeChat data: their subscriptions (their openid is an identity link of the core)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import export
from core.models import User
from plugins.wechat.models import WechatSubscription


def export_person(session: so.Session, user: User) -> dict[str, Any]:
    return {"subscriptions": export.rows(session, WechatSubscription,
                                         WechatSubscription.user_id == user.id)}


def erasure(session: so.Session, user: User) -> None:
    session.execute(sa.delete(WechatSubscription).where(WechatSubscription.user_id == user.id))
