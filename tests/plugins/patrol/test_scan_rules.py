"""Each refusal and each flag of a scan: the recorded reason, and no points."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core import clock
from core.models import StationPlugin
from tests.plugins.patrol.conftest import T0, offset

MIN = dt.timedelta(minutes=1)


def stored(scene, patrol_id):
    answer = scene.get(f"/patrols/{patrol_id}/scans", scene.walker)
    assert answer.status_code == 200
    return answer.json


def refused(answer, code):
    assert answer.status_code == 422, answer.json
    assert answer.json["code"] == code and answer.json["message"]
    return answer.json


def settings(scene, **values):
    row = scene.session.scalar(sa.select(StationPlugin).where(
        StationPlugin.station_id == scene.station.id, StationPlugin.name == "patrol"))
    row.settings = values
    scene.session.commit()


def finish_points(scene, patrol_id):
    summary = scene.finish(patrol_id).json["summary"]
    # The checkpoints paid (the earn-once key is checkpoint @ period).
    return summary, {int(source.split("@")[0]) for code, _, source in scene.points()
                     if code == "patrol.checkpoint_ok"}


# Refusals -------------------------------------------------------------------------------------

def test_a_wrong_code_is_refused_and_recorded(scene):
    patrol = scene.start()
    clock.advance(MIN)
    tag = scene.tags[0]
    wrong = f"{(int(tag.code(clock.now())) + 1) % 1_000_000:06d}"
    body = refused(scene.scan(patrol["id"], 0, code=wrong), "code_invalid")
    assert body["details"]["attempts_left"] == 4
    rows = stored(scene, patrol["id"])
    assert [(r["status"], r["reject_code"]) for r in rows] == [("rejected", "code_invalid")]
    assert scene.get(f"/patrols/{patrol['id']}").json["wrong_codes"] == 1
    summary, paid = finish_points(scene, patrol["id"])
    assert summary["scans_rejected"] == 1 and summary["ok"] == 0 and paid == set()


def test_an_expired_code_is_refused(scene):
    patrol = scene.start()
    clock.advance(5 * MIN)
    old = scene.tags[0].code(clock.now() - 2 * MIN)  # four steps back: beyond one step of drift
    refused(scene.scan(patrol["id"], 0, code=old), "code_expired")
    # One step of drift is accepted both ways: a tag a little behind or ahead of the phone.
    behind = scene.scan(patrol["id"], 0, code=scene.tags[0].code(clock.now() - 30 * dt.timedelta(seconds=1)))
    assert behind.status_code == 201 and behind.json["status"] == "ok"
    ahead = scene.scan(patrol["id"], 1, code=scene.tags[1].code(clock.now() + dt.timedelta(seconds=30)))
    assert ahead.status_code == 201


def test_a_replayed_code_within_its_validity_is_refused(scene):
    patrol = scene.start()
    clock.advance(MIN)
    first = scene.scan(patrol["id"], 0)
    assert first.status_code == 201
    clock.advance(dt.timedelta(seconds=5))  # the tag still shows the same code
    again = scene.scan(patrol["id"], 0, code=scene.tags[0].code(clock.now()))
    refused(again, "code_replayed")
    # The next code of the same tag is a new visit, not a replay.
    clock.advance(MIN)
    assert scene.scan(patrol["id"], 0).status_code == 201
    rows = stored(scene, patrol["id"])
    assert [r["status"] for r in rows] == ["ok", "rejected", "ok"]
    assert rows[1]["reject_code"] == "code_replayed"
    summary, paid = finish_points(scene, patrol["id"])
    assert summary["ok"] == 1 and paid == {scene.tags[0].id}


def test_a_device_time_ahead_of_the_server_is_refused(scene):
    patrol = scene.start()
    refused(scene.scan(patrol["id"], 0, clock.now() + 6 * MIN), "device_time_in_future")
    # Up to five minutes ahead is a phone clock running fast, accepted.
    assert scene.scan(patrol["id"], 1, clock.now() + 4 * MIN).status_code == 201


def test_a_device_time_outside_the_patrol_is_refused(scene):
    clock.advance(20 * MIN)
    patrol = scene.start()
    refused(scene.scan(patrol["id"], 0, clock.now() - 10 * MIN), "scan_outside_patrol")
    assert stored(scene, patrol["id"])[0]["reject_code"] == "scan_outside_patrol"


def test_a_position_worse_than_the_station_limit_is_refused(scene):
    patrol = scene.start()
    clock.advance(MIN)
    body = refused(scene.scan(patrol["id"], 0, accuracy_m=150), "position_inaccurate")
    assert body["details"] == {"field": "accuracy_m", "accuracy_m": 150, "limit_m": 100}


def test_five_wrong_codes_lock_the_patrol_until_an_officer_unlocks_it(scene):
    patrol = scene.start()
    for attempt in range(5):
        clock.advance(dt.timedelta(seconds=40))
        answer = scene.scan(patrol["id"], attempt % 5, code="000000")
        refused(answer, "code_invalid")
        assert answer.json["details"]["attempts_left"] == 4 - attempt
    clock.advance(dt.timedelta(seconds=40))
    locked = scene.scan(patrol["id"], 0)  # even a right code now
    refused(locked, "patrol_locked")
    assert len(stored(scene, patrol["id"])) == 5  # refusals after the lock are not even stored
    assert scene.post(f"/patrols/{patrol['id']}/unlock").status_code == 403
    unlocked = scene.post(f"/patrols/{patrol['id']}/unlock", scene.officer)
    assert unlocked.status_code == 200 and unlocked.json["wrong_codes"] == 0
    assert scene.scan(patrol["id"], 0).status_code == 201


def test_a_checkpoint_of_another_route_is_refused(scene):
    _, other_tags = scene.make_route("Day round", count=2)
    patrol = scene.start()
    clock.advance(MIN)
    answer = scene.post(f"/patrols/{patrol['id']}/scans", json={
        **scene.body(0), "checkpoint_id": other_tags[0].id, "code": other_tags[0].code(clock.now())})
    refused(answer, "checkpoint_not_on_route")
    assert scene.delete(f"/checkpoints/{scene.tags[4].id}").status_code == 204
    refused(scene.scan(patrol["id"], 4), "checkpoint_not_on_route")  # taken off the route
    assert stored(scene, patrol["id"]) == []  # no checkpoint, nothing to hold the attempt


def test_the_printed_static_code_is_accepted_as_lower_assurance_once_per_patrol(scene):
    patrol = scene.start()
    clock.advance(MIN)
    typed = scene.tags[0].static_code.replace("-", " ").lower()
    answer = scene.scan(patrol["id"], 0, code=typed)
    assert answer.status_code == 201 and answer.json["assurance"] == "static"
    assert answer.json["status"] == "ok"
    clock.advance(10 * MIN)
    refused(scene.scan(patrol["id"], 0, code=scene.tags[0].static_code), "code_replayed")
    summary, paid = finish_points(scene, patrol["id"])
    # Lower assurance earns nothing unless the station says so.
    assert (summary["ok"], summary["ok_static"]) == (1, 1) and paid == set()
    assert summary["points"] == 0 and scene.points() == []


def test_a_station_may_refuse_static_codes_or_pay_for_them(scene):
    settings(scene, allow_static_codes=False)
    patrol = scene.start()
    clock.advance(MIN)
    refused(scene.scan(patrol["id"], 0, code=scene.tags[0].static_code), "static_codes_not_allowed")
    scene.finish(patrol["id"])
    settings(scene, static_codes_earn_points=True)
    patrol = scene.start()
    clock.advance(MIN)
    assert scene.scan(patrol["id"], 0, code=scene.tags[0].static_code).status_code == 201
    summary, paid = finish_points(scene, patrol["id"])
    assert summary["ok_static"] == 1 and len(paid) == 1 and summary["points"] == 2


def test_a_rotated_secret_replaces_the_codes_but_earlier_offline_scans_still_verify(scene):
    patrol = scene.start()
    clock.advance(2 * MIN)
    made_before = clock.now() - MIN
    old_code = scene.tags[0].code(made_before)
    rotated = scene.post(f"/checkpoints/{scene.tags[0].id}/rotate-secret", scene.officer)
    assert rotated.status_code == 200 and rotated.json["static_code"] != scene.tags[0].static_code
    refused(scene.scan(patrol["id"], 0, code=scene.tags[0].code(clock.now())), "code_invalid")
    late = scene.scan(patrol["id"], 0, made_before, code=old_code)
    assert late.status_code == 201 and late.json["status"] == "ok"
    new_secret = rotated.json["secret"]
    from tests.plugins.patrol.conftest import totp

    clock.advance(MIN)
    fresh = scene.scan(patrol["id"], 0, code=totp(new_secret, clock.now()))
    assert fresh.status_code == 201


# Flags ----------------------------------------------------------------------------------------

def flagged(answer, *reasons):
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "flagged" and answer.json["flags"] == list(reasons)
    return answer.json


def test_outside_the_radius_taking_accuracy_into_account(scene):
    patrol = scene.start()
    tag = scene.tags[0]  # radius 30 m
    clock.advance(MIN)
    flagged(scene.scan(patrol["id"], 0, position=offset(100, 0, (tag.lat, tag.lon)),
                       accuracy_m=10), "outside_radius")
    clock.advance(MIN)
    # 70 m away with a 45 m fix: 70 - 45 <= 30, inside.
    ok = scene.scan(patrol["id"], 1, position=offset(70, 0, (scene.tags[1].lat, scene.tags[1].lon)),
                    accuracy_m=45)
    assert ok.status_code == 201 and ok.json["status"] == "ok"
    clock.advance(MIN)
    # A poor fix widens the fence by 50 m at most: 130 m with 99 m accuracy is outside.
    flagged(scene.scan(patrol["id"], 2, position=offset(130, 0, (scene.tags[2].lat, scene.tags[2].lon)),
                       accuracy_m=99), "outside_radius")
    summary, paid = finish_points(scene, patrol["id"])
    assert (summary["ok"], summary["flagged"]) == (1, 2)
    assert summary["flag_reasons"] == {"outside_radius": 2}
    assert paid == {scene.tags[1].id}


def test_an_impossible_speed_between_scans(scene):
    patrol = scene.start()
    clock.advance(MIN)
    assert scene.scan(patrol["id"], 0).json["status"] == "ok"
    clock.advance(dt.timedelta(seconds=30))
    # 600 m in 30 s is 72 km/h: nobody walks that.
    flagged(scene.scan(patrol["id"], 4), "impossible_speed")
    clock.advance(3 * MIN)
    # 150 m in 3 minutes is a walk.
    assert scene.scan(patrol["id"], 3).json["status"] == "ok"
    summary, paid = finish_points(scene, patrol["id"])
    assert summary["flag_reasons"] == {"impossible_speed": 1}
    assert scene.tags[4].id not in paid and len(paid) == 2


def test_a_mock_location(scene):
    patrol = scene.start()
    clock.advance(MIN)
    flagged(scene.scan(patrol["id"], 0, is_mock=True), "mock_location")
    summary, paid = finish_points(scene, patrol["id"])
    assert summary["flagged"] == 1 and paid == set()


def test_identical_coordinates_repeated_across_scans(scene):
    patrol = scene.start()
    clock.advance(MIN)
    position = offset(4.1234, 3.9876, (scene.tags[0].lat, scene.tags[0].lon))
    assert scene.scan(patrol["id"], 0, position=position).json["status"] == "ok"
    clock.advance(5 * MIN)
    flagged(scene.scan(patrol["id"], 0, position=position), "repeated_coordinates")
    rows = stored(scene, patrol["id"])
    assert [r["flags"] for r in rows] == [[], ["repeated_coordinates"]]


def test_an_upload_long_after_the_device_time(scene):
    """The station's one bound for device times (max_offline_minutes, 12 hours by default)."""
    patrol = scene.start()
    made = T0 + MIN
    clock.advance(11 * 60 * MIN)
    assert scene.scan(patrol["id"], 0, made).status_code == 201  # late, within the bound
    clock.advance(2 * 60 * MIN)
    refused(scene.scan(patrol["id"], 1, T0 + 2 * MIN), "device_time_too_old")
    summary, paid = finish_points(scene, patrol["id"])
    assert summary["flag_reasons"] == {} and paid == {scene.tags[0].id}


def test_out_of_order_on_an_ordered_route(scene):
    route_id, tags = scene.make_route("Ordered round", ordered=True, count=3)
    scene.tags = tags
    patrol = scene.start(route_id=route_id)
    clock.advance(3 * MIN)
    flagged(scene.scan(patrol["id"], 1), "out_of_order")
    clock.advance(3 * MIN)
    assert scene.scan(patrol["id"], 0).json["status"] == "ok"
    clock.advance(6 * MIN)
    assert scene.scan(patrol["id"], 2).json["status"] == "ok"
    summary, paid = finish_points(scene, patrol["id"])
    assert (summary["ok"], summary["flagged"]) == (2, 1)
    assert paid == {tags[0].id, tags[2].id}


@pytest.mark.parametrize("field,value", [("device_time", "2026-03-02T12:00:00"),
                                         ("lat", 91), ("accuracy_m", -1), ("client_id", "x")])
def test_malformed_scans_are_422(scene, field, value):
    patrol = scene.start()
    body = {**scene.body(0), field: value}
    answer = scene.post(f"/patrols/{patrol['id']}/scans", json=body)
    assert answer.status_code == 422 and answer.json["code"] == "validation_error"
    assert field in answer.json["details"]["fields"]["json"]
