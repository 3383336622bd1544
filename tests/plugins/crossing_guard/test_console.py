"""The crossing guard's console pages: schools and posts on the map, the calendar, templates, the
shift board with its posts under their minimum, swaps, and hours per guard per term."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import uuid

import openpyxl

from core import clock
from tests.fixtures.console import post

# Monday 2 and Friday 6 March 2026, 07:10-07:50 in Shanghai.
MONDAY = dt.datetime(2026, 3, 1, 23, 10, tzinfo=dt.UTC)
FRIDAY = dt.datetime(2026, 3, 5, 23, 10, tzinfo=dt.UTC)


def _browser(console, who):
    """A console signed in as ``who``, in English."""
    browser = console(who.phone)
    browser.get("/console/language/en")
    return browser


def _page(crossing, console, who, path):
    answer = _browser(console, who).get(f"/console/{crossing.code}/crossing-guard/{path}")
    assert answer.status_code == 200, answer.get_data(as_text=True)[-500:]
    return html.unescape(answer.get_data(as_text=True))


def _shift_box(text, shift_id):
    """The board's box of one shift: its classes and its words."""
    found = re.search(rf'<div class="([^"]*)" id="shift-{shift_id}">(.*?)</div>', text, re.S)
    assert found, f"shift {shift_id} is not on the board"
    return found.group(1).split(), " ".join(re.sub(r"<[^>]+>", " ", found.group(2)).split())


def _hours_rows(text):
    """The hours table: display name -> (completed, scheduled, on site, no-shows)."""
    rows = re.findall(r'<tr data-user="\d+"><td>([^<]*)</td><td>(\d+)</td><td>([\d.]+)</td>'
                      r'<td>([\d.]+)</td><td>(\d+)</td></tr>', text)
    return {name: tuple(values) for name, *values in rows}


# Schools and posts -------------------------------------------------------------------------------

def test_the_schools_page_shows_each_school_and_its_posts_on_the_map(crossing, console):
    made = crossing.school(posts=[{"name": "North gate", "min_guards": 2, "max_guards": 3},
                                  {"name": "Bridge crossing", "kind": "crossing", "lat": 35.001,
                                   "min_guards": 1, "max_guards": 4}])
    text = _page(crossing, console, crossing.officer, "schools")
    assert "Sunny Primary" in text and "North gate 2–3" in text and "Bridge crossing 1–4" in text
    points = json.loads(re.search(r"data-points='([^']*)'", text).group(1))
    assert {"lat": 35.001, "lon": 116.0, "label": "Bridge crossing (1–4)"} in points
    assert 'data-pick="new-school"' in text

    school = _page(crossing, console, crossing.officer, f"schools/{made['school']}")
    row = re.search(rf'<tr id="post-{made["posts"][1]}">(.*?)</tr>', school, re.S).group(1)
    assert 'name="min_guards" type="number" min="0" max="50" value="1"' in row
    assert 'name="max_guards" type="number" min="1" max="50" value="4"' in row


def test_an_officer_places_a_school_and_a_post_and_the_api_reads_them_back(crossing, console):
    browser = _browser(console, crossing.officer)
    base = f"/console/{crossing.code}/crossing-guard"
    made = post(browser, f"{base}/schools", {"name": "Hill School", "address": "1 Hill Road",
                                             "lat": "35.01", "lon": "116.02"},
                page=f"{base}/schools")
    assert made.status_code == 303
    school = crossing.get("/schools", crossing.officer).json[0]
    assert (school["name"], school["lat"], school["lon"]) == ("Hill School", 35.01, 116.02)
    page = made.headers["Location"]
    assert page.endswith(f"/schools/{school['id']}")

    placed = post(browser, f"{page}/posts", {"name": "East gate", "kind": "gate", "lat": "35.0102",
                                             "lon": "116.0201", "min_guards": "2",
                                             "max_guards": "3", "radius_m": "40"}, page=page)
    assert placed.status_code == 303
    posts = crossing.get(f"/schools/{school['id']}/posts", crossing.officer).json
    assert [(p["name"], p["min_guards"], p["max_guards"], p["radius_m"]) for p in posts] == [
        ("East gate", 2, 3, 40)]

    changed = post(browser, f"{base}/posts/{posts[0]['id']}", {
        "name": "East gate", "min_guards": "1", "max_guards": "4", "radius_m": "40"}, page=page)
    assert changed.status_code == 303
    again = crossing.get(f"/posts/{posts[0]['id']}", crossing.officer).json
    assert (again["min_guards"], again["max_guards"]) == (1, 4)
    off = post(browser, f"{base}/posts/{posts[0]['id']}", {"active": "0"}, page=page)
    assert off.status_code == 303
    assert crossing.get(f"/posts/{posts[0]['id']}", crossing.officer).json["active"] is False


