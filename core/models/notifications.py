"""The notification outbox and in-app inbox: a code, parameters and a target, rendered on reading."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"  # nothing to push to: the inbox is the delivery
    FAILED = "failed"


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        sa.Index("ix_notification_user_created", "user_id", "created_at"),
        sa.Index("ix_notification_delivery", "delivery_status", "next_attempt_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("station.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    params: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    # What the app opens: {"kind": "task", "task_id": 5} (the station is the row's).
    target: so.Mapped[dict[str, Any] | None]
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    read_at: so.Mapped[dt.datetime | None]
    delivery_status: so.Mapped[DeliveryStatus] = so.mapped_column(default=DeliveryStatus.PENDING)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    claimed_by: so.Mapped[str | None] = so.mapped_column(sa.String(96))
    claimed_at: so.Mapped[dt.datetime | None]
    delivered_at: so.Mapped[dt.datetime | None]
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)


class NoticeAudience(enum.StrEnum):
    STATION = "station"  # every member
    GROUP = "group"      # the members of one group
    ROLE = "role"        # the members holding one role


class Notice(Base):
    """An officer's notice to many: what was sent, to whom, by whom; each copy is a notification."""

    __tablename__ = "notice"
    __table_args__ = (
        sa.Index("ix_notice_station_sent", "station_id", "sent_at"),
        sa.Index("ix_notice_sender_sent", "station_id", "sent_by", "sent_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    station_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("station.id"))
    sent_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    audience: so.Mapped[NoticeAudience]
    # The group as it was named when the notice went out (it may be renamed or deleted later).
    group_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("station_group.id", ondelete="SET NULL"))
    group_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    role: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    title: so.Mapped[str] = so.mapped_column(sa.String(80))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    target: so.Mapped[dict[str, Any] | None]
    recipients: so.Mapped[int] = so.mapped_column(default=0)
    sent_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class NotificationDelivery(Base):
    """One channel's delivery of a notification (inbox, fcm, jpush, wechat...): its own status,
    tries, next try and error, so a failing channel is retried while the others stay done."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        sa.UniqueConstraint("notification_id", "channel"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    notification_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("notification.id", ondelete="CASCADE"))
    #: the plugin that delivered it, or "inbox" (the core's in-app inbox)
    channel: so.Mapped[str] = so.mapped_column(sa.String(40))
    status: so.Mapped[DeliveryStatus] = so.mapped_column(default=DeliveryStatus.PENDING)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    delivered_at: so.Mapped[dt.datetime | None]
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)


class TextMessage(Base):
    """A text message (SMS) waiting to leave or gone: sent after the request commits, or by the
    worker, never inside a request's write transaction. Its parameters (a sign-in code) are
    cleared once it is sent or given up."""

    __tablename__ = "text_message"
    __table_args__ = (
        sa.Index("ix_text_message_due", "status", "next_attempt_at"),
        sa.Index("ix_text_message_phone_created", "phone", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    phone: so.Mapped[str] = so.mapped_column(sa.String(20))
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    params: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    locale: so.Mapped[str] = so.mapped_column(sa.String(10), default="zh-CN")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    status: so.Mapped[DeliveryStatus] = so.mapped_column(default=DeliveryStatus.PENDING)
    #: the provider (plugin) that took it
    provider: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    claimed_by: so.Mapped[str | None] = so.mapped_column(sa.String(96))
    claimed_at: so.Mapped[dt.datetime | None]
    sent_at: so.Mapped[dt.datetime | None]
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)


class SendBudget(Base):
    """How many sends one key (a provider, a provider and a number) used in one fixed window:
    shared by every process, so two workers together never pass a provider's limit."""

    __tablename__ = "send_budget"

    key: so.Mapped[str] = so.mapped_column(sa.String(160), primary_key=True)
    window_start: so.Mapped[dt.datetime] = so.mapped_column(primary_key=True)
    used: so.Mapped[int] = so.mapped_column(default=0)


class ProviderToken(Base):
    """A provider's access token (WeChat's), fetched once and shared by every process until it
    is close to expiry; refreshed by whoever holds the row's lock."""

    __tablename__ = "provider_token"

    name: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    value: so.Mapped[str | None] = so.mapped_column(sa.Text)
    expires_at: so.Mapped[dt.datetime | None]
    refreshed_at: so.Mapped[dt.datetime | None]
