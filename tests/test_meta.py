"""GET /api/v1/meta: what a phone app asks before signing in."""

from __future__ import annotations

import pytest

from api import create_app
from core.plugins import StartupError


def test_meta_names_the_api_version_the_oldest_app_and_the_plugins(client, app):
    answer = client.get("/api/v1/meta")  # nobody signed in
    assert answer.status_code == 200
    meta = answer.json
    assert meta["api_version"] == "1.1.0"
    assert meta["min_app_version"] == "1.0.0"
    assert meta["server_version"]
    names = {p["name"]: p["version"] for p in meta["plugins"]}
    assert set(names) == set(app.extensions["wardens"].plugins)
    assert all(v.count(".") == 2 for v in names.values())
    document = client.get("/api/openapi.json").json
    assert document["info"]["version"] == meta["api_version"]
    assert document["paths"]["/api/v1/meta"]["get"]["security"] == []


def test_the_oldest_app_version_is_a_deployment_setting(deployment, monkeypatch):
    from tests.fixtures.app import TEST_CONFIG

    raised = create_app({**TEST_CONFIG, "MIN_APP_VERSION": "2.3.0"}, deployment=deployment)
    with raised.test_client() as other:
        assert other.get("/api/v1/meta").json["min_app_version"] == "2.3.0"
    monkeypatch.setenv("WARDENS_MIN_APP_VERSION", "2.3")
    with pytest.raises(StartupError, match="WARDENS_MIN_APP_VERSION"):
        create_app(dict(TEST_CONFIG), deployment=deployment)
