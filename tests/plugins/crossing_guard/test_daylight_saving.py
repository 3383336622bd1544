"""Reminders in a zone with daylight saving: the evening before and the hour before follow the
station's wall clock across the change (Europe/London, spring forward and fall back)."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from plugins.crossing_guard import jobs
from tests.plugins.crossing_guard.conftest import FROZEN, build

UTC = dt.UTC


@pytest.mark.parametrize("monday, starts, evening", [
    # Clocks go forward on Sunday 29 March 2026 at 01:00 UTC: Monday 07:10 BST is 06:10 UTC,
    # and Sunday's 19:00 is already BST (18:00 UTC).
    ("2026-03-30", dt.datetime(2026, 3, 30, 6, 10, tzinfo=UTC),
     dt.datetime(2026, 3, 29, 18, 0, tzinfo=UTC)),
    # Clocks go back on Sunday 25 October 2026 at 01:00 UTC: both are GMT again.
    ("2026-10-26", dt.datetime(2026, 10, 26, 7, 10, tzinfo=UTC),
     dt.datetime(2026, 10, 25, 19, 0, tzinfo=UTC)),
])
def test_reminders_follow_the_wall_clock_across_the_change(world, monday, starts, evening):
    clock.freeze(FROZEN)
    crossing = build(world, code="london", timezone="Europe/London")
    made = crossing.school(posts=[{"name": "Gate", "min_guards": 1, "max_guards": 2}],
                           term=(monday, monday))
    crossing.generate(made["term"])
    [shift] = crossing.shifts()
    assert dt.datetime.fromisoformat(shift["starts_at"]).astimezone(UTC) == starts
    guard = crossing.guard("Guard A")
    assert crossing.post(f"/shifts/{shift['id']}/signups", guard).status_code == 201
    station, session = crossing.station, crossing.session
    minute = dt.timedelta(minutes=1)
    assert jobs.send_reminders(session, station, evening - minute) == 0
    assert jobs.send_reminders(session, station, evening) == 1
    assert jobs.send_reminders(session, station, starts - dt.timedelta(minutes=61)) == 0
    assert jobs.send_reminders(session, station, starts - dt.timedelta(minutes=60)) == 1
    session.commit()
    assert len(crossing.notes(guard, "crossing_guard.reminder_evening")) == 1
    assert len(crossing.notes(guard, "crossing_guard.reminder_hour")) == 1
