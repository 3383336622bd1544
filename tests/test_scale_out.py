"""Two API servers and two workers on one PostgreSQL and one Redis, as separate processes over
real HTTP: a notification is delivered once, a sign-in limit is shared, a plugin switch or a
settings change made through one server applies on the other at its next request (each keeps
the switches it read while the station's plugins_version holds)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core import accounts, migrate, stations
from core.access import load_actor
from core.db import Database
from core.models import Notification
from core.models.notifications import DeliveryStatus
from tests.fixtures.people import PASSWORD, new_phone
from tests.sample_plugin import VERSIONS as SAMPLE_VERSIONS
from tests.sample_plugin.models import SampleDelivery

pytestmark = pytest.mark.postgres_only

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/14"  # its own database: other tests flush 15
MEMBERS = 250  # more than one claim's batch (100), so the workers take turns
PER_PHONE = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One `wardens serve` process, called over HTTP."""

    def __init__(self, port: int) -> None:
        self.port = port

    def call(self, method: str, path: str, body: Any = None,
             token: str | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json",
                     **({"Authorization": f"Bearer {token}"} if token else {})})
        try:
            with urllib.request.urlopen(request, timeout=20) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as answer:
            return answer.code, json.loads(answer.read() or b"null")

    def sign_in(self, phone: str, password: str = PASSWORD) -> tuple[int, Any]:
        return self.call("POST", "/api/v1/auth/token", {"grant_type": "password", "phone": phone,
                                                        "password": password})


@pytest.fixture
def shared_database(fresh_url: str, test_database_url: str) -> Iterator[dict[str, Any]]:
    """A migrated database with a station ("shared"), its admin and MEMBERS residents."""
    if not test_database_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL (SKIP LOCKED)")
    migrate.upgrade(fresh_url, extra_folders=[str(SAMPLE_VERSIONS)], plugin_names=["sample"])
    database = Database(fresh_url)
    admin_phone, guessers = new_phone(), [new_phone(), new_phone()]
    with database.writer() as session, session.begin():
        root = accounts.create_user(session, phone=new_phone(), display_name="root",
                                    is_superuser=True, phone_verified=True)
        admin = accounts.create_user(session, phone=admin_phone, password=PASSWORD,
                                     display_name="admin", phone_verified=True)
        stations.create_station(session, root, code="shared", name="Shared",
                                admin_phone=admin_phone)
        for phone in guessers:
            accounts.create_user(session, phone=phone, password=PASSWORD, display_name="guesser",
                                 phone_verified=True)
        acting = load_actor(session, "shared", admin)
        for _ in range(MEMBERS):
            phone = new_phone()
            accounts.create_user(session, phone=phone, display_name="resident",
                                 phone_verified=True)
            stations.add_member(session, acting, phone, ["resident"])
    yield {"url": fresh_url, "database": database, "admin": admin_phone, "guessers": guessers}
    database.engine.dispose()


@pytest.fixture
def two_of_each(shared_database: dict[str, Any], sample_site: Path, sample_toml: Path,
                tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """Two API servers and two workers, started as a deployment would, stopped afterwards."""
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    env = {**os.environ, "WARDENS_DATABASE_URL": shared_database["url"],
           "WARDENS_INSTANCE": str(tmp_path), "WARDENS_PLUGINS_TOML": str(sample_toml),
           "WARDENS_SECRET_KEY": secrets.token_urlsafe(48),  # one key: tokens work on both
           "WARDENS_RATELIMIT_STORAGE_URI": REDIS,
           "WARDENS_AUTH_LIMIT_PER_PHONE": f"{PER_PHONE}/hour",
           "PYTHONPATH": os.pathsep.join([str(sample_site), str(ROOT)])}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    ports = [_free_port(), _free_port()]
    commands = [*(["serve", "--port", str(port), "--workers", "1", "--threads", "4"]
                  for port in ports),
                *(["worker", "--interval", "0.2"] for _ in range(2))]
    processes = []
    try:
        for number, args in enumerate(commands):
            log = (tmp_path / f"process-{number}.log").open("w")
            processes.append(subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT,
                                              env=env, stdout=log, stderr=subprocess.STDOUT))
        servers = (Server(ports[0]), Server(ports[1]))
        for server in servers:
            _wait_until_ready(server, processes, tmp_path)
        yield servers
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        redis.Redis.from_url(REDIS).flushdb()


