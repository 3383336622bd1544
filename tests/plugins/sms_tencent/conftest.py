"""An app with sms_tencent installed, the SDK pointed at a local stand-in for Tencent Cloud SMS.

The stand-in is at the machine's edge: a local HTTP server speaking SendSms of API 2021-01-11
(a JSON body, ``X-TC-Action``, an answer with ``SendStatusSet`` or ``Error``), reached through
the SDK's public ``HttpProfile(endpoint, protocol)``, set by plugins.toml ``endpoint`` and
``protocol``. Credentials come from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.fixtures import standin
from tests.fixtures.providers import bound, dispose, provider_app

ENV = {"TEST_TENCENT_SECRET_ID": "AKID-test-secret-id", "TEST_TENCENT_SECRET_KEY": "test-secret-key"}


class TencentSms:
    """What the stand-in answers next: a number's status code, or a whole-request error."""

    def __init__(self) -> None:
        self.code = "Ok"
        self.error: str | None = None

    def __call__(self, request: standin.Request) -> tuple[int, Any]:
        if self.error:
            return 200, {"Response": {"Error": {"Code": self.error, "Message": "refused"},
                                      "RequestId": "r-1"}}
        body = request.json()
        return 200, {"Response": {"SendStatusSet": [
            {"SerialNo": "s-1", "PhoneNumber": phone, "Fee": 1, "SessionContext": "",
             "Code": self.code, "Message": "send success" if self.code == "Ok" else "refused",
             "IsoCode": "CN"} for phone in body["PhoneNumberSet"]], "RequestId": "r-1"}}


TOML = """
[plugins]
installed = ["sms_tencent"]

[plugins.sms_tencent]
secret_id = {{env = "TEST_TENCENT_SECRET_ID"}}
secret_key = {{env = "TEST_TENCENT_SECRET_KEY"}}
sdk_app_id = "1400123456"
sign_name = "平安守望"
endpoint = "{endpoint}"
protocol = "http"
timeout_seconds = 5

[plugins.sms_tencent.templates]
sign_in_code = {{template = "2001", params = ["code", "minutes"]}}
password_reset_code = {{template = "2002", params = ["code", "minutes"]}}
phone_verification_code = {{template = "2003", params = ["code", "minutes"]}}
"""


@pytest.fixture(scope="session")
def tencent_sms() -> Iterator[tuple[standin.StandIn, TencentSms]]:
    behaviour = TencentSms()
    with standin.serve(behaviour) as server:
        yield server, behaviour


@pytest.fixture(scope="session")
def tencent_app(tencent_sms: Any, test_database_url: str, deployment: Any,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    app = provider_app(test_database_url, tmp_path_factory.mktemp("tencent"),
                       TOML.format(endpoint=tencent_sms[0].endpoint))
    yield app
    dispose(app)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def tencent(tencent_app: Flask, connection: Any, tencent_sms: Any) -> Iterator[Any]:
    server, behaviour = tencent_sms
    server.reset()
    behaviour.code, behaviour.error = "Ok", None
    yield from bound(tencent_app, connection)
