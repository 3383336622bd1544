"""Firebase settings are the deployment's: a station admin never points the server at a file."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.models import StationPlugin
from core.plugins import StartupError, validate_settings

_opened: list[str] = []
_watching: list[bool] = [False]


def _watch(event: str, args: tuple) -> None:
    if _watching[0] and event == "open" and isinstance(args[0], str | bytes):
        _opened.append(str(args[0]))


sys.addaudithook(_watch)  # audit hooks cannot be removed: this one only records while watched


class Opened(list):
    """The paths the process opens once watched (Python's ``open`` audit event)."""

    def watch(self) -> Opened:
        self.clear()
        _watching[0] = True
        return self


@pytest.fixture
def opened():
    files = Opened()
    _opened.clear()
    yield files
    _watching[0] = False


def seen(files: Opened) -> set[str]:
    return set(_opened)


@pytest.fixture
def account(tmp_path: Path) -> str:
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps({"type": "service_account", "project_id": "demo-wardens"}))
    return str(path)


def put(client, admin, body):
    return client.put("/api/v1/stations/east/plugins/firebase", json=body,
                      headers=admin.headers)


def test_a_station_admin_cannot_point_the_server_at_a_file(world, client, session, account,
                                                          tmp_path, opened):
    east = world.station("east")
    admin = world.person("admin", station=east, roles=["admin"])
    not_json = tmp_path / "notes.txt"
    not_json.write_text("hello")
    opened.watch()
    for path in (account, str(not_json), "/dev/zero"):
        refused = put(client, admin, {"enabled": True, "settings": {"credentials_file": path}})
        assert refused.status_code == 422, refused.json
        assert refused.json["code"] == "deployment_setting"
        assert refused.json["details"]["keys"] == ["credentials_file"]
        assert "credentials_file" in refused.json["message"]
    assert not {account, str(not_json), "/dev/zero"} & seen(opened)
    assert session.scalars(sa.select(StationPlugin).where(
        StationPlugin.station_id == east.id)).all() == []
    # every firebase setting is the deployment's: the station only switches
    for key, value in (("push", True), ("project_id", "other-project"), ("http_timeout", 120)):
        refused = put(client, admin, {"enabled": True, "settings": {key: value}})
        assert refused.status_code == 422 and refused.json["details"]["keys"] == [key]
    on = put(client, admin, {"enabled": True})
    assert on.status_code == 200 and on.json["enabled"] is True


def test_no_request_reads_the_deployments_credentials_file(world, client, deployment, account,
                                                          monkeypatch, opened):
    monkeypatch.setitem(deployment.plugins["firebase"].defaults, "credentials_file", account)
    east = world.station("east")
    admin = world.person("admin", station=east, roles=["admin"])
    opened.watch()
    assert put(client, admin, {"enabled": True}).status_code == 200
    listed = client.get("/api/v1/stations/east/plugins", headers=admin.headers)
    (firebase,) = [p for p in listed.json if p["name"] == "firebase"]
    assert firebase["secret_settings"] == {"credentials_file": True}
    assert put(client, admin, {"enabled": False}).status_code == 200
    assert account not in seen(opened)


def test_an_override_stored_before_is_never_applied_and_can_be_cleared(world, client, session,
                                                                      deployment, tmp_path):
    east = world.station("east")
    admin = world.person("admin", station=east, roles=["admin"])
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}")
    # as a station could store it before deployment settings existed
    session.add(StationPlugin(station_id=east.id, name="firebase", enabled=True,
                              settings={"credentials_file": str(elsewhere), "push": True}))
    session.commit()
    assert deployment.station_settings(session, east.id, "firebase")["push"] is False
    listed = client.get("/api/v1/stations/east/plugins", headers=admin.headers).json
    (firebase,) = [p for p in listed if p["name"] == "firebase"]
    assert firebase["overridden"] == [] and firebase["secret_settings"] == {
        "credentials_file": False}
    cleared = put(client, admin, {"enabled": True, "settings": {"credentials_file": None}})
    assert cleared.status_code == 200, cleared.json
    row = session.scalars(sa.select(StationPlugin).where(StationPlugin.station_id == east.id)).one()
    session.refresh(row)
    assert row.settings == {}


def test_the_credentials_file_is_checked_once_at_start_up(deployment, account, tmp_path):
    info = deployment.plugins["firebase"].info
    where = "plugins.toml [plugins.firebase]"
    assert validate_settings(info, {"project_id": "demo-wardens", "credentials_file": account},
                             where=where)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"type": "service_account", "padding": "x" * 100_000}))
    for path in (str(fifo), str(huge), str(tmp_path / "missing.json")):
        outcome: list[BaseException] = []

        def check(path=path, outcome=outcome):
            try:
                validate_settings(info, {"project_id": "demo-wardens", "credentials_file": path},
                                  where=where)
            except StartupError as exc:
                outcome.append(exc)

        # a FIFO must not hang start-up: run in a thread that the test does not wait for long
        thread = threading.Thread(target=check, daemon=True)
        thread.start()
        thread.join(timeout=5)
        assert outcome, f"{path} was not refused (or hung)"
        assert "credentials_file: not a readable service-account" in str(outcome[0])
