"""Production refuses to start half-configured: ``serve`` and ``worker`` run as real processes
stop with one line naming the setting, the same line ``wardens check`` prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRONG = "q7Hk2vXb9LmP4sTz8RwYc3NdFg6JeUa5-Vn1"
POSTGRES = "postgresql+psycopg://wardens:secret@127.0.0.1:1/wardens"  # never reached
REDIS = "redis://127.0.0.1:1/13"


@pytest.fixture
def production(tmp_path):
    """A production environment complete but for what each test takes away."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WARDENS_", "PROMETHEUS_"))}
    env.update(WARDENS_ENV="production", WARDENS_INSTANCE=str(tmp_path),
               WARDENS_DATABASE_URL=POSTGRES, WARDENS_SECRET_KEY=STRONG,
               WARDENS_RATELIMIT_STORAGE_URI=REDIS, TMPDIR=str(tmp_path))
    return env


def wardens(env, *args):
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def refused(env, *args):
    done = wardens(env, *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    (line,) = done.stderr.splitlines()
    assert line.startswith("wardens: cannot start: ")
    return line.removeprefix("wardens: cannot start: ")


def check_says(env, *args):
    done = wardens(env, "check", *args)
    assert done.returncode == 1
    return done.stdout.splitlines()


@pytest.mark.parametrize("command", [["serve", "--workers", "1"], ["worker", "--once"]])
def test_sqlite_in_production_stops_serve_and_worker(production, tmp_path, command):
    production["WARDENS_DATABASE_URL"] = f"sqlite:///{tmp_path}/w.db"
    line = refused(production, *command)
    assert line == (f"WARDENS_DATABASE_URL (sqlite:///{tmp_path}/w.db): SQLite in production:"
                    " set it to a PostgreSQL database,"
                    " postgresql+psycopg://USER:PASSWORD@HOST:5432/wardens")
    assert not (tmp_path / "w.db").exists()  # refused before a database of its own was made
    assert line in check_says(production, "--workers", "1")


@pytest.mark.parametrize("command", [["serve", "--workers", "1"], ["worker", "--once"]])
def test_no_secret_key_in_production_stops_serve_and_worker(production, tmp_path, command):
    del production["WARDENS_SECRET_KEY"]
    line = refused(production, *command)
    assert line.startswith("WARDENS_SECRET_KEY: not set") and "token_urlsafe" in line
    assert line in check_says(production, "--workers", "1")
    assert not (tmp_path / "secret_key").exists()  # no key of this host's own


def test_two_workers_on_memory_limits_stop_serve(production):
    production["WARDENS_RATELIMIT_STORAGE_URI"] = "memory://"
    line = refused(production, "serve", "--workers", "2")
    assert line.startswith("WARDENS_RATELIMIT_STORAGE_URI: memory:// with 2 API processes")
    assert line in check_says(production, "--workers", "2")


def test_development_starts_as_it_is(production, tmp_path):
    """One machine trying Wardens out: SQLite, no key, limits in memory, and the worker runs."""
    env = {**production, "WARDENS_ENV": "development",
           "WARDENS_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
           "WARDENS_RATELIMIT_STORAGE_URI": "memory://"}
    del env["WARDENS_SECRET_KEY"]
    assert wardens(env, "db", "upgrade").returncode == 0
    done = wardens(env, "worker", "--once")
    assert done.returncode == 0, done.stderr
    assert "cannot start" not in done.stderr
