"""Hostile bodies and paths are refused with a 4xx at the door, never a 500."""

from __future__ import annotations

import io

from api.unit_of_work import MAX_JSON_DEPTH


def test_deeply_nested_json_is_refused_before_anyone_signs_in(client):
    deep = "[" * 100_000 + "]" * 100_000
    answer = client.post("/api/v1/auth/token", data=deep, content_type="application/json")
    assert answer.status_code == 422
    assert answer.json["code"] == "json_too_deep"
    assert answer.json["details"] == {"max_depth": MAX_JSON_DEPTH}
    # Brackets inside strings are text, not nesting.
    text = '{"grant_type": "password", "phone": "' + "[" * 200 + '", "password": "x"}'
    assert client.post("/api/v1/auth/token", data=text,
                       content_type="application/json").json["code"] != "json_too_deep"


def test_deeply_nested_json_from_a_member_is_refused_too(client, world):
    station = world.station("east")
    admin = world.person("admin", station=station, roles=["admin"])
    deep = '{"name": ' + '{"a": ' * 70 + "1" + "}" * 70 + "}"
    answer = client.patch("/api/v1/stations/east", headers=admin.headers, data=deep,
                          content_type="application/json")
    assert answer.status_code == 422 and answer.json["code"] == "json_too_deep"


def test_a_device_named_by_a_superscript_digit_is_not_found(client, world):
    person = world.person("p")
    answer = client.delete("/api/v1/me/devices/²", headers=person.headers)
    assert answer.status_code == 404 and answer.json["code"] == "device_not_found"


def test_a_nul_escaped_inside_a_json_file_of_a_form_is_refused(client, world, session):
    from plugins.anti_fraud.models import Question

    station = world.station("east", plugins=("anti_fraud",))
    officer = world.person("officer", station=station, roles=["officer"])
    body = b'{"questions": [{"text": "a\\u0000b", "choices": ["x", "y"], "correct": "A"}]}'
    answer = client.post("/api/v1/stations/east/anti-fraud/questions/import",
                         headers=officer.headers, content_type="multipart/form-data",
                         data={"file": (io.BytesIO(body), "bank.json")})
    assert answer.status_code == 422 and answer.json["code"] == "nul_character"
    # A form field of any multipart request is text too.
    field = client.post("/api/v1/stations/east/anti-fraud/questions/import?format=json",
                        headers=officer.headers, content_type="multipart/form-data",
                        data={"note": "a\x00b", "file": (io.BytesIO(b"[]"), "bank.bin")})
    assert field.status_code == 422 and field.json["code"] == "nul_character"
    assert session.query(Question).filter_by(station_id=station.id).count() == 0
