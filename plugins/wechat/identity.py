"""Mini-program sign-in (grant_type wechat): the login code gives the openid (and unionid), the
phone-number code a verified number; the core links them and signs the person in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import orm as so

from core import events
from core.errors import Invalid, Unauthenticated, Unavailable
from core.hookspecs import Identity
from plugins.wechat import wechat_api
from plugins.wechat.wechat_api import WechatError

PROVIDER = "wechat"
UNION = "wechat_union"
#: errcodes of a code that is wrong, used or expired
BAD_CODE = frozenset({40029, 40163, 40226, 41008})


def verify(session: so.Session, settings: dict[str, Any], payload: dict[str, Any]) -> Identity:
    """The person behind a login code (and a phone-number code, needed the first time)."""
    code = payload.get("login_code")
    if not code:
        raise Invalid("validation_error",
                      fields={"json": {"login_code": ["Missing data for required field."]}})
    try:
        found = wechat_api.code2session(settings, code)
    except WechatError as exc:
        raise _refusal(exc, "wechat_code_invalid") from None
    phone = None
    if payload.get("phone_code"):
        # The access token may need refreshing: a short write transaction of its own, before
        # the request's.
        database = events.deployment(session).database
        try:
            with database.writer() as writer, writer.begin():
                phone = wechat_api.phone_number(writer, settings, payload["phone_code"])
        except WechatError as exc:
            raise _refusal(exc, "wechat_phone_code_invalid") from None
    unionid = found.get("unionid")
    return Identity(phone=phone, provider=PROVIDER, phone_verified=True,
                    subject=found["openid"], also=((UNION, unionid),) if unionid else ())


def _refusal(exc: WechatError, code: str) -> Exception:
    if exc.errcode in wechat_api.BUSY or exc.errcode not in BAD_CODE:
        return Unavailable("wechat_unavailable")
    return Unauthenticated(code)
