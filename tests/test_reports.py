"""The console's reports: each downloads as .xlsx and CSV with the seeded figures, its station,
period and time zone; the period is checked, and only the roles a report names get it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import openpyxl
import pytest

from core import clock
from core.reports import Period
from tests.fixtures.console import console_client

# A Monday morning in Shanghai (01:00 UTC is 09:00 there), and the evening of the last day of
# October in Shanghai: already 1 November in UTC-less reckoning would be wrong, so it tests the
# month is the station's.
MORNING = dt.datetime(2026, 10, 5, 1, 0, tzinfo=dt.UTC)
LAST_EVENING = dt.datetime(2026, 10, 31, 12, 0, tzinfo=dt.UTC)  # 20:00 on 31 October there
HERE = (31.2304, 121.4737)


def _url(station, path):
    return f"/api/v1/stations/{station.code}{path}"


def _work(client, world, station, officer, volunteer, starts, hours, *, check_out_after):
    """A task of ``hours`` made by the officer, walked by the volunteer through the API."""
    world.client.application.extensions["wardens.throttle"].reset()
    clock.freeze(starts - dt.timedelta(days=1))
    officer = world.sign_in(officer.user, officer.phone)
    task = client.post(_url(station, "/tasks"), headers=officer.headers, json={
        "title": "Night round", "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=hours)).isoformat(), "lat": HERE[0],
        "lon": HERE[1], "radius_m": 100, "capacity": 3})
    assert task.status_code == 201, task.json
    volunteer = world.sign_in(volunteer.user, volunteer.phone)
    path = _url(station, f"/tasks/{task.json['id']}")
    assert client.post(f"{path}/signups", json={}, headers=volunteer.headers).status_code == 201
    for kind, at in (("in", starts), ("out", starts + check_out_after)):
        clock.freeze(at)
        volunteer = world.sign_in(volunteer.user, volunteer.phone)
        answer = client.post(f"{path}/checkins", headers=volunteer.headers, json={
            "kind": kind, "lat": HERE[0], "lon": HERE[1], "accuracy_m": 10, "is_mock": False,
            "device_time": at.isoformat(), "client_id": str(uuid.uuid4())})
        assert answer.status_code == 201, answer.json
    assert answer.json["assignment_status"] == "completed"


@pytest.fixture
def worked(client, world):
    """East station in October: Wang walked 2 h + 3 h (on site 1.5 h + 3 h), Li walked 1 h on
    31 October's evening; Wang's November task is outside the period."""
    east = world.station("east")
    officer = world.person("officer", station=east, roles=["officer"])
    wang = world.person("=Wang", station=east, roles=["volunteer"])  # a formula-like name
    li = world.person("Li", station=east, roles=["volunteer"])
    _work(client, world, east, officer, wang, MORNING, 2, check_out_after=dt.timedelta(hours=1.5))
    _work(client, world, east, officer, wang, MORNING + dt.timedelta(days=7), 3,
          check_out_after=dt.timedelta(hours=3))
    _work(client, world, east, officer, li, LAST_EVENING, 1, check_out_after=dt.timedelta(hours=1))
    _work(client, world, east, officer, wang, MORNING + dt.timedelta(days=40), 4,
          check_out_after=dt.timedelta(hours=4))
    clock.freeze(dt.datetime(2026, 11, 30, 4, 0, tzinfo=dt.UTC))
    world.client.application.extensions["wardens.throttle"].reset()
    return east, officer, wang, li


def _sheet(answer):
    assert answer.status_code == 200, answer.get_data(as_text=True)[-500:]
    assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    return [[cell for cell in row] for row in book.active.iter_rows(values_only=True)]


def test_volunteer_hours_per_person_and_month_as_a_spreadsheet(app, worked):
    east, officer, _wang, _li = worked
    browser = console_client(app, officer.phone)
    answer = browser.get("/console/east/reports/core.volunteer_hours.xlsx"
                         "?from=2026-10-01&to=2026-10-31")
    assert 'filename="east-core-volunteer-hours-2026-10-01-2026-10-31.xlsx"' in (
        answer.headers["Content-Disposition"])
    rows = _sheet(answer)
    words = {row[0]: row[1] for row in rows[1:5]}
    assert set(words.values()) == {"east station (east)", "2026-10-01 – 2026-10-31",
                                   "Asia/Shanghai", "2026-11-30 12:00"}
    header = rows.index([h for h in rows if h and h[1] in ("Month", "月份")][0])
    table = rows[header + 1:]
    # Li's evening of 31 October counts in October (station time), Wang's November task not;
    # the name starting with "=" stays text (the cell is no formula).
    assert table == [["=Wang", "2026-10", 2, 5.0, 4.5], ["Li", "2026-10", 1, 1.0, 1.0]]
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    assert book.active.cell(row=header + 2, column=1).data_type == "s"


def test_the_same_report_as_formula_safe_csv(app, worked):
    east, officer, _wang, _li = worked
    browser = console_client(app, officer.phone)
    answer = browser.get("/console/east/reports/core.volunteer_hours.csv"
                         "?from=2026-10-01&to=2026-12-31")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [line for line in lines if "Asia/Shanghai" in line][0][1:] == ["Asia/Shanghai"]
    assert ["'=Wang", "2026-10", "2", "5.0", "4.5"] in lines
    assert ["'=Wang", "2026-11", "1", "4.0", "4.0"] in lines
    assert ["Li", "2026-10", "1", "1.0", "1.0"] in lines


def test_the_reports_page_lists_what_the_reader_may_download(app, worked, world):
    east, officer, wang, _li = worked
    page = console_client(app, officer.phone).get("/console/east/reports?from=2026-10-01"
                                                  "&to=2026-10-31")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "core.volunteer_hours.xlsx?from=2026-10-01&amp;to=2026-10-31" in text
    assert "Asia/Shanghai" in text
    # east has no plugin switched on: no plugin's report is offered, nor served
    assert "patrol.coverage" not in text
    assert console_client(app, officer.phone).get(
        "/console/east/reports/patrol.coverage.xlsx").status_code == 404
    # a volunteer gets neither the page nor a file
    volunteer = console_client(app, wang.phone)
    assert volunteer.get("/console/east/reports").status_code == 403
    file = volunteer.get("/console/east/reports/core.volunteer_hours.xlsx")
    assert file.status_code in (403, 404) and file.mimetype == "text/html"


@pytest.mark.parametrize("query, shown", [
    ("from=2026-10-31&to=2026-10-01", "period_invalid"),
    ("from=2025-01-01&to=2026-10-31", "period_invalid"),
    ("from=31.10.2026&to=2026-11-30", "validation_error"),
])
def test_a_bad_period_is_the_page_with_its_error_and_no_file(app, worked, query, shown):
    from core import messages

    _east, officer, _wang, _li = worked
    browser = console_client(app, officer.phone)
    browser.get("/console/language/en")
    answer = browser.get(f"/console/east/reports/core.volunteer_hours.xlsx?{query}")
    assert answer.status_code == 422 and answer.mimetype == "text/html"
    text = answer.get_data(as_text=True)
    assert messages.render(shown, "en", {"max_days": 366}).replace("'", "&#39;") in text


def test_a_period_without_dates_is_last_month_in_the_stations_zone():
    clock.freeze(dt.datetime(2026, 2, 28, 17, 0, tzinfo=dt.UTC))  # 1 March 01:00 in Shanghai
    period = Period.last_month("Asia/Shanghai")
    assert (period.start, period.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert period.since == dt.datetime(2026, 1, 31, 16, 0, tzinfo=dt.UTC)
    assert period.until == dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC)


def test_patrol_coverage_per_grid_cell_holds_the_apis_figures(access_matrix):
    matrix = access_matrix
    code = matrix.station.code
    today = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    start = today - dt.timedelta(days=20)
    period = f"from={start.isoformat()}&to={today.isoformat()}"
    since = dt.datetime.combine(start, dt.time(), dt.timezone(dt.timedelta(hours=8)))
    until = since + dt.timedelta(days=21)
    api = matrix.client.get(f"/api/v1/stations/{code}/patrol/coverage", headers=matrix.people[
        "officer"], query_string={"since": since.isoformat(), "until": until.isoformat()})
    assert api.status_code == 200, api.json
    cells = api.json["grid_cells"]
    assert cells and sum(c["visits"] for c in cells) > 0  # the demo's scans are in the period
    browser = console_client(matrix.app, matrix.phones["officer"])
    rows = _sheet(browser.get(f"/console/{code}/reports/patrol.coverage.xlsx?{period}"))
    figures = {row[0]: row[1:4] for row in rows if row and row[0] in {c["name"] for c in cells}}
    assert figures == {c["name"]: [len(c["checkpoint_ids"]), c["visits"], c["flagged_visits"]]
                       for c in cells}
    # partners read coverage too; a volunteer is not offered it
    partner = console_client(matrix.app, matrix.phones["partner"])
    assert partner.get(f"/console/{code}/reports/patrol.coverage.csv?{period}").status_code == 200
    volunteer = console_client(matrix.app, matrix.phones["volunteer"])
    assert volunteer.get(f"/console/{code}/reports/patrol.coverage.csv?{period}").status_code in (
        403, 404)
