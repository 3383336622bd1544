"""Bad input on every write endpoint and every list: a 4xx with a code, and nothing written.

The endpoints come from the OpenAPI document, so a new endpoint (a plugin's too) is covered
without touching this file.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.db import Base

BAD_BODIES = {
    "malformed_json": (b'{"name": "x",', "application/json", {400}, {"invalid_json"}),
    "wrong_types": (b'{"name": 12, "phone": [1], "roles": "admin", "kind": {"a": 1},'
                    b' "title": false, "text": 3.5}', "application/json", {422},
                    {"validation_error"}),
    "not_an_object": (b"[1, 2, 3]", "application/json", {422}, {"validation_error"}),
    "nul_character": (b'{"name": "a\\u0000b", "title": "a\\u0000b"}', "application/json", {422},
                      {"nul_character"}),
    "two_megabytes": (b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}', "application/json",
                      {413}, {"payload_too_large"}),
}


def row_counts(session) -> dict[str, int]:
    return {t.name: session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in Base.metadata.sorted_tables}


def operations(app, want_body: bool):
    with app.test_request_context():
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("post", "put", "patch", "get", "delete"):
                continue
            content = op.get("requestBody", {}).get("content", {})
            # A file upload's JSON form is a file, judged by its importer (422 import_invalid).
            if want_body and "application/json" in content and "multipart/form-data" not in content:
                yield method, path, op
            if not want_body and any(p.get("name") == "page_size" for p in op.get("parameters", [])):
                yield method, path, op


@pytest.fixture
def staff(world, session):
    plugins = tuple(world.client.application.extensions["wardens"].plugins)
    station = world.station("east", plugins=plugins)
    person = world.person("boss", station=station, roles=["admin", "officer", "volunteer"])
    person.user.is_superuser = True
    session.commit()
    return person


def fill(path: str) -> str:
    path = path.replace("{station}", "east")
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_every_write_endpoint_refuses_bad_bodies_and_writes_nothing(app, client, session, staff,
                                                                    case):
    body, content_type, statuses, codes = BAD_BODIES[case]
    before = row_counts(session)
    checked = 0
    for method, path, _op in operations(app, want_body=True):
        answer = client.open(fill(path), method=method.upper(), data=body,
                             headers={**staff.headers, "Content-Type": content_type})
        assert answer.status_code in statuses, (case, method, path, answer.status_code,
                                                answer.get_data(as_text=True)[:300])
        assert answer.json["code"] in codes, (case, method, path, answer.json)
        assert answer.json["message"]
        checked += 1
    assert checked >= 10
    assert row_counts(session) == before


def test_every_list_refuses_a_huge_page_size(app, client, session, staff):
    checked = 0
    for method, path, _op in operations(app, want_body=False):
        answer = client.open(fill(path) + "?page_size=100000", method=method.upper(),
                             headers=staff.headers)
        assert answer.status_code == 422, (path, answer.json)
        assert answer.json["code"] == "page_size_too_large"
        assert answer.json["details"] == {"max": 100}
        checked += 1
    assert checked >= 5


def test_lists_are_paginated_with_headers(client, staff):
    answer = client.get("/api/v1/stations/east/members?page_size=1", headers=staff.headers)
    assert answer.status_code == 200 and len(answer.json) == 1
    assert '"total": 2' in answer.headers["X-Pagination"]


def test_nul_in_a_query_string_is_refused(client, staff):
    answer = client.get("/api/v1/stations/east/members?q=a%00b", headers=staff.headers)
    assert answer.status_code == 422 and answer.json["code"] == "nul_character"


def test_unknown_paths_and_methods_answer_json(client, staff):
    missing = client.get("/api/v1/nothing-here", headers=staff.headers)
    assert missing.status_code == 404 and missing.json["code"] == "not_found"
    wrong = client.put("/api/v1/me", headers=staff.headers, json={})
    assert wrong.status_code == 405 and wrong.json["code"] == "method_not_allowed"
