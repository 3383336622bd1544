"""The test client's judge: a response the served document does not describe fails the test."""

from __future__ import annotations

import marshmallow as ma
import pytest

from api import create_app
from api.smorest import Blueprint, Schema
from tests.fixtures.app import TEST_CONFIG
from tests.fixtures.contract import DocumentDrift, DocumentedClient


class ThingSchema(Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    note = ma.fields.String(allow_none=True)


def _app_with_wrong_answers(deployment):
    """A throwaway app with operations that answer what their document does not say."""
    app = create_app(TEST_CONFIG, deployment=deployment)
    blp = Blueprint("wrong", __name__, url_prefix="/api/v1/wrong")

    @blp.route("/right", methods=["GET"])
    @blp.doc(security=[])
    @blp.response(200, ThingSchema)
    def wrong_right():
        return {"id": 1, "name": "a", "note": None}

    @blp.route("/null-id", methods=["GET"])
    @blp.doc(security=[])
    @blp.response(200, ThingSchema)
    def wrong_null_id():
        return {"id": None, "name": "a"}

    @blp.route("/missing", methods=["GET"])
    @blp.doc(security=[])
    @blp.response(200, ThingSchema)
    def wrong_missing():
        return {"id": 1}

    @blp.route("/status", methods=["POST"])
    @blp.doc(security=[])
    @blp.response(201, ThingSchema)
    def wrong_status():
        return {"id": 1, "name": "a"}, 200

    @blp.route("/text", methods=["GET"])
    @blp.doc(security=[])
    @blp.response(200, ThingSchema)
    def wrong_text():
        return app.response_class("id=1", mimetype="text/plain")

    app.extensions["flask-smorest"]["apis"][""]["ext_obj"].register_blueprint(blp)
    app.test_client_class = DocumentedClient
    return app


@pytest.fixture(scope="module")
def wrong_app(deployment):
    return _app_with_wrong_answers(deployment)


def test_a_described_answer_passes(wrong_app, connection):
    assert wrong_app.test_client().get("/api/v1/wrong/right").status_code == 200


@pytest.mark.parametrize("method, path, problem", [
    ("GET", "/api/v1/wrong/null-id", "None for not nullable"),
    ("GET", "/api/v1/wrong/missing", "'name' is a required property"),
    ("POST", "/api/v1/wrong/status", "status 200 is not declared"),
    ("GET", "/api/v1/wrong/text", "content type 'text/plain' is not declared"),
])
def test_a_wrong_answer_fails_the_test(wrong_app, connection, method, path, problem):
    with pytest.raises(DocumentDrift, match=problem):
        wrong_app.test_client().open(path, method=method)


def test_undeclared_fields_and_a_bare_401_fail_too(app):
    from tests.fixtures.contract import contract_of

    contract = contract_of(app)
    problems = contract.problems("GET", "/api/v1/me", 200, {"Content-Type": "application/json"},
                                 b'{"id": 1, "secret": "x"}')
    assert any("'secret' was unexpected" in p for p in problems), problems
    problems = contract.problems("GET", "/api/v1/me", 401, {"Content-Type": "application/json"},
                                 b'{"code": "authentication_required", "message": "m", '
                                 b'"details": {}}')
    assert "header WWW-Authenticate missing" in problems
    assert "a 401 without WWW-Authenticate: Bearer" in problems


def test_the_suite_client_is_the_judged_one(client):
    assert isinstance(client, DocumentedClient)
