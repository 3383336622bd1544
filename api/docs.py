"""Swagger UI served from the installed swagger-ui-bundle: stations may run on a closed network."""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

docs = Blueprint("docs", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wardens API</title>
<link rel="stylesheet" href="{css}"></head>
<body><div id="swagger-ui"></div>
<script src="{bundle}"></script>
<script>
window.ui = SwaggerUIBundle({{url: "{spec}", dom_id: "#swagger-ui", deepLinking: true}});
</script></body></html>"""


@docs.get("/api/docs")
def swagger_ui() -> Response:
    html = PAGE.format(
        css=url_for("docs.swagger_asset", filename="swagger-ui.css"),
        bundle=url_for("docs.swagger_asset", filename="swagger-ui-bundle.js"),
        spec=url_for("api-docs.openapi_json"),
    )
    return Response(html, mimetype="text/html")


@docs.get("/api/docs/assets/<path:filename>")
def swagger_asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
