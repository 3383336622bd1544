"""An app with sms_aliyun installed, the SDK pointed at a local stand-in for Dysms.

The stand-in is at the machine's edge: a local HTTP server speaking Dysms' SendSms (RPC:
parameters in the query, a JSON answer with ``Code``), reached through the SDK's public
``endpoint`` and ``protocol`` settings in plugins.toml. Credentials come from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.fixtures import standin
from tests.fixtures.providers import bound, dispose, provider_app

ENV = {"TEST_ALIYUN_KEY_ID": "LTAI-test-key-id", "TEST_ALIYUN_KEY_SECRET": "test-key-secret"}


class Dysms:
    """What the stand-in answers next: Dysms' code, or an HTTP failure."""

    def __init__(self) -> None:
        self.code = "OK"
        self.status = 200

    def __call__(self, request: standin.Request) -> tuple[int, Any]:
        if self.status != 200:
            return self.status, {"Code": "isp.SYSTEM_ERROR", "Message": "busy",
                                 "RequestId": "r-1"}
        return 200, {"Code": self.code, "Message": "OK" if self.code == "OK" else "refused",
                     "RequestId": "r-1", "BizId": "b-1"}


TOML = """
[plugins]
installed = ["sms_aliyun"]

[plugins.sms_aliyun]
access_key_id = {{env = "TEST_ALIYUN_KEY_ID"}}
access_key_secret = {{env = "TEST_ALIYUN_KEY_SECRET"}}
sign_name = "平安守望"
endpoint = "{endpoint}"
protocol = "http"
timeout_seconds = 5

[plugins.sms_aliyun.templates]
sign_in_code = {{template = "SMS_100", params = ["code", "minutes"]}}
password_reset_code = {{template = "SMS_101", params = ["code", "minutes"]}}
phone_verification_code = {{template = "SMS_102", params = ["code", "minutes"], sign_name = "守望核验"}}
"care_visits.ack_code" = {{template = "SMS_200", params = ["pin", "minutes"]}}
"""


@pytest.fixture(scope="session")
def dysms() -> Iterator[tuple[standin.StandIn, Dysms]]:
    behaviour = Dysms()
    with standin.serve(behaviour) as server:
        yield server, behaviour


@pytest.fixture(scope="session")
def aliyun_app(dysms: Any, test_database_url: str, deployment: Any,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    app = provider_app(test_database_url, tmp_path_factory.mktemp("aliyun"),
                       TOML.format(endpoint=dysms[0].endpoint))
    yield app
    dispose(app)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def aliyun(aliyun_app: Flask, connection: Any, dysms: Any) -> Iterator[Any]:
    server, behaviour = dysms
    server.reset()
    behaviour.code, behaviour.status = "OK", 200
    yield from bound(aliyun_app, connection)
