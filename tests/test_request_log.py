"""Request logs: one JSON line per request with its id (taken or made, and answered), route,
status, duration, station and user; a whole run's log holds no token, password or code."""

from __future__ import annotations

import json
import logging

import pytest

from core import clock
from core.jobs import run_due_jobs
from core.logs import JsonFormatter
from tests.fixtures.people import PASSWORD


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.DEBUG)
    formatter = JsonFormatter()

    def read(logger="wardens.request"):
        return [json.loads(formatter.format(r)) for r in caplog.records if r.name == logger]

    read.everything = lambda: "\n".join(formatter.format(r) for r in caplog.records)
    return read


def test_each_request_is_one_json_line_with_its_id(client, world, lines):
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    given = client.get("/api/v1/stations/east/tasks", headers={
        **officer.headers, "X-Request-ID": "proxy-id-0001"})
    made = client.get("/api/v1/stations/east/tasks", headers={
        **officer.headers, "X-Request-ID": "bad id with spaces; and {json}"})
    assert given.headers["X-Request-ID"] == "proxy-id-0001"
    assert made.headers["X-Request-ID"] != "bad id with spaces; and {json}"
    assert len(made.headers["X-Request-ID"]) == 32
    found = {line["request_id"]: line for line in lines()}
    line = found["proxy-id-0001"]
    assert {k: line[k] for k in ("method", "route", "status", "station", "user_id")} == {
        "method": "GET", "route": "/api/v1/stations/<station>/tasks", "status": 200,
        "station": "east", "user_id": officer.id}
    assert line["level"] == "info" and line["duration_ms"] >= 0
    assert made.headers["X-Request-ID"] in found
    # a refused request is logged with its status, and no user for a missing token
    refused = client.get("/api/v1/stations/east/tasks")
    assert found_line(lines(), refused)["status"] == 401
    assert found_line(lines(), refused)["user_id"] is None


def found_line(all_lines, answer):
    return next(line for line in all_lines if line["request_id"] == answer.headers["X-Request-ID"])


def test_a_whole_runs_log_holds_no_secret(client, world, lines, outbox):
    east = world.station("east")
    volunteer = world.person("volunteer", station=east, roles=["volunteer"])
    signed = client.post("/api/v1/auth/token", json={
        "grant_type": "password", "phone": volunteer.phone, "password": PASSWORD})
    access, refresh = signed.json["access_token"], signed.json["refresh_token"]
    client.post("/api/v1/auth/token", json={"grant_type": "refresh_token",
                                             "refresh_token": refresh})
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})
    sent = client.post("/api/v1/me/phone-verification",
                       headers={"Authorization": f"Bearer {access}"})
    assert sent.status_code == 202
    code = outbox.code_for(volunteer.phone)
    run_due_jobs(world.client.application.extensions["wardens"], clock.now())
    text = lines.everything()
    assert '"logger": "wardens.request"' in text and '"logger": "core.jobs"' in text
    for secret in (access, refresh, PASSWORD, volunteer.phone, code):
        assert secret not in text


def test_a_job_run_is_one_json_line(world, lines):
    world.station("east")
    deployment = world.client.application.extensions["wardens"]
    run_due_jobs(deployment, clock.now())
    ran = lines("core.jobs")
    assert ran and all({"job", "duration_ms", "error"} <= set(line) for line in ran)
    assert any(line["job"] == "core.purge_phone_codes" and line["error"] is False for line in ran)
