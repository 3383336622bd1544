"""`wardens serve`: time to its first answer with every plugin, and each worker's memory under load.

Builds its own PostgreSQL database and seeds patrols as bench/patrol_bench.py does (plugins.toml
installs every built-in plugin). Starts `wardens serve` a few times and reports how long after
the command started it first answered (``GET /healthz``, then a signed-in request); then sends
distinct patrol scans one after another over a kept-alive connection and reports the resident
memory of every worker after the first 1,000 and after all (10,000 by default).

    .venv/bin/python bench/startup_memory.py [--requests 10000] [--starts 5]
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wrk import recreate_database  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def workers_of(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return sorted(found)


def start(env: dict[str, str], port: int, workers: int, threads: int,
          log: Path) -> tuple[subprocess.Popen[bytes], float]:
    began = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", str(workers), "--threads",
                               str(threads)], env=env, cwd=ROOT, stdout=log.open("w"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    while True:
        if server.poll() is not None:
            raise SystemExit(f"bench: the server stopped; see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server, time.monotonic() - began
        except OSError:
            time.sleep(0.01)


def stop(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                                                "wardens_speed_startup")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8097)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wardens-startup-"))
    secret = secrets.token_urlsafe(48)
    env = {**os.environ, "WARDENS_DATABASE_URL": args.database, "WARDENS_SECRET_KEY": secret,
           "WARDENS_ACCESS_TOKEN_TTL": "86400", "WARDENS_INSTANCE": str(work / "instance"),
           "WARDENS_PLUGINS_TOML": str(ROOT / "plugins.toml"), "PYTHONPATH": str(ROOT)}
    recreate_database(args.database)
    subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade"], env=env, cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    os.environ.update(env)
    from bench.patrol_bench import seed

    seed(args.database, secret, work, max(1, args.requests // 20), 21)
    lines = (work / "scans.txt").read_text(encoding="utf-8").splitlines()[:args.requests]

    took = []
    for number in range(args.starts):
        server, seconds = start(env, args.port, args.workers, args.threads,
                                work / f"serve-{number}.log")
        took.append(seconds)
        if number < args.starts - 1:
            stop(server)
    print(f"first answer after start: {', '.join(f'{t:.2f}' for t in took)} s "
          f"(median {statistics.median(took):.2f} s)", flush=True)

    memory: dict[int, list[float]] = {}
    try:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        for count, line in enumerate(lines, start=1):
            _method, path, token, body = line.split("\t")
            conn.request("POST", path, body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            answer = conn.getresponse()
            answer.read()
            if answer.status != 201:
                raise SystemExit(f"bench: a scan answered {answer.status}")
            if count in (1_000, len(lines)):
                memory[count] = [rss_mb(pid) for pid in workers_of(server.pid)]
                print(f"after {count} requests: workers' resident memory "
                      f"{', '.join(f'{m:.0f}' for m in memory[count])} MB", flush=True)
    finally:
        stop(server)
    print(f"\n{args.workers} workers x {args.threads} threads, every plugin of plugins.toml, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
