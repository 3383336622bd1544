"""An app with wechat (and patrol) installed, pointed at a local stand-in for WeChat's API.

The stand-in is at the machine's edge: a local HTTP server speaking the mini-program server API
(``/sns/jscode2session``, ``/cgi-bin/token``, ``/wxa/business/getuserphonenumber``,
``/cgi-bin/message/subscribe/send``), reached through the plugin's public ``api_base`` setting.
The AppSecret comes from the environment.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from core.plugins import hookimpl
from tests.fixtures import standin
from tests.fixtures.providers import bound, dispose, provider_app

APP_ID = "wx0123456789abcdef"
SECRET = "test-wechat-app-secret-0123"
ENV = {"TEST_WECHAT_SECRET": SECRET}


@dataclass
class WechatApi:
    """WeChat as the tests arrange it: login codes -> people, phone codes -> numbers."""

    logins: dict[str, dict[str, str]] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)
    #: errcode the next subscription sends answer (0: sent)
    send_errcode: int = 0
    sends: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def person(self, openid: str, unionid: str | None = None) -> str:
        """A fresh login code (codes are single-use) for the person ``openid``."""
        code = uuid.uuid4().hex
        self.logins[code] = {"openid": openid, **({"unionid": unionid} if unionid else {})}
        return code

    def phone_code(self, phone: str) -> str:
        code = uuid.uuid4().hex
        self.phones[code] = phone
        return code

    def __call__(self, request: standin.Request) -> tuple[int, Any]:
        if request.path == "/cgi-bin/token":
            assert request.query["appid"] == APP_ID and request.query["secret"] == SECRET
            with self.lock:
                token = f"token-{len(self.tokens) + 1}"
                self.tokens.append(token)
            return 200, {"access_token": token, "expires_in": 7200}
        if request.path == "/sns/jscode2session":
            assert request.query["secret"] == SECRET
            found = self.logins.pop(request.query["js_code"], None)
            if found is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            return 200, {**found, "session_key": "k"}
        if request.query.get("access_token") not in self.tokens:
            return 200, {"errcode": 40001, "errmsg": "invalid credential"}
        if request.path == "/wxa/business/getuserphonenumber":
            phone = self.phones.pop(request.json()["code"], None)
            if phone is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            return 200, {"errcode": 0, "phone_info": {
                "phoneNumber": phone[3:], "purePhoneNumber": phone[3:], "countryCode": "86"}}
        if request.path == "/cgi-bin/message/subscribe/send":
            self.sends.append(request.json())
            if self.send_errcode:
                return 200, {"errcode": self.send_errcode, "errmsg": "refused"}
            return 200, {"errcode": 0, "errmsg": "ok"}
        return 404, {"errcode": 404, "errmsg": "not served by the stand-in"}


TOML = """
[plugins]
installed = ["patrol", "wechat"]

[plugins.wechat]
app_id = "{app_id}"
app_secret = {{env = "TEST_WECHAT_SECRET"}}
api_base = "{url}"
timeout_seconds = 5
page = "pages/open/index"

[plugins.wechat.templates."patrol.coverage_gap"]
template_id = "tpl-gap-0001"
data = {{thing1 = "grid", time2 = "since", thing3 = "$text"}}

[plugins.wechat.templates."core.task_cancelled"]
template_id = "tpl-task-0002"
data = {{thing1 = "title"}}
long_term = true
"""


class Texts:
    """A text provider of the test's (an inline plugin): keeps the codes it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    @hookimpl
    def wardens_send_text(self, session: Any, phone: str, code: str, params: dict[str, Any],
                          locale: str) -> bool:
        self.sent.append({"phone": phone, "params": params})
        return True


@pytest.fixture(scope="session")
def wechat_api() -> Iterator[tuple[standin.StandIn, WechatApi]]:
    api = WechatApi()
    with standin.serve(api) as server:
        yield server, api


@pytest.fixture(scope="session")
def wechat_app(wechat_api: Any, test_database_url: str, deployment: Any,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    app = provider_app(test_database_url, tmp_path_factory.mktemp("wechat"),
                       TOML.format(app_id=APP_ID, url=wechat_api[0].url))
    yield app
    dispose(app)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def wechat(wechat_app: Flask, connection: Any, wechat_api: Any) -> Iterator[Any]:
    server, api = wechat_api
    server.reset()
    api.tokens.clear()
    api.sends.clear()
    api.send_errcode = 0
    yield from bound(wechat_app, connection)


@pytest.fixture
def texts(wechat_app: Flask) -> Iterator[Texts]:
    box = Texts()
    pm = wechat_app.extensions["wardens"].pm
    pm.register(box, name="test-texts")
    try:
        yield box
    finally:
        pm.unregister(name="test-texts")
