"""Patrol scan load bench: `wardens serve` on a PostgreSQL database of its own, driven by wrk.

Builds the database (dropped and re-created), seeds a station with a 10-checkpoint route and
thousands of volunteers each on an active patrol, and writes one distinct scan request per line
(a code is valid once per patrol, so nothing is sent twice). Starts `wardens serve` and, for
scale, bench/minimal_app.py (one INSERT per request) under the same gunicorn settings; runs wrk
(through bench/requests.lua) against both, taking turns for a few rounds; prints requests/s,
p50, p99 and the ratio to the minimal insert; fails on any answer that is not 2xx and checks
afterwards that every scan sent was stored once. bench/run.sh measures the check-in the same
way.

    /work/main/.venv/bin/python bench/patrol_bench.py [--duration 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import types
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wrk import recreate_database, run_wrk, slice_of, wait_until_up  # noqa: E402

STATION = "bench"
ORIGIN = (31.2304, 121.4737)
SPACING_M = 150.0
CHECKPOINTS = 10





def seed(url: str, secret: str, folder: Path, patrols: int, scans_each: int) -> dict[str, int]:
    """The station, route, volunteers with tokens and active patrols; scans.txt and minimal.txt."""
    from api import create_app
    from api.auth import issue_tokens
    from core import accounts, clock, stations
    from core.db import Database
    from core.models import AuthSession, Group, GroupMember, Membership, StationPlugin, User
    from core.plugins import Deployment, DeploymentConfig
    from plugins.patrol import codes
    from plugins.patrol.models import Checkpoint, Patrol, Route

    deployment = Deployment(Database(url), DeploymentConfig.load(str(ROOT / "plugins.toml")))
    app = create_app({"SECRET_KEY": secret, "ACCESS_TOKEN_TTL": 86400}, deployment=deployment)
    now = clock.now()
    started = now - dt.timedelta(hours=2)
    rng = random.Random(7)
    with deployment.database.writer() as session, session.begin():
        root = accounts.create_user(session, phone="+8613800000000", display_name="root",
                                    is_superuser=True)
        station, _ = stations.create_station(session, root, code=STATION, name="Bench station",
                                             admin_phone="+8613800000001")
        session.add(StationPlugin(station_id=station.id, name="patrol", enabled=True))
        team = Group(station_id=station.id, kind="patrol_team", name="Bench team")
        grids = [Group(station_id=station.id, kind="grid", name=f"Grid {n}") for n in range(5)]
        session.add_all([team, *grids])
        session.flush()
        route = Route(station_id=station.id, name="Bench round", team_group_id=team.id,
                      created_by=root.id)
        session.add(route)
        session.flush()
        points = [Checkpoint(station_id=station.id, route_id=route.id, name=f"Point {i + 1}",
                             sequence=i + 1, lat=ORIGIN[0],
                             lon=round(ORIGIN[1] + SPACING_M * i / 95_200, 7), radius_m=30,
                             grid_group_id=grids[i // 2].id, secret=codes.new_secret(),
                             code_step_s=30)
                  for i in range(CHECKPOINTS)]
        session.add_all(points)
        session.flush()
        user_ids = session.scalars(sa.insert(User).returning(User.id, sort_by_parameter_order=True),
                                   [{"phone": f"+86139{n:08d}", "display_name": f"Volunteer {n}",
                                     "locale": "zh-CN", "phone_verified": True,
                                     "is_superuser": False, "created_at": now}
                                    for n in range(patrols)]).all()
        session.execute(sa.insert(Membership), [
            {"station_id": station.id, "user_id": uid, "roles": ["volunteer"], "created_at": now}
            for uid in user_ids])
        session.execute(sa.insert(GroupMember), [
            {"station_id": station.id, "group_id": team.id, "user_id": uid, "is_leader": False,
             "created_at": now} for uid in user_ids])
        auth_ids = session.scalars(
            sa.insert(AuthSession).returning(AuthSession.id, sort_by_parameter_order=True),
            [{"user_id": uid, "refresh_hash": secrets.token_hex(32), "rotated_at": now,
              "created_at": now, "provider": "password"} for uid in user_ids]).all()
        patrol_ids = session.scalars(
            sa.insert(Patrol).returning(Patrol.id, sort_by_parameter_order=True),
            [{"station_id": station.id, "route_id": route.id, "user_id": uid, "status": "active",
              "started_at": started, "wrong_codes": 0, "auto_finished": False,
              "completed": False, "created_at": now} for uid in user_ids]).all()
    with app.app_context():
        tokens = [issue_tokens(types.SimpleNamespace(id=aid, rotated_at=now), "",
                               types.SimpleNamespace(id=uid))["access_token"]
                  for aid, uid in zip(auth_ids, user_ids, strict=True)]
    base = f"/api/v1/stations/{STATION}/patrol"
    bounce = list(range(CHECKPOINTS)) + list(range(CHECKPOINTS - 2, 0, -1))
    with (folder / "scans.txt").open("w", encoding="utf-8") as out:
        # Round-robin over patrols, as thousands of volunteers scanning at once would be;
        # within a patrol, a walk of 150 m every three minutes, back and forth.
        for step in range(scans_each):
            for token, patrol_id in zip(tokens, patrol_ids, strict=True):
                point = points[bounce[step % len(bounce)]]
                at = started + dt.timedelta(minutes=3 * (step + 1), seconds=rng.randint(0, 20))
                body = {"checkpoint_id": point.id, "code": codes.code_at(point.secret, at, 30),
                        "lat": round(point.lat + rng.uniform(-0.00008, 0.00008), 7),
                        "lon": round(point.lon + rng.uniform(-0.00008, 0.00008), 7),
                        "accuracy_m": round(rng.uniform(5, 20), 1), "is_mock": False,
                        "device_time": at.isoformat(), "client_id": str(uuid.uuid4())}
                out.write(f"POST\t{base}/patrols/{patrol_id}/scans\t{token}\t"
                          f"{json.dumps(body)}\n")
    with (folder / "minimal.txt").open("w", encoding="utf-8") as out:
        for n in range(patrols * scans_each):
            out.write(f"POST\t/insert\t\t{json.dumps({'payload': f'row-{n}'})}\n")
    deployment.database.engine.dispose()
    return {"patrols": patrols, "scan_requests": patrols * scans_each}










def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                                                "wardens_patrol_bench")
    parser.add_argument("--duration", type=int, default=10, help="Seconds per scenario and round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="Server processes (both apps).")
    parser.add_argument("--threads", type=int, default=4, help="Threads per process (both).")
    parser.add_argument("--patrols", type=int, default=3000)
    parser.add_argument("--scans-each", type=int, default=30)
    parser.add_argument("--port", type=int, default=8091)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is missing (apt-get install -y wrk)")

    work = Path(tempfile.mkdtemp(prefix="wardens-patrol-bench-"))
    secret = secrets.token_urlsafe(48)
    env = {**os.environ, "WARDENS_DATABASE_URL": args.database, "WARDENS_SECRET_KEY": secret,
           "WARDENS_ACCESS_TOKEN_TTL": "86400", "WARDENS_INSTANCE": str(work / "instance"),
           "WARDENS_PLUGINS_TOML": str(ROOT / "plugins.toml"), "PYTHONPATH": str(ROOT)}
    print(f"bench: database {args.database.rsplit('@', 1)[-1]}, files in {work}")
    recreate_database(args.database)
    python = sys.executable
    subprocess.run([python, "-m", "api.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from bench.minimal_app import create_table

    create_table()  # once, before the servers start: their workers would race on it
    began = time.monotonic()
    counts = seed(args.database, secret, work, args.patrols, args.scans_each)
    print(f"bench: seeded {counts} in {time.monotonic() - began:.0f}s")

    wardens_port, minimal_port = args.port, args.port + 1
    gunicorn = str(Path(python).parent / "gunicorn")
    servers = [
        subprocess.Popen([python, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port",
                          str(wardens_port), "--workers", str(args.workers), "--threads",
                          str(args.threads)], env=env, cwd=ROOT,
                         stdout=(work / "wardens.log").open("w"), stderr=subprocess.STDOUT,
                         start_new_session=True),
        subprocess.Popen([gunicorn, "--bind", f"127.0.0.1:{minimal_port}", "--workers",
                          str(args.workers), "--threads", str(args.threads),
                          "bench.minimal_app:app"], env=env, cwd=ROOT,
                         stdout=(work / "minimal.log").open("w"), stderr=subprocess.STDOUT,
                         start_new_session=True),
    ]
    scenarios = [("minimal insert", f"http://127.0.0.1:{minimal_port}", "minimal.txt"),
                 ("patrol scan", f"http://127.0.0.1:{wardens_port}", "scans.txt")]
    rounds: list[dict[str, dict[str, float]]] = []
    try:
        wait_until_up(f"http://127.0.0.1:{wardens_port}/api/openapi.json")
        wait_until_up(f"http://127.0.0.1:{minimal_port}/insert")
        for number in range(args.rounds):
            # Scenarios take turns, so a busy moment on a shared host weighs on both.
            result = {name: run_wrk(name, url, slice_of(work / file, number, args.rounds), args)
                      for name, url, file in scenarios}
            rounds.append(result)
            print(f"round {number + 1}: " + ", ".join(
                f"{name} {r['rps']:.0f}/s" for name, r in result.items()))
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)

    sent = sum(r["patrol scan"]["requests"] for r in rounds)
    engine = sa.create_engine(args.database)
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text(
            "SELECT status, count(*) FROM patrol_scan GROUP BY status")).all())
    engine.dispose()
    print(f"\nwrk {args.connections} connections, {args.wrk_threads} threads, {args.duration}s per"
          f" scenario x {args.rounds} rounds; both servers: gunicorn {args.workers} workers x"
          f" {args.threads} threads; PostgreSQL on the same host; {os.cpu_count()} CPUs; load"
          f" average {os.getloadavg()[0]:.1f}")
    print(f"scans sent {sent}, stored {stored} (each once: a scan answered 2xx is stored)\n")
    print(f"{'scenario':16} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'vs minimal':>10}")
    for name, *_ in scenarios:
        runs = [r[name] for r in rounds]
        ratio = statistics.mean(r[name]["rps"] / r["minimal insert"]["rps"] for r in rounds)
        print(f"{name:16} {sum(x['requests'] for x in runs):>9}"
              f" {statistics.mean(x['rps'] for x in runs):>9.1f}"
              f" {statistics.median(x['p50'] for x in runs):>8.2f}"
              f" {statistics.median(x['p99'] for x in runs):>8.2f} {ratio:>10.2f}")
    # wrk may stop with requests in flight; more than that missing means lost scans.
    return 0 if sum(stored.values()) >= sent else 1


if __name__ == "__main__":
    sys.exit(main())
