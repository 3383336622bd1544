"""An app with push_jpush, wechat and patrol installed; JPush and WeChat are local stand-ins.

Both stand-ins are at the machine's edge. JPush's client keeps its fixed address
(https://api.jpush.cn/v3/push): it reaches the stand-in through ``HTTPS_PROXY``, which
``requests`` honours, and trusts the stand-in's test authority through ``REQUESTS_CA_BUNDLE``,
as the Firebase tests reach Google. WeChat's is reached through the plugin's ``api_base``.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from tests.fixtures import standin
from tests.fixtures.providers import bound, dispose, provider_app
from tests.plugins.wechat.conftest import APP_ID, WechatApi

APP_KEY = "0123456789abcdef01234567"
MASTER_SECRET = "fedcba9876543210fedcba98"
ENV = {"TEST_JPUSH_SECRET": MASTER_SECRET, "TEST_WECHAT_SECRET": "test-wechat-app-secret-0123"}


@dataclass
class Jpush:
    """JPush as the tests arrange it: registration ids it no longer knows, a failing spell."""

    unknown: set[str] = field(default_factory=set)
    failing: bool = False
    pushes: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: standin.Request) -> tuple[int, Any]:
        expected = base64.b64encode(f"{APP_KEY}:{MASTER_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return 401, {"error": {"code": 1004, "message": "basic auth failed"}}
        if request.path != "/v3/push":
            return 404, {"error": {"code": 1000, "message": "not served by the stand-in"}}
        if self.failing:
            return 503, {"error": {"code": 1000, "message": "server busy"}}
        body = request.json()
        (registration_id,) = body["audience"]["registration_id"]
        if registration_id in self.unknown:
            return 400, {"error": {"code": 1011, "message": "cannot find user by this audience"}}
        with self.lock:
            self.pushes.append(body)
        return 200, {"sendno": "0", "msg_id": str(len(self.pushes))}


TOML = """
[plugins]
installed = ["patrol", "push_jpush", "wechat"]

[plugins.push_jpush]
app_key = "{app_key}"
master_secret = {{env = "TEST_JPUSH_SECRET"}}
apns_production = false
timeout_seconds = 5

[plugins.wechat]
app_id = "{app_id}"
app_secret = {{env = "TEST_WECHAT_SECRET"}}
api_base = "{wechat_url}"
timeout_seconds = 5

[plugins.wechat.templates."patrol.coverage_gap"]
template_id = "tpl-gap-0001"
data = {{thing1 = "grid", time2 = "since"}}
long_term = true
"""


@pytest.fixture(scope="session")
def jpush_api() -> Iterator[tuple[standin.StandIn, Jpush]]:
    api = Jpush()
    with standin.serve_through_proxy(("api.jpush.cn",), api) as server:
        yield server, api


@pytest.fixture(scope="session")
def china_wechat() -> Iterator[tuple[standin.StandIn, WechatApi]]:
    api = WechatApi()
    with standin.serve(api) as server:
        yield server, api


@pytest.fixture(scope="session")
def china_app(jpush_api: Any, china_wechat: Any, test_database_url: str, deployment: Any,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    app = provider_app(test_database_url, tmp_path_factory.mktemp("china"), TOML.format(
        app_key=APP_KEY, app_id=APP_ID, wechat_url=china_wechat[0].url))
    yield app
    dispose(app)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def through_proxy(jpush_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``requests`` reaches https://api.jpush.cn through the stand-in and trusts its authority."""
    server, api = jpush_api
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", server.proxy_url)
    monkeypatch.setenv("https_proxy", server.proxy_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_file)
    server.reset()
    api.pushes.clear()
    api.unknown.clear()
    api.failing = False


@pytest.fixture
def china(china_app: Flask, connection: Any, through_proxy: None, china_wechat: Any
          ) -> Iterator[Flask]:
    server, api = china_wechat
    server.reset()
    api.tokens.clear()
    api.sends.clear()
    api.send_errcode = 0
    yield from bound(china_app, connection)
