"""People and their sign-in state: users, sessions, push devices, texted codes, idempotency keys."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.db import Base


class User(Base):
    __tablename__ = "user_account"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # E.164; NULL once the person is erased, so the number can register again.
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(20), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(80))
    locale: so.Mapped[str] = so.mapped_column(sa.String(10), default="zh-CN")
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    phone_verified: so.Mapped[bool] = so.mapped_column(default=False)
    is_superuser: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    erased_at: so.Mapped[dt.datetime | None]


class IdentityLink(Base):
    """A way a person signs in: a provider's subject (a Firebase uid, a WeChat openid or
    unionid) bound to one account; unlinked by the person, deleted when they are erased."""

    __tablename__ = "identity_link"
    __table_args__ = (sa.UniqueConstraint("provider", "subject"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: "firebase", "wechat", "wechat_union"...
    provider: so.Mapped[str] = so.mapped_column(sa.String(20))
    subject: so.Mapped[str] = so.mapped_column(sa.String(128))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    last_used_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class AuthSession(Base):
    """One signed-in device: its refresh token (hashed) rotates on every refresh."""

    __tablename__ = "auth_session"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    refresh_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    previous_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)
    rotated_at: so.Mapped[dt.datetime]
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)
    revoked_at: so.Mapped[dt.datetime | None]
    provider: so.Mapped[str] = so.mapped_column(sa.String(20), default="password")


class Device(Base):
    """A phone's push token, tied to the session that registered it."""

    __tablename__ = "device"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    session_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("auth_session.id", ondelete="SET NULL")
    )
    token: so.Mapped[str] = so.mapped_column(sa.String(4096))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    platform: so.Mapped[str] = so.mapped_column(sa.String(16))
    #: the push service the token belongs to: "fcm" (Firebase) or "jpush" (inside China)
    service: so.Mapped[str] = so.mapped_column(sa.String(16), default="fcm",
                                               server_default="fcm")
    locale: so.Mapped[str] = so.mapped_column(sa.String(10), default="zh-CN")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now)


class IdempotencyKey(Base):
    """The first answer to a retried write, replayed for the same key and body."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    key: so.Mapped[str] = so.mapped_column(sa.String(128))
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))
    status_code: so.Mapped[int | None]
    body: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now, index=True)


class CodePurpose(enum.StrEnum):
    SIGN_IN = "sign_in"
    PASSWORD_RESET = "password_reset"
    VERIFY_PHONE = "verify_phone"


class PhoneCode(Base):
    """A code texted to a phone: only its keyed hash is kept, with the guesses made at it."""

    __tablename__ = "phone_code"
    __table_args__ = (sa.Index("ix_phone_code_phone_time", "phone", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    phone: so.Mapped[str] = so.mapped_column(sa.String(20))
    purpose: so.Mapped[CodePurpose]
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=clock.now, index=True)
    expires_at: so.Mapped[dt.datetime]
    # Set when the code was accepted, or superseded by a newer one: it is good once.
    used_at: so.Mapped[dt.datetime | None]
