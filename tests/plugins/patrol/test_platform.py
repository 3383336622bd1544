"""The plugin on the platform: 404 when switched off, a pinned number of SQL statements per scan,
migrations, settings, messages, demo data and dashboard."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import pathlib
import re

import pytest
import sqlalchemy as sa

from core import clock, migrate
from core.models import AuditEvent, Station
from core.plugins import StartupError, load_settings, validate_settings
from plugins.patrol import codes
from tests.plugins.patrol.conftest import T0

PLUGIN_DIR = pathlib.Path(__file__).resolve().parents[3] / "plugins" / "patrol"


def test_every_patrol_endpoint_is_404_plugin_disabled_for_a_station_without_it(app, client, world):
    station = world.station("north")  # patrol installed, not switched on here
    member = world.person("Volunteer", station=station, roles=["volunteer", "officer"])
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("patrol.")]
    assert len(rules) >= 30
    for rule in rules:
        url = rule.rule.replace("<station>", station.code)
        url = re.sub(r"<int:\w+>", "1", url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = client.open(url, method=method, headers=member.headers, json={})
            assert answer.status_code == 404, (method, url, answer.json)
            assert answer.json["code"] == "plugin_disabled", (method, url)
            assert answer.json["details"] == {"plugin": "patrol"}


@contextlib.contextmanager
def counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split()[0].upper())

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_a_scan_takes_a_pinned_number_of_sql_statements(scene, deployment):
    patrol = scene.start()
    clock.advance(dt.timedelta(minutes=1))
    scene.scan(patrol["id"], 0)  # warm: token checked once, caches filled
    clock.advance(dt.timedelta(minutes=2))
    body = scene.body(1)
    headers = scene.headers(scene.walker)
    with counting(deployment.database.engine) as statements:
        answer = scene.client.post(scene.url(f"/patrols/{patrol['id']}/scans"), json=body,
                                   headers=headers)
    assert answer.status_code == 201 and answer.json["status"] == "ok"
    # auth session + user + station + membership (the plugin switches and settings this
    # process read with the warm scan still hold: the station's plugins_version has not moved);
    # patrol + route + checkpoint + the patrol's scans (and that client id); the insert. The
    # rest is the transaction (SAVEPOINT/RELEASE here, BEGIN/COMMIT in production).
    work = [s for s in statements if s not in ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT")]
    assert work == ["SELECT"] * 2 + ["INSERT"], statements
    assert len(statements) == 5


def test_patrol_tables_match_their_migration(connection):
    migrate.import_models()
    drift = [d for d in migrate.drift(connection) if "patrol_" in repr(d)[:200]]
    assert drift == []


def test_settings_are_validated_with_the_key_named(deployment):
    info = deployment.plugins["patrol"].info
    defaults = load_settings(info, {})
    assert (defaults["code_step_seconds"], defaults["max_speed_kmh"], defaults["completion_ratio"],
            defaults["coverage_gap_hours"], defaults["max_wrong_codes"]) == (30, 25.0, 0.8, 4.0, 5)
    with pytest.raises(StartupError, match="completion_ratio"):
        validate_settings(info, {"completion_ratio": 1.5}, where="plugins.toml [plugins.patrol]")
    with pytest.raises(StartupError, match="code_step"):
        validate_settings(info, {"code_step": 30}, where="plugins.toml [plugins.patrol]")


def test_every_error_and_notification_code_has_both_languages(deployment):
    from core import messages

    source = "\n".join(p.read_text() for p in PLUGIN_DIR.glob("*.py"))
    errors = set(re.findall(
        r'(?:Invalid|NotFound|Conflict|PermissionDenied)\(\s*"([a-z_]+)"', source))
    notifications = set(re.findall(r'(?:notify|_tell_reporter)\([^)]*?"(patrol\.[a-z_]+)"',
                                   source))
    assert len(errors) > 40 and len(notifications) == 4
    for code in sorted(errors | notifications):
        texts = messages.MESSAGES.get(code)
        assert texts and texts.get("en") and texts.get("zh-CN"), code


def test_totp_matches_rfc_6238_and_the_static_code_reads_off_paper():
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890"
    vectors = {59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"}
    for seconds, expected in vectors.items():
        at = dt.datetime.fromtimestamp(seconds, dt.UTC)
        assert codes.code_at(secret, at, 30) == expected
        assert codes.match(secret, expected, at + dt.timedelta(seconds=30), 30, 1) is not None
        assert codes.match(secret, expected, at + dt.timedelta(seconds=60), 30, 1) is None
    static = codes.static_code(secret)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", static)
    assert codes.normalize_static(static.lower().replace("-", " ")) == static
    assert codes.static_code(codes.new_secret()) != static


def test_the_code_sheet_is_printable_and_reading_secrets_is_audited(scene, session):
    sheet = scene.get(f"/routes/{scene.route_id}/code-sheet")
    assert sheet.status_code == 200
    assert [row["static_code"] for row in sheet.json] == [t.static_code for t in scene.tags]
    assert [row["grid"] for row in sheet.json] == ["Grid 1", "Grid 1", "Grid 2", "Grid 2", "Grid 3"]
    printed = scene.get(f"/routes/{scene.route_id}/code-sheet.csv")
    assert printed.status_code == 200 and printed.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(printed.data.decode("utf-8-sig"))))
    assert [r["static_code"] for r in rows] == [t.static_code for t in scene.tags]
    assert scene.get(f"/routes/{scene.route_id}/code-sheet", scene.walker).status_code == 403
    actions = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.station_id == scene.station.id, AuditEvent.action.like("patrol.%"))).all()
    assert actions.count("patrol.secret_read") == 5  # the provisioning of the scene's tags
    assert actions.count("patrol.code_sheet_read") == 2


def test_demo_data_and_dashboard_metrics(session, deployment):
    from core import demo

    clock.freeze(T0)
    demo.seed(session)
    station = session.scalar(sa.select(Station).where(Station.code == demo.DEMO_STATION))
    hooks = deployment.hooks_for(session, station.id)
    results = hooks.wardens_dashboard_metrics(session=session, station=station,
                                              since=T0 - dt.timedelta(days=1))
    metrics = next(r for r in results if "patrols_started" in r)
    assert metrics == {"patrols_started": 2, "patrols_active": 1, "patrols_completed": 1,
                       "scans_ok": 7, "scans_flagged": 0, "scans_rejected": 0,
                       "incidents_reported": 1, "incidents_open": 1, "coverage_alerts": 0}


def test_every_patrol_operation_is_documented_with_an_operation_id(client):
    spec = client.get("/api/openapi.json").json
    ops = [op["operationId"] for path, item in spec["paths"].items() if "/patrol/" in path
           for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]
    assert len(ops) == len(set(ops)) >= 35
    assert all(op.startswith(("patrol_", "patrols_")) for op in ops)
