"""WeChat's server API as the plugin calls it: code2session, the phone number, the access token
(shared by every process), subscription messages. Plain HTTPS JSON through ``requests``."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import requests
from sqlalchemy import orm as so

from core import provider_tokens

log = logging.getLogger(__name__)

#: errcodes of a dead access token: forget it and fetch a new one
TOKEN_REFUSED = frozenset({40001, 40014, 42001})
#: errcodes of WeChat being busy or limiting: try again later
BUSY = frozenset({-1, 45009, 45011, 45047})


class WechatError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def _call(settings: dict[str, Any], method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """One call; a network failure or non-JSON answer is WechatError(-1), a refusal its errcode."""
    url = settings["api_base"].rstrip("/") + path
    try:
        answer = requests.request(method, url, timeout=settings["timeout_seconds"], **kwargs)
        body: dict[str, Any] = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise WechatError(-1, f"{type(exc).__name__}: {exc}"[:200]) from None
    if body.get("errcode"):
        raise WechatError(int(body["errcode"]), str(body.get("errmsg", "")))
    return body


def code2session(settings: dict[str, Any], code: str) -> dict[str, Any]:
    """The person's openid (and unionid) for the login code of ``wx.login``."""
    return _call(settings, "GET", "/sns/jscode2session", params={
        "appid": settings["app_id"], "secret": settings["app_secret"], "js_code": code,
        "grant_type": "authorization_code"})


def token_name(settings: dict[str, Any]) -> str:
    return f"wechat:{settings['app_id']}"


def access_token(session: so.Session, settings: dict[str, Any]) -> str:
    """The mini-program's access token, shared by every process (see core.provider_tokens)."""
    def fetch() -> tuple[str, dt.timedelta]:
        body = _call(settings, "GET", "/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": settings["app_id"],
            "secret": settings["app_secret"]})
        log.info("wechat: access token refreshed")
        return body["access_token"], dt.timedelta(seconds=int(body.get("expires_in", 7200)))

    return provider_tokens.shared(session, token_name(settings), fetch)


def with_token(session: so.Session, settings: dict[str, Any], method: str, path: str,
               **kwargs: Any) -> dict[str, Any]:
    """A call that needs the access token; a refused token is forgotten and fetched once more."""
    for attempt in (1, 2):
        params = {**kwargs.pop("params", {}), "access_token": access_token(session, settings)}
        try:
            return _call(settings, method, path, params=params, **kwargs)
        except WechatError as exc:
            if exc.errcode not in TOKEN_REFUSED or attempt == 2:
                raise
            provider_tokens.forget(session, token_name(settings))
            kwargs["params"] = {k: v for k, v in params.items() if k != "access_token"}
    raise AssertionError("unreachable")


def phone_number(session: so.Session, settings: dict[str, Any], code: str) -> str:
    """The verified number (E.164) for the code of the mini-program's getPhoneNumber button."""
    body = with_token(session, settings, "POST", "/wxa/business/getuserphonenumber",
                      json={"code": code})
    info = body["phone_info"]
    return f"+{info['countryCode']}{info['purePhoneNumber']}"


def send_subscription_message(session: so.Session, settings: dict[str, Any],
                              message: dict[str, Any]) -> None:
    with_token(session, settings, "POST", "/cgi-bin/message/subscribe/send", json=message)
