"""Firebase tests: the emulator tests run only under `firebase emulators:exec`, the others never.

`emulators:exec` exports FIREBASE_AUTH_EMULATOR_HOST to the whole command, and firebase-admin
then accepts unsigned tokens. So when the variable is set, only the tests marked
``firebase_emulator`` are kept; when it is absent, those are deselected (never skipped-as-passed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from plugins.firebase import sdk
from tests.plugins.firebase import google_standins

# A test that reached Application Default Credentials must fail, not probe a metadata server.
os.environ.setdefault("NO_GCE_CHECK", "true")

EMULATED = bool(os.environ.get(sdk.EMULATOR_VARIABLE))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        emulator_test = item.get_closest_marker("firebase_emulator") is not None
        (keep if emulator_test == EMULATED else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def google() -> Iterator[google_standins.GoogleStandIn]:
    """The stand-in for Google's endpoints (127.0.0.1), for the whole session."""
    standin, stop = google_standins.start()
    yield standin
    stop()


@pytest.fixture
def firebase(deployment: Any, google: google_standins.GoogleStandIn,
             monkeypatch: pytest.MonkeyPatch) -> google_standins.GoogleStandIn:
    """firebase-admin pointed at the stand-in (proxy + CA), push on, service-account credentials."""
    assert sdk.EMULATOR_VARIABLE not in os.environ, "RS256 and FCM tests run without the emulator"
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", google.proxy_url)
    monkeypatch.setenv("https_proxy", google.proxy_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", google.ca_file)
    settings = deployment.plugins["firebase"].defaults
    monkeypatch.setitem(settings, "credentials_file", google.service_account_file)
    monkeypatch.setitem(settings, "push", True)
    monkeypatch.setitem(settings, "check_revoked", False)
    google.reset()
    return google
