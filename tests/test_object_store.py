"""Uploads in an S3-compatible object store (WARDENS_STORAGE=s3), against a local stand-in:
moto in server mode, a process of its own at the machine's edge (tests/fixtures/object_store.py).
Two API processes with instance folders of their own share one store; a photo written before
its commit goes when the transaction rolls back; erasure removes it; `wardens storage migrate`
moves the instance folder's files."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from api.cli import cli
from core import accounts, migrate, stations
from core.access import load_actor
from core.db import Database
from core.models import StationPlugin
from core.storage import LocalStorage, new_key
from plugins.patrol import incidents
from tests.fixtures.object_store import objects
from tests.fixtures.people import PASSWORD, new_phone
from tests.plugins.patrol.conftest import scene  # noqa: F401 (a fixture)
from tests.plugins.patrol.test_incidents import png, report, upload
from tests.test_scale_out import _free_port

ROOT = Path(__file__).resolve().parent.parent


def test_a_photo_goes_to_the_store_is_served_and_erased_with_its_reporter(
        object_store, scene, client):  # noqa: F811 (the fixture)
    answer = report(scene, scene.officer)
    assert answer.status_code == 201, answer.json
    incident = answer.json
    image = png(3, 3)
    added = upload(scene, incident["id"], scene.officer, ("gate.png", image))
    assert added.status_code == 201, added.json
    (key,) = objects(object_store)
    assert key.startswith(f"patrol/{scene.station.id}/") and key.endswith(".png")
    assert not (LocalStorage().root / key).exists()  # nothing on this host's disk
    served = scene.get(f"/incidents/{incident['id']}/photos/{added.json[0]['id']}", scene.officer)
    assert served.status_code == 200 and served.data == image

    assert client.delete("/api/v1/me", headers=scene.officer.headers).status_code == 204
    assert objects(object_store) == []


def test_a_photo_whose_transaction_rolls_back_leaves_no_file(object_store, scene, session):  # noqa: F811
    incident = report(scene, scene.officer).json
    who = load_actor(session, scene.station.code, scene.officer.user)
    import io

    from core.storage import default_storage

    incidents.add_photos(session, who, incident["id"], [io.BytesIO(png())], default_storage())
    assert len(objects(object_store)) == 1  # written before the commit...
    session.rollback()
    assert objects(object_store) == []  # ...and gone with the transaction that would record it


def test_storage_migrate_copies_the_instance_folders_files_once(object_store, tmp_path,
                                                                monkeypatch):
    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path))
    local = LocalStorage()
    keys = [new_key("patrol/1", "jpg"), new_key("patrol/2", "png")]
    for key in keys:
        local.put(key, key.encode())
    runner = CliRunner()
    first = runner.invoke(cli, ["storage", "migrate"])
    assert first.exit_code == 0, first.output
    assert "uploads: 2 copied, 0 already in the store" in first.output
    assert objects(object_store) == sorted(keys)
    again = runner.invoke(cli, ["storage", "migrate"])
    assert "uploads: 0 copied, 2 already in the store" in again.output
    monkeypatch.setenv("WARDENS_STORAGE", "local")
    refused = runner.invoke(cli, ["storage", "migrate"])
    assert refused.exit_code == 1 and "set WARDENS_STORAGE=s3" in refused.output


def test_check_names_the_store_that_does_not_answer_and_the_folder_shared_by_hosts(
        object_store, monkeypatch, tmp_path):
    monkeypatch.setenv("WARDENS_ENV", "development")
    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("WARDENS_DATABASE_URL", f"sqlite:///{tmp_path}/w.db")
    monkeypatch.setenv("WARDENS_RATELIMIT_STORAGE_URI", "memory://")
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert CliRunner().invoke(cli, ["check", "--workers", "1", "--hosts", "1"]).exit_code == 0
    monkeypatch.setenv("WARDENS_S3_BUCKET", "no-such-bucket")
    missing = CliRunner().invoke(cli, ["check", "--workers", "1"])
    assert missing.exit_code == 1
    assert missing.stdout.startswith("WARDENS_S3_BUCKET (no-such-bucket at http://127.0.0.1:")
    monkeypatch.setenv("WARDENS_STORAGE", "local")
    shared = CliRunner().invoke(cli, ["check", "--workers", "1", "--hosts", "2"])
    assert shared.stdout.splitlines()[-1].startswith(
        "WARDENS_STORAGE: the instance folder with 2 API hosts")


class Api:
    """One `wardens serve` process, called over HTTP."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def token(self, phone: str) -> dict[str, str]:
        answer = requests.post(f"{self.base}/api/v1/auth/token", timeout=20, json={
            "grant_type": "password", "phone": phone, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def two_hosts(fresh_url: str, object_store: dict[str, str],
              tmp_path: Path) -> Iterator[tuple[Api, Api, str]]:
    """Two API servers, each with an instance folder of its own, one database and one store;
    and the phone of an officer of station "north" (patrol on)."""
    migrate.upgrade(fresh_url)
    database = Database(fresh_url)
    officer = new_phone()
    with database.writer() as session, session.begin():
        root = accounts.create_user(session, phone=new_phone(), display_name="root",
                                    is_superuser=True, phone_verified=True)
        admin_phone = new_phone()
        admin = accounts.create_user(session, phone=admin_phone, password=PASSWORD,
                                     display_name="admin", phone_verified=True)
        station, _ = stations.create_station(session, root, code="north", name="North",
                                             admin_phone=admin_phone)
        session.add(StationPlugin(station_id=station.id, name="patrol", enabled=True))
        accounts.create_user(session, phone=officer, password=PASSWORD, display_name="Officer Li",
                             phone_verified=True)
        stations.add_member(session, load_actor(session, "north", admin), officer, ["officer"])
    database.engine.dispose()
    base = {key: value for key, value in os.environ.items()
            if not key.startswith(("WARDENS_", "PROMETHEUS_"))}
    base.update(object_store, WARDENS_DATABASE_URL=fresh_url, WARDENS_ENV="development",
                WARDENS_SECRET_KEY=secrets.token_urlsafe(48), WARDENS_LOG_FORMAT="text")
    ports, processes = [_free_port(), _free_port()], []
    try:
        for number, port in enumerate(ports):
            instance = tmp_path / f"host-{number}"
            instance.mkdir()
            log = (tmp_path / f"host-{number}.log").open("w")
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "1"],
                cwd=ROOT, env={**base, "WARDENS_INSTANCE": str(instance)}, stdout=log,
                stderr=subprocess.STDOUT))
        hosts = (Api(ports[0]), Api(ports[1]))
        for host in hosts:
            _wait_until_ready(host, processes, tmp_path)
        yield hosts[0], hosts[1], officer
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(host: Api, processes: list[Any], logs: Path) -> None:
    deadline = time.monotonic() + 180  # two cold starts on a busy machine
    while time.monotonic() < deadline and all(p.poll() is None for p in processes):
        try:
            if requests.get(f"{host.base}/readyz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail("the servers did not become ready:\n" + "\n".join(
        p.read_text()[-2000:] for p in sorted(logs.glob("host-*.log"))))


