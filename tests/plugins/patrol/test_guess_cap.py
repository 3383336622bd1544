"""Wrong codes per person across patrols: capped per rolling 24 h, lifted by time or an officer."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from core import clock
from core.models import AuditEvent
from tests.plugins.patrol.conftest import T0, teammate
from tests.plugins.patrol.test_scan_rules import refused, settings, stored

STEP = dt.timedelta(seconds=40)
DAY = dt.timedelta(hours=24)


def guess(scene, patrol_id, index=0, person=None, after=STEP):
    """One wrong code, ``after`` the last thing that happened; returns attempts left."""
    clock.advance(after)
    answer = scene.scan(patrol_id, index, person=person, code="000000")
    return refused(answer, "code_invalid")["details"]["attempts_left"]


def too_many(answer, cap):
    assert answer.status_code == 429, answer.json
    assert answer.json["code"] == "patrol_guesses_exceeded" and answer.json["message"]
    assert answer.json["details"]["max"] == cap
    wait = answer.json["details"]["retry_after"]
    assert answer.headers["Retry-After"] == str(wait)
    return dt.timedelta(seconds=wait)


def test_twenty_wrong_codes_over_four_patrols_stop_the_person_for_a_rolling_day(scene):
    first_guess = T0 + STEP
    for _ in range(4):  # each patrol locks itself after 5; the person goes on to the next
        patrol = scene.start()
        left = [guess(scene, patrol["id"], i) for i in range(5)]
        assert left == [4, 3, 2, 1, 0]
        assert scene.finish(patrol["id"]).status_code == 200
    last_guess = clock.now()

    fifth = scene.start()  # starting is harmless; scanning is not
    clock.advance(STEP)
    wait = too_many(scene.scan(fifth["id"], 0), 20)  # even with the right code
    assert clock.now() + wait == first_guess + DAY  # when the oldest guess leaves the window
    assert stored(scene, fifth["id"]) == []  # refusals are not stored, and not counted

    clock.freeze(first_guess + DAY - dt.timedelta(seconds=1))
    assert too_many(scene.scan(fifth["id"], 0), 20) == dt.timedelta(seconds=1)
    assert scene.finish(fifth["id"]).status_code == 200

    clock.freeze(first_guess + DAY)  # the oldest guess left the window: 19 in it, let in
    sixth = scene.start()
    assert scene.scan(sixth["id"], 0).status_code == 201
    # One more wrong code fills the window again, until the next oldest turns 24 h old.
    assert guess(scene, sixth["id"], 1, after=dt.timedelta(seconds=20)) == 0
    clock.advance(dt.timedelta(seconds=10))
    wait = too_many(scene.scan(sixth["id"], 1), 20)
    assert clock.now() + wait == first_guess + STEP + DAY
    # Once every guess has aged out, the day's budget is whole again.
    clock.freeze(last_guess + DAY + STEP)
    assert scene.finish(sixth["id"]).status_code == 200
    seventh = scene.start()
    assert guess(scene, seventh["id"], 2) == 4  # the patrol's limit binds first again


def test_the_station_cap_shows_in_attempts_left_and_an_officer_unlock_lifts_it(scene, session):
    settings(scene, max_wrong_codes_per_day=7)
    first = scene.start()
    assert [guess(scene, first["id"], i) for i in range(5)] == [4, 3, 2, 1, 0]  # the patrol's
    assert scene.finish(first["id"]).status_code == 200
    second = scene.start()
    assert [guess(scene, second["id"], i) for i in range(2)] == [1, 0]  # the day's: 7 in all

    clock.advance(STEP)
    too_many(scene.scan(second["id"], 0), 7)
    batch = scene.post(f"/patrols/{second['id']}/scans/batch", json={"scans": [scene.body(1)]})
    assert batch.status_code == 200
    assert [(r["result"], r["code"]) for r in batch.json["results"]] == [
        ("rejected", "patrol_guesses_exceeded")]

    # The cap is the person's: a teammate scans on.
    mate = teammate(scene)
    theirs = scene.start(mate)
    clock.advance(STEP)
    assert scene.scan(theirs["id"], 0, person=mate).status_code == 201

    assert scene.post(f"/patrols/{second['id']}/unlock").status_code == 403
    unlocked = scene.post(f"/patrols/{second['id']}/unlock", scene.officer)
    assert unlocked.status_code == 200 and unlocked.json["wrong_codes"] == 0
    clock.advance(STEP)
    assert scene.scan(second["id"], 2).status_code == 201
    # The guesses before the unlock no longer count: a fresh patrol budget, 6 left today.
    assert guess(scene, second["id"], 3) == 4
    audit = session.scalar(sa.select(AuditEvent.details).where(
        AuditEvent.action == "patrol.unlocked", AuditEvent.record_id == str(second["id"])))
    assert audit["wrong_codes"] == 2 and audit["guess_lock_until"] is not None


def test_the_cap_is_a_station_setting_with_a_default_of_twenty(deployment):
    from core.plugins import load_settings

    defaults = load_settings(deployment.plugins["patrol"].info, {})
    assert defaults["max_wrong_codes_per_day"] == 20
