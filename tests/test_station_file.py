"""The station file: validate (every mistake with its path), plan, apply (all or nothing), export."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from api.cli import cli
from core import ledger
from core.models import AuditEvent, Group, Membership, Station
from core.station_file import document, plan
from core.station_file.document import FileErrors
from plugins.patrol.models import Checkpoint, Route
from tests.fixtures.people import new_phone

BASE = """
[station]
code = "{code}"
name = "North Road Station"
timezone = "Asia/Shanghai"
open_join = true

[station.tasks]
accuracy_limit_m = 80

[[seats]]
phone = "{admin}"
roles = ["admin", "officer"]

[[seats]]
phone = "{volunteer}"
roles = ["volunteer"]

[[groups]]
key = "team-1"
kind = "patrol_team"
name = "Team 1"
leaders = ["{volunteer}"]

[[groups]]
key = "grid-1"
kind = "grid"
name = "Grid 1"

[plugins.patrol]
enabled = true

[points]
"patrol.checkpoint_ok" = 3

[patrol]
[[patrol.routes]]
key = "night"
name = "{route_name}"
team = "team-1"

[[patrol.routes.checkpoints]]
key = "gate"
name = "East gate"
lat = {gate_lat}
lon = 120.172
grid = "grid-1"

[[patrol.routes.checkpoints]]
key = "shed"
name = "Bike shed"
lat = 30.2655
lon = 120.1726
"""


def station_text(code: str = "north", *, admin: str, volunteer: str,
                 route_name: str = "Night round", gate_lat: float = 30.265) -> str:
    return BASE.format(code=code, admin=admin, volunteer=volunteer, route_name=route_name,
                       gate_lat=gate_lat)


@pytest.fixture
def people(world):
    """A superuser, and two registered people with proven phones the file gives seats to."""
    admin = world.person("admin", verified=True)
    volunteer = world.person("volunteer", verified=True)
    return world.root, admin, volunteer


def read(session, text):
    return document.read(session.info["deployment"], text)


def applied(session, user, text, **kwargs):
    result = plan.apply(session, user, read(session, text), **kwargs)
    session.flush()
    return result


def test_a_file_builds_the_station_then_plans_no_change_and_exports_exactly(session, people):
    root, admin, volunteer = people
    text = station_text(admin=admin.phone, volunteer=volunteer.phone)
    first = applied(session, root, text)
    assert first.creates_station and first.summary["created"] >= 6
    station = session.scalar(sa.select(Station).where(Station.code == "north"))
    assert station.settings["tasks"] == {"accuracy_limit_m": 80}
    route = session.scalar(sa.select(Route).where(Route.station_id == station.id))
    assert (route.key, route.name) == ("night", "Night round")
    stops = session.scalars(sa.select(Checkpoint).where(Checkpoint.route_id == route.id)
                            .order_by(Checkpoint.sequence)).all()
    assert [(c.key, c.sequence) for c in stops] == [("gate", 1), ("shed", 2)]
    team = session.scalar(sa.select(Group).where(Group.station_id == station.id,
                                                 Group.key == "team-1"))
    assert route.team_group_id == team.id

    assert plan.make_plan(session, root, read(session, text)).empty
    assert applied(session, root, text).empty  # applying twice changes nothing
    exported = plan.export_text(session, root, "north")
    assert plan.make_plan(session, root, read(session, exported)).empty
    # The admin of the station exports the same file as the superuser.
    assert plan.export_text(session, admin.user, "north") == exported


def test_the_station_default_datum_is_set_by_the_file_and_leaves_its_positions_alone(
        session, people):
    """``default_crs`` is the app's default, kept beside the check-in rules; the file's own
    positions stay WGS-84 (a checkpoint is stored as written)."""
    root, admin, volunteer = people
    text = station_text(admin=admin.phone, volunteer=volunteer.phone).replace(
        "open_join = true\n", 'open_join = true\ndefault_crs = "gcj02"\n')
    applied(session, root, text)
    station = session.scalar(sa.select(Station).where(Station.code == "north"))
    assert station.default_crs == "gcj02"
    assert station.settings["tasks"] == {"accuracy_limit_m": 80}
    gate = session.scalar(sa.select(Checkpoint).where(Checkpoint.key == "gate"))
    assert (gate.lat, gate.lon) == (30.265, 120.172)
    exported = plan.export_text(session, root, "north")
    assert 'default_crs = "gcj02"' in exported
    assert plan.make_plan(session, root, read(session, exported)).empty
    back = plan.make_plan(session, root, read(session, text.replace('"gcj02"', '"wgs84"')))
    assert [(c.path, c.fields) for c in back.changes] == [
        ("station", {"default_crs": ("gcj02", "wgs84")})]
    with pytest.raises(FileErrors) as wrong:
        read(session, text.replace('"gcj02"', '"mars"'))
    assert "station.default_crs" in str(wrong.value.errors)


def test_renaming_and_moving_are_updates_of_the_same_objects(session, people):
    root, admin, volunteer = people
    applied(session, root, station_text(admin=admin.phone, volunteer=volunteer.phone))
    route = session.scalar(sa.select(Route).where(Route.key == "night"))
    gate = session.scalar(sa.select(Checkpoint).where(Checkpoint.key == "gate"))
    secret = gate.secret
    edited = station_text(admin=admin.phone, volunteer=volunteer.phone,
                          route_name="Night walk", gate_lat=30.2661)
    found = plan.make_plan(session, root, read(session, edited))
    assert [(c.action, c.path, c.fields) for c in found.changes] == [
        ("update", "patrol.routes[night]", {"name": ("Night round", "Night walk")}),
        ("update", "patrol.routes[night].checkpoints[gate]", {"lat": (30.265, 30.2661)}),
    ]
    applied(session, root, edited)
    session.refresh(route)
    session.refresh(gate)
    assert route.name == "Night walk" and gate.lat == 30.2661
    assert gate.secret == secret  # the tag on the wall still works: same checkpoint
    assert plan.make_plan(session, root, read(session, edited)).empty


def test_objects_left_out_are_archived_not_deleted(session, people):
    root, admin, volunteer = people
    text = station_text(admin=admin.phone, volunteer=volunteer.phone)
    applied(session, root, text)
    without_shed = text.split("[[patrol.routes.checkpoints]]\nkey = \"shed\"")[0]
    found = applied(session, root, without_shed)
    assert [(c.action, c.path) for c in found.changes] == [
        ("archive", "patrol.routes[night].checkpoints[shed]")]
    shed = session.scalar(sa.select(Checkpoint).where(Checkpoint.name == "Bike shed"))
    assert shed.archived_at is not None and shed.key is None
    assert plan.make_plan(session, root, read(session, without_shed)).empty
    # The key is free again: a later file brings a new checkpoint under it.
    assert applied(session, root, text).summary == {"created": 1, "changed": 0, "archived": 0}


def test_the_kinds_paying_task_completed_besides_their_own_event_are_in_the_file(session, people):
    root, admin, volunteer = people
    text = station_text(admin=admin.phone, volunteer=volunteer.phone)
    applied(session, root, text)
    listed = text.replace("[points]\n", '[points]\ntask_completed_also_for = ["patrol"]\n')
    found = applied(session, root, listed)
    assert [(c.action, c.path, c.fields) for c in found.changes] == [
        ("create", "points.task_completed_also_for", {"kinds": (None, ["patrol"])})]
    station = session.scalar(sa.select(Station).where(Station.code == "north"))
    assert ledger.task_completed_also_for(station) == ["patrol"]
    exported = plan.export_text(session, root, "north")
    assert read(session, exported)["points"]["task_completed_also_for"] == ["patrol"]
    assert plan.make_plan(session, root, read(session, exported)).empty
    # Left out, no kind pays it besides its own event any more.
    assert [(c.action, c.path) for c in applied(session, root, text).changes] == [
        ("archive", "points.task_completed_also_for")]
    assert ledger.task_completed_also_for(station) == []
    with pytest.raises(FileErrors) as caught:
        read(session, listed.replace('["patrol"]', '["general", "juggling"]'))
    assert {(e["path"], e["message"]) for e in caught.value.errors} == {
        ("points.task_completed_also_for[0]", "already pays core.task_completed"),
        ("points.task_completed_also_for[1]", "is not a task kind of this deployment")}


def test_ten_mistakes_are_all_reported_with_their_paths_and_nothing_changes(session, people):
    root, admin, volunteer = people
    before = session.scalar(sa.select(sa.func.count()).select_from(Station))
    bad = """