def test_a_minimum_above_the_maximum_is_refused_in_the_page_and_nothing_is_written(
        crossing, console):
    made = crossing.school()
    browser = console(crossing.officer.phone)  # in the officer's language, as the API answers
    page = f"/console/{crossing.code}/crossing-guard/schools/{made['school']}"
    answer = post(browser, f"{page}/posts", {"form": "new-post", "name": "West gate",
                                             "kind": "gate", "lat": "35.0", "lon": "116.0",
                                             "min_guards": "3", "max_guards": "2"}, page=page)
    api = crossing.post(f"/schools/{made['school']}/posts", crossing.officer, {
        "name": "West gate", "kind": "gate", "lat": 35.0, "lon": 116.0, "min_guards": 3,
        "max_guards": 2})
    assert answer.status_code == 422 == api.status_code
    text = html.unescape(answer.get_data(as_text=True))
    assert api.json["message"] in text and 'value="West gate"' in text
    posts = crossing.get(f"/schools/{made['school']}/posts", crossing.officer).json
    assert [p["name"] for p in posts] == ["North gate"]


# Terms, closures and templates -------------------------------------------------------------------

def test_terms_and_closures_are_listed_made_changed_and_generated(crossing, console):
    made = crossing.school(term=("2026-03-02", "2026-03-13"))
    browser = _browser(console, crossing.officer)
    page = f"/console/{crossing.code}/crossing-guard/calendar"
    text = html.unescape(browser.get(page).get_data(as_text=True))
    assert 'value="Spring"' in text and 'value="2026-03-13"' in text

    renamed = post(browser, f"/console/{crossing.code}/crossing-guard/terms/{made['term']}",
                   {"name": "Spring term", "starts_on": "2026-03-02", "ends_on": "2026-03-20"},
                   page=page)
    assert renamed.status_code == 303
    term = crossing.get(f"/terms/{made['term']}", crossing.officer).json
    assert (term["name"], term["ends_on"]) == ("Spring term", "2026-03-20")
    generated = post(browser, f"/console/{crossing.code}/crossing-guard/terms/{made['term']}/"
                     "generate", page=page)
    assert generated.status_code == 200
    assert "6 new" in generated.get_data(as_text=True)  # Mon and Fri, 2-20 March
    assert len(crossing.shifts()) == 6

    closed = post(browser, f"/console/{crossing.code}/crossing-guard/closures", {
        "kind": "exam", "school_id": str(made["school"]), "starts_on": "2026-03-13",
        "ends_on": "2026-03-13", "reason": "Exams"}, page=page)
    assert closed.status_code == 303
    assert len(crossing.shifts()) == 5
    text = html.unescape(browser.get(page).get_data(as_text=True))
    assert "Exams" in text and "Sunny Primary" in text

    backwards = post(browser, f"/console/{crossing.code}/crossing-guard/terms", {
        "form": "term", "name": "Summer", "starts_on": "2026-07-10", "ends_on": "2026-07-01"},
        page=page)
    assert backwards.status_code == 422
    assert 'value="Summer"' in backwards.get_data(as_text=True)
    assert [t["name"] for t in crossing.get("/terms", crossing.officer).json] == ["Spring term"]


