"""Load bench: `wardens serve` on PostgreSQL against a minimal Flask + SQLAlchemy insert.

Builds its own database, seeds it (bench/seed.py), starts `wardens serve` and the minimal app
(bench/minimal_app.py) under gunicorn with the same workers and threads, then runs wrk with
the same connections against sign-up, check-in, leaderboard and the minimal insert, taking
turns for a few rounds. Prints requests/s, p50, p99 and the ratio to the minimal endpoint
(measured in the same round); exits 1 if any answer was not 2xx.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wrk import recreate_database, run_wrk, slice_of, wait_until_up  # noqa: E402

BIN = Path(sys.executable).parent












def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                                                "wardens_bench")
    parser.add_argument("--duration", type=int, default=10,
                        help="Seconds per scenario and round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="Server processes (both apps).")
    parser.add_argument("--threads", type=int, default=4, help="Threads per process (both).")
    parser.add_argument("--volunteers", type=int, default=300)
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is missing (apt-get install -y wrk)")

    work = Path(tempfile.mkdtemp(prefix="wardens-bench-"))
    secret = secrets.token_urlsafe(48)
    env = {**os.environ, "WARDENS_DATABASE_URL": args.database, "WARDENS_SECRET_KEY": secret,
           "WARDENS_ACCESS_TOKEN_TTL": "86400", "WARDENS_INSTANCE": str(work / "instance"),
           "WARDENS_PLUGINS_TOML": str(ROOT / "plugins.toml"), "PYTHONPATH": str(ROOT)}
    print(f"bench: database {args.database.rsplit('@', 1)[-1]}, files in {work}")
    recreate_database(args.database)
    subprocess.run([str(BIN / "wardens"), "db", "upgrade"], env=env, cwd=ROOT, check=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from bench.seed import seed

    started = time.monotonic()
    counts = seed(args.database, str(ROOT / "plugins.toml"), secret, work,
                  volunteers=args.volunteers)
    print(f"bench: seeded {counts} in {time.monotonic() - started:.0f}s")

    from bench import minimal_app

    minimal_app.create_table()
    wardens_port, minimal_port = args.port, args.port + 1
    servers = [
        subprocess.Popen([str(BIN / "wardens"), "serve", "--host", "127.0.0.1",
                          "--port", str(wardens_port), "--workers", str(args.workers),
                          "--threads", str(args.threads)],
                         env=env, cwd=ROOT, stdout=(work / "wardens.log").open("w"),
                         stderr=subprocess.STDOUT, start_new_session=True),
        subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{minimal_port}",
                          "--workers", str(args.workers), "--threads", str(args.threads),
                          "--access-logfile", "-", "bench.minimal_app:app"],
                         env=env, cwd=ROOT, stdout=(work / "minimal.log").open("w"),
                         stderr=subprocess.STDOUT, start_new_session=True),
    ]
    try:
        wardens = f"http://127.0.0.1:{wardens_port}"
        minimal = f"http://127.0.0.1:{minimal_port}"
        wait_until_up(f"{wardens}/api/openapi.json")
        wait_until_up(f"{minimal}/insert")
        # Warm both servers (connection pools, imports) on requests that may repeat.
        run_wrk("warm-up", wardens, work / "leaderboard.txt", args, cycle=True, duration=3)
        run_wrk("warm-up", minimal, work / "minimal.txt", args, cycle=True, duration=3)
        scenarios = [("minimal insert", minimal, "minimal.txt", False),
                     ("sign-up", wardens, "signup.txt", False),
                     ("check-in", wardens, "checkin.txt", False),
                     ("leaderboard", wardens, "leaderboard.txt", True)]
        rounds: list[dict[str, dict[str, float]]] = []
        for number in range(args.rounds):
            # Scenarios take turns, round after round, so a busy moment on a shared host
            # weighs on all of them; each write round has its own slice of distinct lines.
            result = {}
            for name, url, file, cycle in scenarios:
                lines = work / file if cycle else slice_of(work / file, number, args.rounds)
                result[name] = run_wrk(name, url, lines, args, cycle=cycle)
            rounds.append(result)
            print(f"round {number + 1}: " + ", ".join(
                f"{name} {r['rps']:.0f}/s" for name, r in result.items()))
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)

    print(f"\nwrk {args.connections} connections, {args.wrk_threads} threads, {args.duration}s"
          f" per scenario x {args.rounds} rounds; both servers: gunicorn {args.workers}"
          f" workers x {args.threads} threads; PostgreSQL on the same host; {os.cpu_count()}"
          f" CPUs; load average {os.getloadavg()[0]:.1f}\n")
    print(f"{'scenario':16} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'vs minimal':>10}")
    for name, *_ in scenarios:
        runs = [r[name] for r in rounds]
        ratio = statistics.mean(r[name]["rps"] / r["minimal insert"]["rps"] for r in rounds)
        print(f"{name:16} {sum(x['requests'] for x in runs):>9}"
              f" {statistics.mean(x['rps'] for x in runs):>9.1f}"
              f" {statistics.median(x['p50'] for x in runs):>8.2f}"
              f" {statistics.median(x['p99'] for x in runs):>8.2f} {ratio:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