def _wait_until_ready(server: Server, processes: list[subprocess.Popen], logs: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            break
        try:
            if server.call("GET", "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    output = "\n".join(p.read_text() for p in sorted(logs.glob("process-*.log")))
    pytest.fail(f"the servers did not become ready:\n{output[-3000:]}")


def test_two_api_servers_and_two_workers_share_one_database_and_one_redis(
        two_of_each: tuple[Server, Server], shared_database: dict[str, Any]) -> None:
    first, second = two_of_each
    status, signed_in = first.sign_in(shared_database["admin"])
    assert status == 200, signed_in
    token = signed_in["access_token"]  # signed by the shared key: good on both servers
    notes = "/api/v1/stations/shared/sample/notes"

    # A plugin switch made through one server applies on the other at its next request.
    assert second.call("GET", notes, token=token)[0] == 404
    switched = first.call("PUT", "/api/v1/stations/shared/plugins/sample", {"enabled": True},
                          token=token)
    assert switched[0] == 200 and switched[1]["enabled"] is True
    assert second.call("GET", notes, token=token)[0] == 200

    # A setting changed through one server applies on the other at its next request, though
    # each keeps the station's switches and settings it has read (while its version holds).
    for server in (first, second):
        assert server.call("POST", notes, {"text": "warm cache"}, token=token)[0] == 201
    changed = first.call("PUT", "/api/v1/stations/shared/plugins/sample",
                         {"enabled": True, "settings": {"max_note_length": 5}}, token=token)
    assert changed[0] == 200 and changed[1]["settings"]["max_note_length"] == 5
    refused = second.call("POST", notes, {"text": "too long now"}, token=token)
    assert refused[0] == 422 and refused[1]["code"] == "sample_note_too_long", refused
    assert second.call("PUT", "/api/v1/stations/shared/plugins/sample",
                       {"enabled": True, "settings": {"max_note_length": None}},
                       token=token)[0] == 200
    assert first.call("POST", notes, {"text": "long enough again"}, token=token)[0] == 201

    # A notice queued once through the second server: both workers race for its
    # notifications (SKIP LOCKED), and each is delivered exactly once.
    sent = second.call("POST", "/api/v1/stations/shared/notices", {
        "audience": "station", "title": "Road closed", "text": "Market Street, all day"},
        token=token)
    assert sent[0] == 201, sent
    database = shared_database["database"]
    delivered = _delivered_notices(database, expected=MEMBERS)
    assert Counter(status for status, _attempts in delivered.values()) == {
        DeliveryStatus.SENT: MEMBERS}
    assert {attempts for _status, attempts in delivered.values()} == {1}
    with database.reader() as session:
        records = Counter(session.scalars(sa.select(SampleDelivery.notification_id)))
    assert {nid: records[nid] for nid in delivered} == {nid: 1 for nid in delivered}

    # Switched off through the second: the first refuses at once.
    off = second.call("PUT", "/api/v1/stations/shared/plugins/sample", {"enabled": False},
                      token=token)
    assert off[0] == 200
    refused = first.call("GET", notes, token=token)
    assert refused[0] == 404 and refused[1]["code"] == "plugin_disabled"

    # Failed sign-ins spread over both servers reach the limit at the same count as on one.
    spread, alone = shared_database["guessers"]
    across = [server.sign_in(spread, "a-wrong-guess")[0]
              for server in (first, second, first, second, first)]
    on_one = [first.sign_in(alone, "a-wrong-guess")[0] for _ in range(PER_PHONE + 1)]
    assert across == on_one == [401] * PER_PHONE + [429]


def _delivered_notices(database: Database, expected: int) -> dict[int, tuple[Any, int]]:
    """The notice's notifications once none is waiting: id -> (status, attempts)."""
    deadline = time.monotonic() + 30
    while True:
        with database.reader() as session:
            rows = session.execute(
                sa.select(Notification.id, Notification.delivery_status, Notification.attempts)
                .where(Notification.code == "core.notice")).all()
        waiting = [r for r in rows if r.delivery_status in (DeliveryStatus.PENDING,
                                                            DeliveryStatus.SENDING)]
        if len(rows) == expected and not waiting:
            return {r.id: (r.delivery_status, r.attempts) for r in rows}
        assert time.monotonic() < deadline, f"{len(waiting)} of {len(rows)} still waiting"
        time.sleep(0.2)
