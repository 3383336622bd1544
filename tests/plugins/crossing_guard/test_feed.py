"""The calendar feed: standard iCalendar, exactly my shifts, a secret address that can be reset."""

from __future__ import annotations

import datetime as dt

import icalendar


def _feed_path(url: str) -> str:
    return url[url.index("/api/"):]


def _events(body: bytes) -> list:
    calendar = icalendar.Calendar.from_ical(body)
    return [c for c in calendar.walk() if c.name == "VEVENT"]


def test_the_feed_lists_exactly_my_shifts_and_a_reset_stops_the_old_address(crossing):
    made = crossing.school(
        name="Sunny Primary, East; campus",
        posts=[{"name": "North gate", "min_guards": 1, "max_guards": 1}],
        templates=[{"name": "Morning", "weekdays": [1, 5], "starts_time": "07:10",
                    "ends_time": "07:50"},
                   {"name": "Afternoon", "weekdays": [1, 5], "starts_time": "16:30",
                    "ends_time": "17:10"}],
        term=("2026-03-02", "2026-03-13"))
    crossing.generate(made["term"])
    me, other = crossing.guard("Guard A"), crossing.guard("Guard B")
    shifts = crossing.shifts()
    mine = [shifts[0], shifts[3]]
    for shift in mine:
        assert crossing.post(f"/shifts/{shift['id']}/signups", me).status_code == 201
    crossing.post(f"/shifts/{shifts[1]['id']}/signups", other)
    waiting = crossing.post(f"/shifts/{shifts[1]['id']}/signups", me)  # full: waitlisted
    assert waiting.json["status"] == "waitlisted"
    crossing.post(f"/shifts/{shifts[2]['id']}/signups", me)
    crossing.call("DELETE", f"/shifts/{shifts[2]['id']}/signups/me", me)  # withdrawn

    assert crossing.get("/feed", me).json == {"active": False, "created_at": None}
    made_feed = crossing.post("/feed", me)
    assert made_feed.status_code == 201
    url = made_feed.json["url"]
    assert url.startswith("http") and url.endswith(".ics")
    assert crossing.get("/feed", me).json["active"] is True

    answer = crossing.client.get(_feed_path(url))  # no Authorization header: the URL is the key
    assert answer.status_code == 200
    assert answer.mimetype == "text/calendar"
    body = answer.get_data()
    assert b"\r\n" in body and all(len(line) <= 75 for line in body.split(b"\r\n"))
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0" and "PRODID" in calendar
    events = _events(body)
    assert len(events) == 2
    by_start = sorted(events, key=lambda e: e.decoded("DTSTART"))
    expected = sorted(mine, key=lambda s: s["starts_at"])
    for event, shift in zip(by_start, expected, strict=True):
        assert event.decoded("DTSTART") == dt.datetime.fromisoformat(shift["starts_at"])
        assert event.decoded("DTEND") == dt.datetime.fromisoformat(shift["ends_at"])
        assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
        assert str(event["UID"]) == f"crossing-shift-{shift['id']}@east.wardens"
        assert str(event["SUMMARY"]) == shift["title"]
        assert "Sunny Primary, East; campus" in str(event["LOCATION"])
        assert event["GEO"].latitude == 35.0
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == 2

    reset = crossing.post("/feed", me)
    assert reset.status_code == 201 and reset.json["url"] != url
    old = crossing.client.get(_feed_path(url))
    assert old.status_code == 404 and old.json["code"] == "feed_not_found"
    fresh = crossing.client.get(_feed_path(reset.json["url"]))
    assert fresh.status_code == 200 and len(_events(fresh.get_data())) == 2

    other_feed = crossing.post("/feed", other).json["url"]
    theirs = _events(crossing.client.get(_feed_path(other_feed)).get_data())
    assert [str(e["UID"]) for e in theirs] == [f"crossing-shift-{shifts[1]['id']}@east.wardens"]

    assert crossing.call("DELETE", "/feed", me).status_code == 204
    assert crossing.client.get(_feed_path(reset.json["url"])).status_code == 404


def test_a_moved_shift_is_a_new_sequence_and_a_cancelled_one_leaves_the_feed(crossing):
    made = crossing.school(term=("2026-03-02", "2026-03-06"))
    crossing.generate(made["term"])
    me = crossing.guard("Guard A")
    monday, friday = crossing.shifts()
    for shift in (monday, friday):
        crossing.post(f"/shifts/{shift['id']}/signups", me)
    path = _feed_path(crossing.post("/feed", me).json["url"])
    crossing.call("PATCH", f"/templates/{made['templates'][0]}", crossing.officer,
                  json={"starts_time": "07:00"})
    crossing.post(f"/shifts/{friday['id']}/cancel", crossing.leader, {"reason": "School trip"})
    events = _events(crossing.client.get(path).get_data())
    assert len(events) == 1
    assert int(events[0]["SEQUENCE"]) == 1
    assert events[0].decoded("DTSTART") == dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.UTC)


def test_a_made_up_or_foreign_address_is_404(crossing, world):
    assert crossing.client.get(crossing.url("/feed/not-a-real-token.ics")).status_code == 404
    me = crossing.guard("Guard A")
    url = _feed_path(crossing.post("/feed", me).json["url"])
    other = world.station("west", plugins=("crossing_guard",))
    assert other is not None
    moved = crossing.client.get(url.replace("/stations/east/", "/stations/west/"))
    assert moved.status_code == 404 and moved.json["code"] == "feed_not_found"
    off = world.station("north")
    assert off is not None
    switched_off = crossing.client.get(url.replace("/stations/east/", "/stations/north/"))
    assert switched_off.status_code == 404 and switched_off.json["code"] == "plugin_disabled"
