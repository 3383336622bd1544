"""GET /metrics: requests by route template, jobs, sign-ins, limits, the pool and the outbox;
refused without the deployment's token (or from afar without one); no secret in it; the sample
Grafana dashboard asks only for metrics it serves."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api import create_app
from core import clock, notifications
from core.db import Database
from core.jobs import run_due_jobs
from tests.fixtures.app import TEST_CONFIG
from tests.fixtures.people import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
TOKEN = "scrape-token-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def scrape(client, **headers):
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.data[:300]
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    return answer.get_data(as_text=True)


def value(text, name, **labels):
    """A sample's value (0 when the series does not exist yet: a counter not yet counted)."""
    wanted = {key: str(v) for key, v in labels.items()}
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == wanted:
                return found.value
    return 0.0


def test_a_request_counts_once_under_its_route_template_and_status(client):
    route = "/api/v1/stations/<station>/tasks"
    before = scrape(client)
    assert client.get("/api/v1/stations/secret-looking-code/tasks").status_code == 401
    after = scrape(client)
    counted = {"method": "GET", "route": route, "status": "401"}
    assert value(after, "wardens_http_requests_total", **counted) == value(
        before, "wardens_http_requests_total", **counted) + 1
    assert value(after, "wardens_http_request_duration_seconds_count", method="GET",
                 route=route) == value(before, "wardens_http_request_duration_seconds_count",
                                       method="GET", route=route) + 1
    assert "secret-looking-code" not in after  # the path is never a label
    missing = {"method": "GET", "route": "(none)", "status": "404"}
    client.get("/no/such/page")
    assert value(scrape(client), "wardens_http_requests_total", **missing) == value(
        after, "wardens_http_requests_total", **missing) + 1


def test_job_runs_and_failures_are_counted_per_job(client, world, flaky):
    world.station("east", plugins=("flaky",))
    world.station("west", plugins=("flaky",))
    before = scrape(client)
    run_due_jobs(flaky, NOON)
    after = scrape(client)

    def grew(name, job):
        return value(after, name, job_name=job) - value(before, name, job_name=job)

    assert grew("wardens_job_runs_total", "flaky.boom") == 2
    assert grew("wardens_job_failures_total", "flaky.boom") == 2
    assert grew("wardens_job_runs_total", "flaky.steady") == 2
    assert grew("wardens_job_failures_total", "flaky.steady") == 0
    assert grew("wardens_job_runs_total", "flaky.nightly") == 1


def test_sign_ins_by_outcome_and_rate_limit_refusals(deployment, world):
    app = create_app({**TEST_CONFIG, "AUTH_LIMIT_PER_PHONE": "2/minute"}, deployment=deployment)
    client = app.test_client()
    person = world.person("volunteer")
    before = scrape(client)
    for password in (PASSWORD, "wrong-password-1", "wrong-password-2"):
        client.post("/api/v1/auth/token", json={"grant_type": "password", "phone": person.phone,
                                                 "password": password})
    after = scrape(client)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("wardens_sign_ins_total", method="password", outcome="ok") == 1
    assert grew("wardens_sign_ins_total", method="password", outcome="invalid_credentials") == 1
    assert grew("wardens_sign_ins_total", method="password", outcome="rate_limited") == 1
    assert grew("wardens_rate_limit_refusals_total", action="token") == 1
    for secret in (person.phone, PASSWORD, "wrong-password-1"):
        assert secret not in after


def test_the_outbox_depth_and_its_oldest_notifications_age(client, world, session):
    person = world.person("resident")
    empty = scrape(client)
    assert value(empty, "wardens_outbox_readable") == 1
    clock.freeze(NOON)
    try:
        notifications.notify(session, person.id, "core.duty_group_deleted", name="Night patrol")
        session.commit()
        clock.freeze(NOON + dt.timedelta(seconds=90))
        text = scrape(client)
    finally:
        clock.freeze(None)
    assert value(text, "wardens_outbox_depth") == value(empty, "wardens_outbox_depth") + 1
    assert value(text, "wardens_outbox_oldest_age_seconds") == 90


def test_connections_in_use_follow_the_pool(client, tmp_path):
    database = Database(f"sqlite:///{tmp_path}/pool.db")
    idle = value(scrape(client), "wardens_db_connections_in_use")
    with database.engine.connect():
        assert value(scrape(client), "wardens_db_connections_in_use") == idle + 1
    assert value(scrape(client), "wardens_db_connections_in_use") == idle
    database.engine.dispose()