def test_templates_are_listed_made_changed_and_archived(crossing, console):
    made = crossing.school(term=("2026-03-02", "2026-03-13"))
    crossing.generate(made["term"])
    browser = _browser(console, crossing.officer)
    page = f"/console/{crossing.code}/crossing-guard/templates"
    text = html.unescape(browser.get(page).get_data(as_text=True))
    assert "Sunny Primary · North gate" in text and 'value="07:10"' in text

    added = post(browser, page, {"post_id": str(made["posts"][0]), "name": "Afternoon",
                                 "weekdays": ["1", "3"], "starts_time": "16:30",
                                 "ends_time": "17:10"}, page=page)
    assert added.status_code == 303
    listed = {t["name"]: t for t in crossing.get("/templates", crossing.officer).json}
    assert listed["Afternoon"]["weekdays"] == [1, 3]
    assert listed["Afternoon"]["starts_time"] == "16:30"

    template_id = made["templates"][0]
    moved = post(browser, f"{page}/{template_id}", {"name": "Morning", "weekdays": ["1", "5"],
                                                     "starts_time": "07:00",
                                                     "ends_time": "07:50"}, page=page)
    assert moved.status_code == 303
    assert {s["starts_at"] for s in crossing.shifts(template_id=template_id)} == {
        "2026-03-01T23:00:00+00:00", "2026-03-05T23:00:00+00:00",
        "2026-03-08T23:00:00+00:00", "2026-03-12T23:00:00+00:00"}

    archived = post(browser, f"{page}/{template_id}", {"active": "0"}, page=page)
    assert archived.status_code == 303
    listed = {t["name"]: t for t in crossing.get("/templates", crossing.officer).json}
    assert listed["Morning"]["active"] is False
    assert crossing.shifts(template_id=template_id) == []  # its coming shifts are cancelled
    assert "archived" in browser.get(page).get_data(as_text=True)

    late = post(browser, page, {"form": "new", "post_id": str(made["posts"][0]),
                                "name": "Evening", "weekdays": ["2"], "starts_time": "18:00",
                                "ends_time": "17:00"}, page=page)
    assert late.status_code == 422 and 'value="Evening"' in late.get_data(as_text=True)
    assert "Evening" not in {t["name"] for t in crossing.get("/templates", crossing.officer).json}


# The shift board ---------------------------------------------------------------------------------

def test_the_board_shows_each_shifts_guards_against_the_posts_minimum_and_maximum(
        crossing, console):
    made = crossing.school(posts=[{"name": "North gate", "min_guards": 2, "max_guards": 3},
                                  {"name": "Side gate", "min_guards": 1, "max_guards": 2}],
                           term=("2026-02-23", "2026-03-13"))
    crossing.generate(made["term"])
    north, side = made["posts"]
    first = {p: [s for s in crossing.shifts(post_id=p)][0] for p in (north, side)}
    assert first[north]["date"] == "2026-02-23"
    for post_id, name in ((north, "Guard Wu"), (side, "Guard Qi")):
        guard = crossing.guard(name)
        assert crossing.post(f"/shifts/{first[post_id]['id']}/signups", guard).status_code == 201

    # From today (Friday 20 February in Shanghai) for two weeks: Mon 23, Fri 27 Feb, Mon 2 Mar.
    text = _page(crossing, console, crossing.officer, "board")
    assert "2026-02-20 to 2026-03-05" in text
    classes, words = _shift_box(text, first[north]["id"])
    assert "under-minimum" in classes
    assert "1 / 2–3" in words and "Under minimum" in words and "Guard Wu" in words
    classes, words = _shift_box(text, first[side]["id"])
    assert "under-minimum" not in classes
    assert "1 / 1–2" in words and "Under minimum" not in words and "Guard Qi" in words
    shown = {s["id"] for s in crossing.shifts() if s["date"] <= "2026-03-05"}
    assert set(map(int, re.findall(r'id="shift-(\d+)"', text))) == shown
    # The north gate's three days and the side gate's two days without anyone.
    assert "Shifts under their post's minimum: 5" in text

    for odd in ("board?from=someday", "board?from=0001-01-02", "board?from=9999-12-30"):
        assert "2026-02-20 to 2026-03-05" in _page(crossing, console, crossing.officer, odd)
    later = _page(crossing, console, crossing.officer, "board?from=2026-03-06")
    assert "2026-03-06 to 2026-03-19" in later
    assert set(map(int, re.findall(r'id="shift-(\d+)"', later))) == {
        s["id"] for s in crossing.shifts() if s["date"] >= "2026-03-06"}


