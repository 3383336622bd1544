"""`wardens backup` / `wardens restore`: the database and the uploads back as they were, on
SQLite and PostgreSQL; a backup of a newer schema, or not a backup at all, is refused untouched."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from api.cli import cli
from core.db import Database
from core.models import Station
from core.storage import LocalStorage, new_key
from tests.fixtures.database import database_url

PHONES = {"north": "13800007001", "south": "13800007002", "east": "13800007003"}


def _codes(url):
    database = Database(url)
    try:
        with database.reader() as session:
            return set(session.scalars(sa.select(Station.code)))
    finally:
        database.engine.dispose()


def _station(runner, code):
    made = runner.invoke(cli, ["station", "create", "--code", code, "--name", code.title(),
                               "--admin-phone", PHONES[code]])
    assert made.exit_code == 0, made.output


def _deployment_at(url, tmp_path, monkeypatch):
    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("WARDENS_DATABASE_URL", url)
    runner = CliRunner()
    upgraded = runner.invoke(cli, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    root = runner.invoke(cli, ["user", "create", "--phone", "13800007000", "--password",
                               "long-enough-1", "--superuser", "--name", "Root"])
    assert root.exit_code == 0, root.output
    return runner


def _round_trip(runner, url, tmp_path):
    uploads = LocalStorage(tmp_path / "instance" / "uploads")
    _station(runner, "north")
    photo = new_key("incidents", "jpg")
    uploads.put(photo, b"a photo of the north gate")

    off_host = tmp_path / "mounted-store"
    made = runner.invoke(cli, ["backup", "--to", str(off_host)])
    assert made.exit_code == 0, made.output
    archive = Path(re.search(r"backup written: (\S+)", made.output).group(1))
    assert archive.parent == off_host and archive.suffix == ".tar"
    assert not list(off_host.glob("*.partial"))
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["heads"] and manifest["uploads"] is True

    # after the backup: another station, the photo gone
    _station(runner, "south")
    uploads.delete(photo)
    assert _codes(url) == {"north", "south"}

    refused = runner.invoke(cli, ["restore", str(archive)], input="n\n")
    assert refused.exit_code != 0 and _codes(url) == {"north", "south"}
    restored = runner.invoke(cli, ["restore", str(archive), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _codes(url) == {"north"}
    with uploads.open(photo) as handle:
        assert handle.read() == b"a photo of the north gate"
    # the restored database serves on: a new station goes in
    _station(runner, "east")
    assert _codes(url) == {"north", "east"}
    return archive


def _newer(archive, tmp_path):
    """The same backup as a newer release would have made it: a revision this code lacks."""
    newer = tmp_path / "newer.tar"
    with tarfile.open(archive) as source, tarfile.open(newer, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member) if member.isfile() else None
            if member.name == "manifest.json":
                manifest = json.load(data)
                manifest["heads"].append("9999_from_a_newer_release")
                body = json.dumps(manifest).encode()
                member.size = len(body)
                data = io.BytesIO(body)
            target.addfile(member, data)
    return newer


def _refusals(runner, url, archive, tmp_path):
    before = _codes(url)
    newer = runner.invoke(cli, ["restore", str(_newer(archive, tmp_path)), "--yes"])
    assert newer.exit_code != 0
    assert "newer than this Wardens" in newer.output and "9999_from_a_newer_release" in newer.output
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not an archive")
    answer = runner.invoke(cli, ["restore", str(junk), "--yes"])
    assert answer.exit_code != 0 and "not a Wardens backup" in answer.output
    assert _codes(url) == before


def test_sqlite_backup_and_restore(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/wardens.db"
    runner = _deployment_at(url, tmp_path, monkeypatch)
    archive = _round_trip(runner, url, tmp_path)
    _refusals(runner, url, archive, tmp_path)


@pytest.mark.postgres_only
def test_postgresql_backup_and_restore(tmp_path, monkeypatch):
    server = sa.make_url(database_url())
    name = f"wardens_backup_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        runner = _deployment_at(url, tmp_path, monkeypatch)
        archive = _round_trip(runner, url, tmp_path)
        _refusals(runner, url, archive, tmp_path)
        # a PostgreSQL backup is not restored into SQLite
        monkeypatch.setenv("WARDENS_DATABASE_URL", f"sqlite:///{tmp_path}/other.db")
        other = runner.invoke(cli, ["restore", str(archive), "--yes"])
        assert other.exit_code != 0 and "postgresql database" in other.output
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        os.environ.pop("PGPASSWORD", None)