[station]
code = "North!"
timezone = "Mars/Olympus"

[[seats]]
phone = "12"
roles = ["king"]

[[groups]]
key = "Team 1"
kind = "patrol_team"
name = "Team"

[points]
"patrol.nothing" = 3

[patrol]
[[patrol.routes]]
key = "night"
name = "Night"
team = "team-9"

[[patrol.routes.checkpoints]]
key = "gate"
name = "Gate"
lat = 95
lon = 120

[[patrol.routes.checkpoints]]
key = "gate2"
name = "Gate 2"
lat = 30
lon = 200

[weather]
sunny = true
"""
    with pytest.raises(FileErrors) as caught:
        read(session, bad)
    found = {(e["path"], e["message"]) for e in caught.value.errors}
    assert found == {
        ("station.code", "use 2-32 lowercase letters, digits and hyphens"),
        ("station.name", "Missing data for required field"),
        ("station.timezone", "not a known time zone (e.g. Asia/Shanghai)"),
        ("seats[0].phone", "not a valid phone number"),
        ("seats[0].roles[0]", "Must be one of: resident, volunteer, merchant, partner,"
                              " officer, admin"),
        ("groups[0].key", "must be lowercase letters, digits, '-', '_' or '.' (at most 64)"),
        ('points."patrol.nothing"', "is not an event code of this deployment"),
        ("patrol.routes[0].checkpoints[0].lat", "must be between -90 and 90"),
        ("patrol.routes[0].checkpoints[1].lon", "must be between -180 and 180"),
        ("weather", "unknown section (no installed plugin owns it)"),
    }
    assert len(caught.value.errors) == 10
    assert session.scalar(sa.select(sa.func.count()).select_from(Station)) == before


def test_cross_references_are_checked_against_the_file(session):
    text = """
