"""Backups: the database (SQLite's online backup, or pg_dump's custom format) and the uploads."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core import clock, migrate
from core.plugins import Deployment

MANIFEST = "manifest.json"
FORMAT = 1
DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def _unheard(_done: int, _total: int) -> None:
    """No one is watching (a test, the console)."""


def _heads(deployment: Deployment) -> list[str]:
    with deployment.database.reader() as session:
        return sorted(MigrationContext.configure(session.connection()).get_current_heads())


def _known_revisions(deployment: Deployment) -> set[str]:
    config = migrate.alembic_config(extra_folders=deployment.migration_folders(),
                                    plugin_names=deployment.plugin_names())
    return {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _libpq(url: sa.URL) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore connection arguments; the password goes in the environment, never
    on the command line (where ``ps`` shows it)."""
    args = ["--dbname", url.set(drivername="postgresql", password=None)
            .render_as_string(hide_password=False)]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)") from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def backup(deployment: Deployment, to: Path, uploads: Path,
           progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``wardens-<UTC time>.tar`` into ``to``: the database, the uploads, a manifest.

    Consistent while the server runs: SQLite through its online backup API, PostgreSQL through
    pg_dump (one snapshot). The archive appears under its name only once complete.
    ``progress(done, total)`` hears of the database dumped, then of each upload archived.
    """
    report = progress or _unheard
    files = sorted(uploads.rglob("*")) if uploads.is_dir() else []
    url = sa.make_url(deployment.database.url)
    dialect = url.get_backend_name()
    if dialect not in DUMPS:
        raise BackupError(f"no backup for {dialect} databases")
    made = clock.now()
    to.mkdir(parents=True, exist_ok=True)
    target = to / f"wardens-{made:%Y%m%dT%H%M%SZ}.tar"
    with tempfile.TemporaryDirectory(prefix="wardens-backup-") as work:
        dump = Path(work) / DUMPS[dialect]
        if dialect == "sqlite":
            with sqlite3.connect(_sqlite_path(url)) as source, sqlite3.connect(dump) as copy:
                source.backup(copy)
            copy.close()
        else:
            args, env = _libpq(url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), *args], env)
        report(1, 1 + len(files))
        manifest = {"format": FORMAT, "made_at": made.isoformat(), "dialect": dialect,
                    "heads": _heads(deployment), "uploads": uploads.is_dir()}
        (Path(work) / MANIFEST).write_text(json.dumps(manifest, indent=2))
        partial = target.with_suffix(".tar.partial")
        with tarfile.open(partial, "w") as archive:
            archive.add(Path(work) / MANIFEST, arcname=MANIFEST)
            archive.add(dump, arcname=dump.name)
            if uploads.is_dir():
                archive.add(uploads, arcname="uploads", recursive=False)
            for done, path in enumerate(files, start=2):
                archive.add(path, arcname=f"uploads/{path.relative_to(uploads)}",
                            recursive=False)
                report(done, 1 + len(files))
        os.replace(partial, target)
    return target


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path) as archive:
            member = archive.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return json.loads(member.read())  # type: ignore[no-any-return]
    except (tarfile.TarError, KeyError, ValueError, OSError):
        raise BackupError(f"{path} is not a Wardens backup (no readable {MANIFEST})") from None


def restore(deployment: Deployment, path: Path, uploads: Path,
            progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Bring the database and the uploads back to the backup's state.

    Refused before anything is touched: a backup of another kind of database, or one whose
    schema is newer than this code (a revision it does not know: upgrade Wardens first).
    ``progress(done, total)`` hears of each file taken out of the archive, then of the database.
    """
    report = progress or _unheard
    manifest = read_manifest(path)
    url = sa.make_url(deployment.database.url)
    dialect = url.get_backend_name()
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not {FORMAT}")
    if manifest.get("dialect") != dialect:
        raise BackupError(f"the backup is of a {manifest.get('dialect')} database, this"
                          f" deployment uses {dialect}")
    unknown = sorted(set(manifest.get("heads", [])) - _known_revisions(deployment))
    if unknown:
        raise BackupError(f"the backup's schema is newer than this Wardens (unknown revisions:"
                          f" {', '.join(unknown)}): install the release that made it, then"
                          " restore")
    with tempfile.TemporaryDirectory(prefix="wardens-restore-") as work:
        with tarfile.open(path) as archive:
            members = archive.getmembers()
            for done, member in enumerate(members, start=1):
                archive.extract(member, work, filter="data")  # no paths outside, no devices
                report(done, len(members) + 1)
        dump = Path(work) / DUMPS[dialect]
        deployment.database.engine.dispose()  # no pooled connection holds the old state
        if dialect == "sqlite":
            with sqlite3.connect(dump) as source, sqlite3.connect(_sqlite_path(url)) as into:
                source.backup(into)
            into.close()
        else:
            args, env = _libpq(url)
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                  *args, str(dump)], env)
        if manifest.get("uploads"):
            _swap_uploads(Path(work) / "uploads", uploads)
        report(len(members) + 1, len(members) + 1)
    return manifest


def _swap_uploads(restored: Path, uploads: Path) -> None:
    """Put the backup's uploads in place; the replaced folder goes only once they are."""
    uploads.parent.mkdir(parents=True, exist_ok=True)
    staged = uploads.with_name(uploads.name + ".restoring")
    shutil.rmtree(staged, ignore_errors=True)
    if restored.is_dir():
        shutil.copytree(restored, staged)
    else:
        staged.mkdir()
    old = uploads.with_name(uploads.name + ".before-restore")
    shutil.rmtree(old, ignore_errors=True)
    if uploads.exists():
        os.replace(uploads, old)
    os.replace(staged, uploads)
    shutil.rmtree(old, ignore_errors=True)