def test_without_a_token_only_this_host_may_read_them(deployment):
    app = create_app({**TEST_CONFIG, "METRICS_TOKEN": "", "PROXY_HOPS": 1}, deployment=deployment)
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client calls from 127.0.0.1
    afar = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert afar.status_code == 404 and afar.json["code"] == "not_found"
    # Through the proxy (on this host), the client's address counts, not the proxy's.
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_with_a_token_it_is_required_from_anywhere(deployment):
    app = create_app({**TEST_CONFIG, "METRICS_TOKEN": TOKEN}, deployment=deployment)
    client = app.test_client()
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing.json["code"] == "authentication_required"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN[:-1]}x"})
    assert wrong.status_code == 401 and wrong.json["code"] == "invalid_token"
    assert TOKEN not in wrong.get_data(as_text=True)
    text = scrape(client, Authorization=f"Bearer {TOKEN}")
    afar = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert afar.status_code == 200
    for secret in (TOKEN, TEST_CONFIG["SECRET_KEY"], str(deployment.database.engine.url),
                   deployment.database.url):
        assert secret not in text


def test_metrics_stay_out_of_the_api_document(client):
    document = client.get("/api/openapi.json").json
    assert "/metrics" not in document["paths"] and "/healthz" not in document["paths"]


def test_the_grafana_dashboard_asks_only_for_served_metrics(client, world, flaky):
    world.station("east", plugins=("flaky",))
    run_due_jobs(flaky, NOON)
    client.get("/healthz")
    text = scrape(client)
    served = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    served |= {f.name for f in text_string_to_metric_families(text)}
    dashboard = json.loads((ROOT / "deploy/grafana/wardens.json").read_text(encoding="utf-8"))
    queries = [target["expr"] for panel in dashboard["panels"]
               for target in panel.get("targets", [])]
    asked = {name for expr in queries for name in re.findall(r"\bwardens_[a-z_]+", expr)}
    assert len(queries) >= 8 and asked
    # A counter not yet counted in this process still has its family (wardens_sign_ins).
    unknown = sorted(name for name in asked - served
                     if re.sub(r"_(total|bucket|count|sum)$", "", name) not in served)
    assert not unknown, f"the dashboard queries metrics /metrics does not serve: {unknown}"


# The real commands, as the units run them: gunicorn's workers add up, the worker has its port.

def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def instance(tmp_path):
    """The environment of a deployment on a migrated SQLite database of its own (SQLite is for
    development: production refuses it)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WARDENS_", "PROMETHEUS_"))}
    env.update(WARDENS_INSTANCE=str(tmp_path), WARDENS_DATABASE_URL=f"sqlite:///{tmp_path}/w.db",
               WARDENS_SECRET_KEY=TOKEN, WARDENS_LOG_FORMAT="text", TMPDIR=str(tmp_path),
               WARDENS_ENV="development")
    done = subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return env


def _get(url, tries=1):
    for attempt in range(tries):
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.read().decode()
        except OSError:
            if attempt == tries - 1:
                raise
            time.sleep(0.25)
    raise AssertionError("unreachable")


def _stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_serve_adds_up_every_gunicorn_workers_counts(instance, tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--workers", "2", "--threads", "1",
         "--port", str(port)], cwd=ROOT, env=instance, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _get(f"{base}/healthz", tries=240)  # up (the first answer counts too)
        for _ in range(19):
            _get(f"{base}/healthz")
        text = _get(f"{base}/metrics")
        assert value(text, "wardens_http_requests_total", method="GET", route="/healthz",
                     status="200") == 20
        assert list(tmp_path.glob("wardens-metrics-*/*.db"))  # the shared folder serve made
    finally:
        _stop(server)
    assert not list(tmp_path.glob("wardens-metrics-*")), "the folder outlived the server"


def test_the_worker_serves_its_own_metrics_on_its_port(instance):
    port = _free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker", "--interval", "0.5", "--metrics-port",
         str(port)], cwd=ROOT, env=instance, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            text = _get(f"http://127.0.0.1:{port}/metrics", tries=240)
            if value(text, "wardens_job_runs_total", job_name="core.purge_job_runs"):
                break
            time.sleep(0.25)
        assert value(text, "wardens_job_runs_total", job_name="core.purge_job_runs") == 1
        assert value(text, "wardens_job_failures_total", job_name="core.purge_job_runs") == 0
        assert TOKEN not in text
    finally:
        _stop(worker)
