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


def _typed(prop):
    return any(k in prop for k in ("type", "$ref", "allOf", "oneOf", "anyOf"))


def test_every_field_has_a_type_and_every_enum_its_type(client):
    spec = client.get("/api/openapi.json").json
    untyped = []
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if not _typed(prop) or (prop.get("type") == "array" and not _typed(prop["items"])):
                untyped.append(f"{name}.{field}")
            if "enum" in prop and "type" not in prop:
                untyped.append(f"{name}.{field} (enum)")
    assert untyped == []


def test_one_schema_name_per_schema(client):
    """A plugin's schemas carry its name once: CrossingGuardShift, not CrossingGuardCrossingShift."""
    names = client.get("/api/openapi.json").json["components"]["schemas"]
    prefixes = ("CrossingGuard", "CareVisits", "AntiFraud", "Patrol")
    doubled = [n for n in names for p in prefixes
               if n.startswith(p) and n.removeprefix(p).startswith(p[:5])]
    assert doubled == []


def test_headers_every_operation_honours_are_declared(client):
    spec = client.get("/api/openapi.json").json
    missing = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            names = {p.get("$ref", "").rsplit("/", 1)[-1] for p in op.get("parameters", [])}
            if "AcceptLanguage" not in names:
                missing.append(f"{method} {path}: Accept-Language")
            wants_key = method == "post" and not path.startswith("/api/v1/auth/")
            if wants_key != ("IdempotencyKey" in names):
                missing.append(f"{method} {path}: Idempotency-Key")
            if op.get("security") != [] and "401" not in op["responses"]:
                missing.append(f"{method} {path}: 401")
    assert missing == []
    unauthenticated = spec["components"]["responses"]["UNAUTHENTICATED"]
    assert "WWW-Authenticate" in unauthenticated["headers"]


def test_the_refresh_grace_and_reuse_are_documented(client):
    op = client.get("/api/openapi.json").json["paths"]["/api/v1/auth/token"]["post"]
    text = op["description"]
    assert "30 seconds" in text and "refresh_token_reused" in text
    assert "401" in op["responses"]


def test_each_operation_lists_its_error_codes(client):
    spec = client.get("/api/openapi.json").json
    members = spec["paths"]["/api/v1/stations/{station}/members"]["post"]
    codes = members["x-error-codes"]
    assert "role_required" in codes["403"] and "already_member" in codes["409"]
    assert {"invalid_phone", "validation_error"} <= set(codes["422"])
    assert "`already_member`" in members["responses"]["409"]["description"]
    scan = spec["paths"]["/api/v1/stations/{station}/patrol/patrols/{patrol_id}/scans"]["post"]
    assert "plugin_disabled" in scan["x-error-codes"]["404"]
    assert "code_replayed" in scan["x-error-codes"]["422"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert "x-error-codes" in op, (method, path)
