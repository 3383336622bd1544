"""In-process cost of one patrol scan: database round trips and milliseconds of one core.

Builds its own PostgreSQL database (dropped and re-created), seeds it as bench/patrol_bench.py
does, then sends scans through the app in this process (Flask's test client: no HTTP server,
no other request running) and prints, per scan:

- the statements, and the round trips counted through SQLAlchemy's events (each statement,
  plus BEGIN before the first statement of a transaction and its COMMIT or ROLLBACK);
- the round trips counted by libpq itself (its protocol trace: one ReadyForQuery per round
  trip), which also sees what no SQLAlchemy event does (a pool's ping);
- CPU milliseconds of this process (``time.process_time``: PostgreSQL's own work is not in it)
  and wall milliseconds; median and mean over the measured scans.

``--profile`` adds cProfile's heaviest functions (by own time and by cumulative time).

    .venv/bin/python bench/scan_profile.py [--scans 2000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wrk import recreate_database  # noqa: E402


class RoundTrips:
    """Statements and transaction control seen by SQLAlchemy on one engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[str] = []
        self.control: list[str] = []
        self._open = False
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "commit", self._commit)
        sa.event.listen(engine, "rollback", self._rollback)

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not self._open and not conn.get_execution_options().get("isolation_level"):
            # psycopg sends BEGIN itself, in a round trip of its own, before the first statement.
            self.control.append("BEGIN")
            self._open = True
        self.statements.append(" ".join(statement.split()))

    def _commit(self, _conn: Any) -> None:
        if self._open:
            self.control.append("COMMIT")
        self._open = False

    def _rollback(self, _conn: Any) -> None:
        if self._open:
            self.control.append("ROLLBACK")
        self._open = False

    def take(self) -> tuple[list[str], list[str]]:
        taken = self.statements, self.control
        self.statements, self.control = [], []
        return taken


def trace_libpq(engine: sa.Engine, folder: Path) -> list[Any]:
    """Trace every new connection's protocol to a file; the caller untraces (flushes) them."""
    traced: list[Any] = []

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        import psycopg

        out = (folder / f"libpq-{len(traced)}.trace").open("w")
        dbapi_conn.pgconn.trace(out.fileno())
        dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        traced.append((dbapi_conn, out))

    return traced


def ready_for_query(folder: Path) -> int:
    return sum(line.split("\t")[2].strip() == "ReadyForQuery"
               for path in folder.glob("libpq-*.trace")
               for line in path.read_text().splitlines() if line.startswith("B\t"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                                                "wardens_speed_profile")
    parser.add_argument("--scans", type=int, default=2000, help="Scans measured.")
    parser.add_argument("--warm-up", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wardens-scan-profile-"))
    secret = secrets.token_urlsafe(48)
    env = {"WARDENS_DATABASE_URL": args.database, "WARDENS_SECRET_KEY": secret,
           "WARDENS_ACCESS_TOKEN_TTL": "86400", "WARDENS_INSTANCE": str(work / "instance"),
           "WARDENS_PLUGINS_TOML": str(ROOT / "plugins.toml")}
    os.environ.update(env)
    recreate_database(args.database)
    subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade"], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    from bench.patrol_bench import seed

    total = args.warm_up + args.scans
    patrols = max(1, total // 20)
    seed(args.database, secret, work, patrols, -(-total // patrols))

    from api import create_app

    app = create_app()
    engine = app.extensions["wardens"].database.engine
    client = app.test_client()
    lines = (work / "scans.txt").read_text(encoding="utf-8").splitlines()[:total]
    requests = []
    for line in lines:
        _method, url, token, body = line.split("\t")
        requests.append((url, {"Authorization": f"Bearer {token}",
                               "Content-Type": "application/json"}, body))

    def send(url: str, headers: dict[str, str], body: str) -> None:
        answer = client.post(url, data=body, headers=headers)
        if answer.status_code != 201:
            raise SystemExit(f"bench: scan answered {answer.status_code}: {answer.get_data()!r}")

    for request in requests[:args.warm_up]:
        send(*request)
    # Measured on connections opened afresh, each traced from its start: the one connect
    # (a round trip or two over the whole run) is counted too.
    engine.dispose()
    traced = trace_libpq(engine, work)
    trips = RoundTrips(engine)

    cpu: list[float] = []
    wall: list[float] = []
    per_scan: list[tuple[int, int]] = []
    first: tuple[list[str], list[str]] | None = None
    # CPU time, not wall: waiting on PostgreSQL (and a busy host) is not what is profiled.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    for request in requests[args.warm_up:]:
        started_cpu, started = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        send(*request)
        if profiler is not None:
            profiler.disable()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        statements, control = trips.take()
        first = first or (statements, control)
        per_scan.append((len(statements), len(control)))
    for conn, out in traced:
        conn.pgconn.untrace()
        out.close()
    measured_ready = ready_for_query(work)
    engine.dispose()

    assert first is not None
    print("one scan's statements:")
    for control in first[1][:1]:
        print(f"  {control}")
    for statement in first[0]:
        print(f"  {statement[:150]}")
    for control in first[1][1:]:
        print(f"  {control}")
    n = len(cpu)
    counts = {c for c in per_scan}
    print(f"\n{n} scans in-process (Flask test client), PostgreSQL {engine.url.host}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"statements per scan (SQLAlchemy events): "
          f"{statistics.mean(s for s, _ in per_scan):.2f}; with BEGIN/COMMIT: "
          f"{statistics.mean(s + c for s, c in per_scan):.2f} (distinct {sorted(counts)})")
    print(f"round trips per scan (libpq trace, ReadyForQuery): {measured_ready / n:.2f}")
    print(f"CPU ms per scan (this process): median {statistics.median(cpu):.2f}, "
          f"mean {statistics.mean(cpu):.2f}; wall ms median {statistics.median(wall):.2f}")
    if profiler is not None:
        profiler.dump_stats(work / "scans.prof")
        print(f"\nprofile: {work / 'scans.prof'} (python -m pstats)")
        stats = pstats.Stats(profiler).strip_dirs()
        print("\nby own time:")
        stats.sort_stats("tottime").print_stats(25)
        print("by cumulative time:")
        stats.sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
