"""Anti-fraud load bench: quiz submission and coupon redemption on `wardens serve` + PostgreSQL.

Self-contained: builds its own database (dropped and re-created), migrates it, seeds a station
with the starter bank, a quiz, a shop with its cashier, and residents holding open attempts and
unredeemed coupons (through the plugin's own services); writes one distinct request per line
(each submission and each redemption succeeds once). Starts `wardens serve` and, for scale,
bench/minimal_app.py (one INSERT per request) under the same gunicorn settings, and runs wrk
(through bench/requests.lua) against the three, taking turns for a few rounds. Prints
requests/s, p50, p99 and the ratio to the minimal insert; exits 1 if any answer was not 2xx or
if the database does not show one effect per request.

    /work/main/.venv/bin/python bench/anti_fraud.py [--duration 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wrk import recreate_database, run_wrk, slice_of, wait_until_up  # noqa: E402

STATION = "bench"
BASE = f"/api/v1/stations/{STATION}/anti-fraud"




def seed(url: str, secret: str, work: Path, residents: int, per_resident: int,
         minimal_lines: int) -> dict[str, int]:
    """The station, its people and the pre-built request files; returns what was made."""
    from api import create_app
    from api.auth import issue_tokens
    from core import accounts, stations
    from core.access import load_actor
    from core.db import Database
    from core.models import Group, GroupMember, Membership, StationPlugin
    from core.plugins import Deployment, DeploymentConfig
    from plugins.anti_fraud import bank, coupons, quizzes
    from plugins.anti_fraud.models import DiscountKind, Offer, Quiz, Shop

    deployment = Deployment(Database(url), DeploymentConfig.load(ROOT / "plugins.toml"))
    app = create_app({"SECRET_KEY": secret, "ACCESS_TOKEN_TTL": 86400}, deployment=deployment)
    now = dt.datetime.now(dt.UTC)

    def token(session: object, user: object) -> str:
        issued = accounts.start_session(session, user)  # type: ignore[arg-type]
        with app.app_context():
            return issue_tokens(issued.session, issued.refresh_token, user)["access_token"]  # type: ignore[arg-type]

    with deployment.database.writer() as session, session.begin():
        root = accounts.create_user(session, phone="+8613700000000", display_name="root",
                                    is_superuser=True)
        station, _ = stations.create_station(session, root, code=STATION, name="Bench Station",
                                             admin_phone="+8613700000001")
        session.add(StationPlugin(station_id=station.id, name="anti_fraud", enabled=True))
        bank.load_starter_bank(session, station.id, ["zh-CN"])
        group = Group(station_id=station.id, kind="shop", name="Bench Shop")
        session.add(group)
        session.flush()
        shop = Shop(station_id=station.id, name="Bench Shop", group_id=group.id)
        cashier = accounts.create_user(session, phone="+8613700000002", display_name="cashier")
        session.add_all([shop, Membership(station_id=station.id, user_id=cashier.id,
                                          roles=["merchant"]),
                         GroupMember(station_id=station.id, group_id=group.id, user_id=cashier.id)])
        session.flush()
        offer = Offer(station_id=station.id, shop_id=shop.id, title="5 off", kind=DiscountKind.AMOUNT,
                      amount_off_cents=500, min_spend_cents=0, points_cost=0,
                      stock_total=residents * per_resident, stock_left=residents * per_resident,
                      per_resident_limit=per_resident, valid_from=now,
                      valid_until=now + dt.timedelta(days=1), coupon_days=30)
        quiz = Quiz(station_id=station.id, title="Bench quiz", categories=[], locale="zh-CN",
                    question_count=5, pass_percent=60, time_limit_s=7200,
                    attempts_per_day=per_resident, points=20)
        session.add_all([offer, quiz])
        session.flush()
        cashier_token = token(session, cashier)
        quiz_id, offer_id = quiz.id, offer.id

    submissions, redemptions = [], []
    for batch in range(0, residents, 50):
        with deployment.database.writer() as session, session.begin():
            for n in range(batch, min(batch + 50, residents)):
                user = accounts.create_user(session, phone=f"+86137{n + 10:08d}",
                                            display_name=f"resident {n}")
                session.add(Membership(station_id=station.id, user_id=user.id, roles=["resident"]))
                session.flush()
                resident = token(session, user)
                who = load_actor(session, STATION, user)
                for _ in range(per_resident):
                    attempt = quizzes.start_attempt(session, who, quiz_id)
                    answers = [{"question_id": served.question_id, "choices": served.correct_shown}
                               for served, _q in quizzes.served(session, attempt)]
                    submissions.append((attempt.id, resident, answers))
                    coupon = coupons.claim(session, who, offer_id)
                    code = coupons.qr_code(session, who, coupon.id, secret=secret,
                                           ttl=dt.timedelta(hours=2))
                    redemptions.append(code.payload)
    # Residents take turns, so concurrent requests are different people, as at a real till.
    by_turn = sorted(range(len(submissions)), key=lambda i: (i % per_resident, i))
    (work / "submission.txt").write_text("".join(
        f"POST\t{BASE}/attempts/{submissions[i][0]}/submission\t{submissions[i][1]}\t"
        f"{json.dumps({'answers': submissions[i][2]})}\n" for i in by_turn), encoding="utf-8")
    (work / "redemption.txt").write_text("".join(
        f"POST\t{BASE}/redemptions\t{cashier_token}\t"
        f"{json.dumps({'payload': redemptions[i], 'bill_cents': 3000 + i % 500})}\n"
        for i in by_turn), encoding="utf-8")
    (work / "minimal.txt").write_text("".join(
        f"POST\t/insert\t\t{json.dumps({'payload': f'row-{n}'})}\n"
        for n in range(minimal_lines)), encoding="utf-8")
    (work / "quizzes.txt").write_text(  # a read for the warm-up, one line per wrk thread
        "".join(f"GET\t{BASE}/quizzes\t{submissions[i][1]}\t\n" for i in range(16)),
        encoding="utf-8")
    deployment.database.engine.dispose()
    return {"residents": residents, "attempts": len(submissions), "coupons": len(redemptions)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]










def effects(url: str) -> dict[str, int]:
    """What the database shows after the run: submitted attempts and redemptions."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        result = {
            "submitted": conn.scalar(sa.text(
                "SELECT count(*) FROM anti_fraud_attempt WHERE submitted_at IS NOT NULL")),
            "redemptions": conn.scalar(sa.text("SELECT count(*) FROM anti_fraud_redemption")),
            "redeemed_coupons": conn.scalar(sa.text(
                "SELECT count(*) FROM anti_fraud_coupon WHERE redeemed_at IS NOT NULL")),
        }
    engine.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                                                "wardens_bench_anti_fraud")
    parser.add_argument("--duration", type=int, default=10, help="Seconds per scenario and round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="Server processes.")
    parser.add_argument("--threads", type=int, default=4, help="Threads per process.")
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--per-resident", type=int, default=36,
                        help="Open attempts and coupons each resident holds.")
    parser.add_argument("--port", type=int, default=0, help="Default: a free one.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is missing (apt-get install -y wrk)")

    work = Path(tempfile.mkdtemp(prefix="wardens-bench-af-"))
    secret = secrets.token_urlsafe(48)
    env = {**os.environ, "WARDENS_DATABASE_URL": args.database, "WARDENS_SECRET_KEY": secret,
           "WARDENS_INSTANCE": str(work / "instance"), "WARDENS_PASSWORD_ITERATIONS": "1",
           "WARDENS_PLUGINS_TOML": str(ROOT / "plugins.toml"), "PYTHONPATH": str(ROOT)}
    print(f"bench: database {args.database.rsplit('@', 1)[-1]}, files in {work}")
    recreate_database(args.database)
    subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade"], env=env, cwd=ROOT,
                   check=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from bench.minimal_app import create_table

    create_table()  # once, before the servers start: their workers would race on it
    started = time.monotonic()
    # A plain INSERT goes an order of magnitude faster: give it lines enough for 6000/s.
    made = seed(args.database, secret, work, args.residents, args.per_resident,
                minimal_lines=6000 * args.duration * args.rounds)
    print(f"bench: seeded {made} in {time.monotonic() - started:.0f}s")

    port, minimal_port = args.port or free_port(), free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    servers = [
        subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1",
                          "--port", str(port), "--workers", str(args.workers), "--threads",
                          str(args.threads)], env=env, cwd=ROOT,
                         stdout=(work / "wardens.log").open("w"), stderr=subprocess.STDOUT,
                         start_new_session=True),
        subprocess.Popen([gunicorn, "--bind", f"127.0.0.1:{minimal_port}", "--workers",
                          str(args.workers), "--threads", str(args.threads),
                          "bench.minimal_app:app"], env=env, cwd=ROOT,
                         stdout=(work / "minimal.log").open("w"), stderr=subprocess.STDOUT,
                         start_new_session=True),
    ]
    url, minimal = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{minimal_port}"
    scenarios = [("minimal insert", minimal, "minimal.txt"),
                 ("quiz submission", url, "submission.txt"),
                 ("coupon redemption", url, "redemption.txt")]
    rounds: list[dict[str, dict[str, float]]] = []
    try:
        wait_until_up(f"{url}/api/openapi.json", servers[0])
        wait_until_up(f"{minimal}/insert", servers[1])
        run_wrk("warm-up", url, work / "quizzes.txt", args, cycle=True, duration=3)
        for number in range(args.rounds):
            # Scenarios take turns, so a busy moment on a shared host weighs on all of them.
            result = {name: run_wrk(name, target, slice_of(work / file, number, args.rounds),
                                    args) for name, target, file in scenarios}
            rounds.append(result)
            print(f"round {number + 1}: " + ", ".join(
                f"{name} {r['rps']:.0f}/s" for name, r in result.items()))
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)

    seen = effects(args.database)
    sent = {name: sum(r[name]["requests"] for r in rounds) for name, *_ in scenarios}
    print(f"\nwrk {args.connections} connections, {args.wrk_threads} threads, {args.duration}s per"
          f" scenario x {args.rounds} rounds; both servers: gunicorn {args.workers} workers x"
          f" {args.threads} threads; PostgreSQL on the same host; {os.cpu_count()} CPUs; load"
          f" average {os.getloadavg()[0]:.1f}\n")
    print(f"{'scenario':18} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'vs minimal':>10}")
    for name, *_ in scenarios:
        runs = [r[name] for r in rounds]
        ratio = statistics.mean(r[name]["rps"] / r["minimal insert"]["rps"] for r in rounds)
        print(f"{name:18} {sent[name]:>9} {statistics.mean(x['rps'] for x in runs):>9.1f}"
              f" {statistics.median(x['p50'] for x in runs):>8.2f}"
              f" {statistics.median(x['p99'] for x in runs):>8.2f} {ratio:>10.2f}")
    print(f"\ndatabase afterwards: {seen}")
    # wrk counts the answers it read; a request in flight when a run ends may still land, so
    # the database may hold up to one more per connection and round, never fewer, and never
    # a coupon redeemed twice.
    slack = args.connections * args.rounds
    if not (sent["quiz submission"] <= seen["submitted"] <= sent["quiz submission"] + slack
            and seen["redemptions"] == seen["redeemed_coupons"]
            and sent["coupon redemption"] <= seen["redemptions"]
            <= sent["coupon redemption"] + slack):
        print("bench: the database does not show one effect per request", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
