"""Bearer tokens, the signed-in person, and the per-phone and per-IP sign-in limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
import limits
import limits.storage
import limits.strategies
from flask import current_app, g, request

from api.unit_of_work import db
from core import clock, metrics, phones
from core.access import Actor, acting, load_actor, load_signed_in
from core.errors import Invalid, TooManyRequests, Unauthenticated
from core.models import AuthSession, User


def issue_tokens(auth: AuthSession, refresh_token: str, user: User) -> dict[str, Any]:
    """The token pair; the access token is a pure function of the rotation, so a retry repeats it."""
    ttl = current_app.config["ACCESS_TOKEN_TTL"]
    issued = auth.rotated_at
    claims = {
        "sub": str(user.id),
        "sid": auth.id,
        "iat": int(issued.timestamp()),
        "exp": int(issued.timestamp()) + ttl,
        "typ": "access",
    }
    access = jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm="HS256")
    expires_in = max(0, int(issued.timestamp()) + ttl - int(clock.now().timestamp()))
    return {"access_token": access, "refresh_token": refresh_token, "token_type": "Bearer",
            "expires_in": expires_in, "user": user}


def current_user() -> User:
    """The signed-in person, or 401.

    One statement: the session and the person, and for a request in a station (a ``station``
    in the URL) that station and the person's membership there, which ``actor`` then uses.
    """
    if "user" in g:
        return g.user
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthenticated("authentication_required")
    try:
        # exp is checked against core.clock below, not the wall clock, so tests can move time.
        claims = jwt.decode(
            header[7:], current_app.config["SECRET_KEY"], algorithms=["HS256"],
            options={"require": ["exp", "sid", "sub"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise Unauthenticated("invalid_token") from None
    if claims.get("typ") != "access" or claims["exp"] < clock.now().timestamp():
        raise Unauthenticated("invalid_token")
    code = (request.view_args or {}).get("station")
    if not isinstance(code, str):
        code = None
    try:
        signed_in = load_signed_in(db(), int(claims["sid"]), code)
    except (TypeError, ValueError, OverflowError):
        raise Unauthenticated("invalid_token") from None
    if signed_in is None or str(signed_in.user.id) != claims["sub"]:
        raise Unauthenticated("invalid_token")
    if signed_in.auth_session.revoked_at is not None or signed_in.user.erased_at is not None:
        raise Unauthenticated("session_revoked")
    g.user, g.auth_session = signed_in.user, signed_in.auth_session
    # Kept apart from the row: an error answered after a rollback still speaks their language.
    g.user_locale = signed_in.user.locale
    if code is not None:
        g.signed_in_at = (code, signed_in)
    return signed_in.user


def current_session() -> AuthSession:
    current_user()
    return g.auth_session


def public_view(view: Any) -> Any:
    """Mark a plugin view reached by a secret in its URL (a calendar feed), not a bearer token.

    The plugin gate then checks only that the station exists and has the plugin switched on;
    the view itself must check the secret.
    """
    view.wardens_public = True
    return view


def actor(code: str) -> Actor:
    """The signed-in person acting in station ``code`` (404 if they may not see it)."""
    cached = g.get("actor")
    if cached is not None and cached.station.code == code:
        return cached
    user = current_user()
    loaded = g.get("signed_in_at")
    if loaded is not None and loaded[0] == code:
        found = loaded[1]
        g.actor = acting(db(), user, found.station, found.membership, found.plugins_version)
    else:
        g.actor = load_actor(db(), code, user)
    # Kept apart from the row: an error answer renders times in it after a rollback.
    g.station_timezone = g.actor.station.timezone
    return g.actor


class SignInThrottle:
    """Failed sign-ins and registrations counted per phone and per IP, in Redis or memory."""

    def __init__(self, storage_uri: str, per_phone: str, per_ip: str) -> None:
        self.storage = limits.storage.storage_from_string(storage_uri)
        self.window = limits.strategies.MovingWindowRateLimiter(self.storage)
        self.per_phone = limits.parse(per_phone)
        self.per_ip = limits.parse(per_ip)

    def _items(self, phone: str | None) -> list[tuple[limits.RateLimitItem, str]]:
        items = [(self.per_ip, f"ip:{request.remote_addr}")]
        try:
            # One number has one budget however it is written (+86 138..., 0086138..., 138-...).
            key = phones.normalize(phone) if phone else None
        except Invalid:
            key = None  # not a number at all: the per-IP limit still counts it
        if key:
            items.append((self.per_phone, f"phone:{key}"))
        return items

    def check(self, action: str, phone: str | None) -> None:
        """Refuse with 429 and Retry-After when a limit is used up."""
        for item, key in self._items(phone):
            if not self.window.test(item, action, key):
                reset = self.window.get_window_stats(item, action, key).reset_time
                retry_after = max(1, int(reset - dt.datetime.now(dt.UTC).timestamp()) + 1)
                metrics.RATE_LIMIT_REFUSALS.labels(action).inc()
                raise TooManyRequests("rate_limited", retry_after=retry_after)

    def hit(self, action: str, phone: str | None) -> None:
        for item, key in self._items(phone):
            self.window.hit(item, action, key)

    def reset(self) -> None:
        self.storage.reset()