def test_a_photo_uploaded_through_one_host_is_served_and_erased_through_the_other(
        two_hosts, object_store, tmp_path):
    first, second, officer = two_hosts
    incidents_url = "/api/v1/stations/north/patrol/incidents"
    made = requests.post(f"{first.base}{incidents_url}", headers=first.token(officer), timeout=20,
                         json={"category": "theft", "description": "A bicycle is being taken",
                               "lat": 31.23, "lon": 121.47, "accuracy_m": 8})
    assert made.status_code == 201, made.text
    incident_id = made.json()["id"]
    image = png(4, 4)
    added = requests.post(f"{first.base}{incidents_url}/{incident_id}/photos",
                          headers=first.token(officer), timeout=20,
                          files={"photo": ("bicycle.png", image, "image/png")})
    assert added.status_code == 201, added.text
    photo = f"{incidents_url}/{incident_id}/photos/{added.json()[0]['id']}"

    served = requests.get(f"{second.base}{photo}", headers=second.token(officer), timeout=20)
    assert served.status_code == 200 and served.content == image
    assert not [path for path in tmp_path.glob("host-*/uploads/**/*") if path.is_file()]

    erased = requests.delete(f"{second.base}/api/v1/me", headers=second.token(officer),
                             timeout=20)
    assert erased.status_code == 204, erased.text
    assert objects(object_store) == []