def test_swaps_in_progress_show_who_offers_which_shift(crossing, console):
    made = crossing.school(term=("2026-03-02", "2026-03-06"))
    crossing.generate(made["term"])
    shift = crossing.shifts()[0]
    giver, taker = crossing.guard("Guard Ma"), crossing.guard("Guard Xu")
    assert crossing.post(f"/shifts/{shift['id']}/signups", giver).status_code == 201
    offered = crossing.post(f"/shifts/{shift['id']}/swap-offers", giver,
                            {"offered_to": taker.id, "note": "family trip"})
    assert offered.status_code == 201
    text = _page(crossing, console, crossing.officer, "swaps")
    row = re.search(rf'<tr id="swap-{offered.json["id"]}">(.*?)</tr>', text, re.S).group(1)
    assert "2026-03-02 07:10–07:50" in row and "Sunny Primary · North gate" in row
    assert "Guard Ma" in row and "family trip" in row and "Guard Xu" in row

    assert crossing.post(f"/swap-offers/{offered.json['id']}/take", taker).status_code == 200
    assert "family trip" not in _page(crossing, console, crossing.officer, "swaps")


# Hours per guard per term ------------------------------------------------------------------------

def _check(crossing, shift, who, kind):
    answer = crossing.post(f"/shifts/{shift['id']}/checkins", who, {
        "kind": kind, "lat": 35.0, "lon": 116.0, "accuracy_m": 8,
        "device_time": clock.now().isoformat(), "client_id": str(uuid.uuid4())})
    assert answer.status_code == 201, answer.json


def _guard_shift(crossing, shift, guards, starts):
    """The guards check in four minutes before the start and out 42 minutes after it."""
    for moment, kind in ((starts - dt.timedelta(minutes=4), "in"),
                         (starts + dt.timedelta(minutes=42), "out")):
        clock.freeze(moment)
        crossing.refresh()
        for guard in guards:
            _check(crossing, shift, guard, kind)


def _two_terms_guarded(crossing):
    """Two one-day terms, Spring A (Monday 2 March) and Spring B (Friday 6 March): Guard Both
    guards both days, Guard Second only the Friday. Returns the terms' ids by name."""
    crossing.school(posts=[{"name": "North gate", "min_guards": 1, "max_guards": 3}])
    terms = {}
    for name, day in (("Spring A", "2026-03-02"), ("Spring B", "2026-03-06")):
        made = crossing.post("/terms", crossing.officer, {"name": name, "starts_on": day,
                                                          "ends_on": day})
        assert made.status_code == 201, made.json
        terms[name] = made.json["id"]
        crossing.generate(terms[name])
    monday, friday = (next(s for s in crossing.shifts() if s["date"] == day)
                      for day in ("2026-03-02", "2026-03-06"))
    assert (monday["term_id"], friday["term_id"]) == (terms["Spring A"], terms["Spring B"])
    both, second = crossing.guard("Guard Both"), crossing.guard("Guard Second")
    for shift, guards in ((monday, [both]), (friday, [both, second])):
        for guard in guards:
            assert crossing.post(f"/shifts/{shift['id']}/signups", guard).status_code == 201
    _guard_shift(crossing, monday, [both], MONDAY)
    _guard_shift(crossing, friday, [both, second], FRIDAY)
    return terms