[station]
code = "refs"
name = "Refs"

[[seats]]
phone = "+8613900009999"
roles = ["admin"]

[[groups]]
key = "grid-1"
kind = "grid"
name = "Grid"
members = ["+8613900008888"]

[patrol]
[[patrol.routes]]
key = "r"
name = "R"
team = "grid-1"
[[patrol.routes.checkpoints]]
key = "c"
name = "C"
lat = 30
lon = 120
grid = "grid-9"
"""
    with pytest.raises(FileErrors) as caught:
        read(session, text)
    assert {(e["path"], e["message"]) for e in caught.value.errors} == {
        ("groups[0].members[0]", "has no seat in [[seats]]"),
        ("patrol.routes[0].team", "group grid-1 is a grid, not a patrol_team"),
        ("patrol.routes[0].checkpoints[0].grid", "no group with key grid-9 in [[groups]]"),
    }


def test_taking_the_last_admin_seat_away_needs_allow(session, people):
    root, admin, volunteer = people
    text = station_text(admin=admin.phone, volunteer=volunteer.phone)
    applied(session, root, text)
    no_admin = text.replace('roles = ["admin", "officer"]', 'roles = ["officer"]')
    found = plan.make_plan(session, root, read(session, no_admin))
    assert found.harms == ["remove_last_admin"]
    from core.errors import Conflict

    with pytest.raises(Conflict) as refused:
        plan.apply(session, root, read(session, no_admin))
    assert refused.value.code == "station_file_harmful"
    applied(session, root, no_admin, allow={"remove_last_admin"})
    station = session.scalar(sa.select(Station).where(Station.code == "north"))
    roles = session.scalars(sa.select(Membership.roles).where(
        Membership.station_id == station.id)).all()
    assert not any("admin" in r for r in roles)


def test_one_audit_event_records_the_plan_summary(session, people):
    root, admin, volunteer = people
    applied(session, root, station_text(admin=admin.phone, volunteer=volunteer.phone))
    station = session.scalar(sa.select(Station).where(Station.code == "north"))
    events = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.station_id == station.id, AuditEvent.action == "station.applied")).all()
    assert len(events) == 1
    assert events[0].details["summary"]["created"] >= 6
    assert events[0].actor_role == "superuser"


def test_a_member_who_is_not_admin_cannot_plan_or_apply(session, people):
    root, admin, volunteer = people
    text = station_text(admin=admin.phone, volunteer=volunteer.phone)
    applied(session, root, text)
    from core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        plan.make_plan(session, volunteer.user, read(session, text))


def test_json_schema_covers_the_core_and_the_installed_plugins(deployment):
    schema = document.json_schema(deployment)
    assert {"station", "seats", "groups", "plugins", "points", "patrol"} <= set(schema["properties"])
    assert schema["properties"]["seats"]["type"] == "array"
    route = schema["$defs"].get("PatrolRouteFile")
    assert route is not None and "checkpoints" in route["properties"]


# A third-party plugin's section, through the hook alone ------------------------------------------

def test_a_test_plugins_section_gets_validate_plan_apply_export(sample_deployment, world):
    from tests.fixtures.plugins import sample_session

    root = world.root
    admin = new_phone()
    text = f"""
