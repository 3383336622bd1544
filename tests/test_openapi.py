"""The OpenAPI document: every operation has a unique operationId; docs served locally."""

from __future__ import annotations


def test_every_operation_has_a_unique_operation_id(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    ids = [op.get("operationId") for item in spec["paths"].values()
           for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]
    assert ids and None not in ids
    assert len(ids) == len(set(ids))
    assert {"auth_token", "stations_create", "members_list"} <= set(ids)


def test_errors_are_documented_in_our_shape(client):
    spec = client.get("/api/openapi.json").json
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "message", "details"}


def test_swagger_ui_is_served_from_this_machine(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/api/docs/assets/{asset}" in html
        served = client.get(f"/api/docs/assets/{asset}")
        assert served.status_code == 200 and len(served.data) > 10_000
