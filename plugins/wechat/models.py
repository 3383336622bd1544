"""The WeChat subscriptions a person accepted in the mini-program."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base


class WechatSubscription(Base):
    """One template a person accepted: a one-time acceptance allows one message (they add up),
    a long-term one allows messages until the person turns it off."""

    __tablename__ = "wechat_subscription"
    __table_args__ = (sa.UniqueConstraint("user_id", "template_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    template_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    long_term: so.Mapped[bool] = so.mapped_column(default=False)
    #: messages still allowed by one-time acceptances (unused for a long-term one)
    remaining: so.Mapped[int] = so.mapped_column(default=0)
    #: a long-term subscription the person turned off, or WeChat said is gone
    active: so.Mapped[bool] = so.mapped_column(default=True)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