[station]
code = "sampled"
name = "Sampled"

[[seats]]
phone = "{admin}"
roles = ["admin"]

[plugins.sample]
enabled = true

[sample]
notices = ["Bring water", "Meet at the gate"]
"""
    with sample_session(sample_deployment) as session:
        root = session.get(type(root), root.id)
        wanted = document.read(sample_deployment, text)
        assert [c.path for c in plan.make_plan(session, root, wanted).changes] == [
            "station", f"seats[{admin}]", "plugins.sample", "sample.notices[Bring water]",
            "sample.notices[Meet at the gate]"]
        plan.apply(session, root, wanted)
        assert plan.make_plan(session, root, wanted).empty
        exported = plan.export(session, root, "sampled")
        assert exported["sample"] == {"notices": ["Bring water", "Meet at the gate"]}
        changed = document.read(sample_deployment, text.replace('"Bring water", ', ""))
        assert [(c.action, c.path) for c in plan.make_plan(session, root, changed).changes] == [
            ("archive", "sample.notices[Bring water]")]
        with pytest.raises(FileErrors) as caught:
            document.read(sample_deployment, text.replace('"Bring water"', "3"))
        assert caught.value.errors == [{"path": "sample.notices[0]", "message": "Not a valid string"}]
        assert "sample" in document.json_schema(sample_deployment)["properties"]


# The command line -------------------------------------------------------------------------------

@pytest.fixture
def fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("WARDENS_INSTANCE", str(tmp_path))
    monkeypatch.setenv("WARDENS_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["user", "create", "--phone", "13800001111", "--password",
                               "long-enough-1", "--superuser"]).exit_code == 0
    return runner


def test_cli_validate_plan_apply_export(fresh, tmp_path):
    path = tmp_path / "north.toml"
    path.write_text(station_text(admin="+8613900000001", volunteer="+8613900000002"))
    assert fresh.invoke(cli, ["station", "validate", str(path)]).exit_code == 0
    planned = fresh.invoke(cli, ["station", "plan", str(path)])
    assert planned.exit_code == 2, planned.output
    assert "+ patrol.routes[night]" in planned.output and "\x1b[" not in planned.output
    as_json = fresh.invoke(cli, ["station", "plan", "--json", str(path)])
    assert json.loads(as_json.output)["creates_station"] is True
    done = fresh.invoke(cli, ["station", "apply", str(path)])
    assert done.exit_code == 0, done.output
    assert fresh.invoke(cli, ["station", "plan", str(path)]).exit_code == 0
    exported = tmp_path / "exported.toml"
    assert fresh.invoke(cli, ["station", "export", "north", "-o", str(exported)]).exit_code == 0
    again = fresh.invoke(cli, ["station", "plan", str(exported)])
    assert again.exit_code == 0 and "no changes" in again.output
    schema = fresh.invoke(cli, ["station", "schema"])
    assert "patrol" in json.loads(schema.output)["properties"]


def test_cli_validate_lists_every_mistake(fresh, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[station]\ncode = "x"\n[patrol]\n[[patrol.routes]]\nkey = "r"\n')
    out = fresh.invoke(cli, ["station", "validate", str(path)])
    assert out.exit_code == 1
    assert "station.code: use 2-32 lowercase letters" in out.output
    assert "patrol.routes[0].name: Missing data for required field" in out.output
    assert "nothing was changed" in out.output


def test_a_route_dropped_then_brought_back_returns_with_its_history(session, people):
    root, admin, volunteer = people
    text = station_text(admin=admin.phone, volunteer=volunteer.phone)
    applied(session, root, text)
    route = session.scalar(sa.select(Route).where(Route.key == "night"))
    no_routes = text.split("[patrol]")[0] + "[patrol]\nroutes = []\n"
    applied(session, root, no_routes)
    session.refresh(route)
    assert route.archived_at is not None
    # The same name under another key: the archived route comes back.
    back = applied(session, root, text.replace('key = "night"', 'key = "night-2"'))
    assert back.summary["created"] == 3
    session.refresh(route)
    assert (route.key, route.archived_at) == ("night-2", None)