def test_each_terms_hours_count_only_that_terms_shifts(crossing, console):
    terms = _two_terms_guarded(crossing)
    second = next(p for p in crossing.people if p.user.display_name == "Guard Second")

    def api(term):
        answer = crossing.get("/reports/hours", crossing.officer,
                              query_string={"term_id": terms[term]})
        assert answer.status_code == 200, answer.json
        return {g["display_name"]: (g["shifts_completed"], g["scheduled_hours"])
                for g in answer.json["guards"]}

    assert api("Spring A") == {"Guard Both": (1, 0.67)}
    assert api("Spring B") == {"Guard Both": (1, 0.67), "Guard Second": (1, 0.67)}

    first = _page(crossing, console, crossing.officer, f"hours?term_id={terms['Spring A']}")
    assert "Spring A · 2026-03-02 – 2026-03-02" in first
    assert _hours_rows(first) == {"Guard Both": ("1", "0.67", "0.77", "0")}
    second_page = _page(crossing, console, crossing.officer, f"hours?term_id={terms['Spring B']}")
    assert _hours_rows(second_page) == {"Guard Both": ("1", "0.67", "0.77", "0"),
                                        "Guard Second": ("1", "0.67", "0.77", "0")}
    # A guard reads their own line only.
    own = _page(crossing, console, second, f"hours?term_id={terms['Spring B']}")
    assert _hours_rows(own) == {"Guard Second": ("1", "0.67", "0.77", "0")}


# Who may open what -------------------------------------------------------------------------------

def test_residents_and_volunteers_cannot_reach_the_staff_pages(crossing, console):
    made = crossing.school(term=("2026-03-02", "2026-03-06"))
    resident = crossing.world.person("Resident Lu", station=crossing.station, roles=["resident"])
    guard = crossing.guard("Guard Fan")
    base = f"/console/{crossing.code}/crossing-guard"
    for person in (resident, guard):
        browser = console(person.phone)
        for path in ("board", "swaps"):
            answer = browser.get(f"{base}/{path}")
            assert answer.status_code == 403, (person.user.display_name, path)
            assert "Sunny Primary" not in answer.get_data(as_text=True)
        assert 'id="new-school"' not in browser.get(f"{base}/schools").get_data(as_text=True)
        for path, form in (("schools", {"name": "Fake", "lat": "35", "lon": "116"}),
                           (f"schools/{made['school']}/posts",
                            {"name": "Fake", "kind": "gate", "lat": "35", "lon": "116",
                             "min_guards": "1", "max_guards": "2"}),
                           ("terms", {"name": "Fake", "starts_on": "2026-04-01",
                                      "ends_on": "2026-04-30"})):
            answer = post(browser, f"{base}/{path}", form, page=f"{base}/schools")
            assert answer.status_code == 403, (person.user.display_name, path)
        home = browser.get(f"/console/{crossing.code}/").get_data(as_text=True)
        assert f"{base}/board" not in home
    assert [s["name"] for s in crossing.get("/schools", crossing.officer).json] == [
        "Sunny Primary"]
    assert [t["name"] for t in crossing.get("/terms", crossing.officer).json] == ["Spring"]
    # The team's leader coordinates: the board is theirs too.
    assert console(crossing.leader.phone).get(f"{base}/board").status_code == 200


def test_the_hours_report_is_a_spreadsheet_of_each_terms_own_hours(crossing, console):
    _two_terms_guarded(crossing)
    browser = _browser(console, crossing.officer)
    answer = browser.get(f"/console/{crossing.code}/reports/crossing_guard.hours.xlsx"
                         "?from=2026-03-01&to=2026-03-31")
    assert answer.status_code == 200, answer.get_data(as_text=True)[-500:]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    heading = rows.index(["Term", "First day", "Last day", "Guard", "Shifts completed",
                          "Scheduled hours", "On-site hours", "No-shows"])
    figures = sorted((row[0], row[3], *row[4:]) for row in rows[heading + 1:] if row[0])
    assert figures == [("Spring A", "Guard Both", 1, 0.67, 0.77, 0),
                       ("Spring B", "Guard Both", 1, 0.67, 0.77, 0),
                       ("Spring B", "Guard Second", 1, 0.67, 0.77, 0)]
    april = browser.get(f"/console/{crossing.code}/reports/crossing_guard.hours.xlsx"
                        "?from=2026-04-01&to=2026-04-30")
    rows = list(openpyxl.load_workbook(io.BytesIO(april.data)).active.iter_rows(values_only=True))
    assert not any(row and row[0] in ("Spring A", "Spring B") for row in rows)
