"""The anti-fraud console pages: the question bank (import with its lines' errors, export, the
starter bank), quizzes, what residents still get wrong, shops and their staff, offers, each
shop's settlement, and the two spreadsheet reports; officers and admins only."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import openpyxl
import pytest

from tests.fixtures.access_matrix import CONSOLE, MARKERS, STAFF
from tests.fixtures.console import console_client, post

#: every page of the plugin, under /console/<station>/anti-fraud/ ({shop}, {quiz}: record ids)
PAGES = ("questions", "questions/export?format=csv", "quizzes", "quizzes/{quiz}", "missed",
         "shops", "shops/{shop}", "offers", "shops/{shop}/settlement",
         "shops/{shop}/settlement.csv")
MARCH = "from=2026-03-01&to=2026-03-31"


def _browser(console, who):
    """A console signed in as ``who``, in English."""
    browser = console(who.phone)
    browser.get("/console/language/en")
    return browser


def _base(alliance):
    return f"/console/{alliance.station.code}/anti-fraud"


def _text(answer):
    return html.unescape(answer.get_data(as_text=True))


def _page(alliance, browser, path, status=200):
    answer = browser.get(f"{_base(alliance)}/{path}")
    assert answer.status_code == status, answer.get_data(as_text=True)[-800:]
    return _text(answer)


def _cells(row_html):
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row_html, re.S)]


def _rows(text, attribute):
    """(the row's ``data-<attribute>``, its cells) of each such row, in the page's order."""
    return [(key, _cells(row)) for key, row in
            re.findall(rf'<tr data-{attribute}="([^"]*)">(.*?)</tr>', text, re.S)]


def _answer(alliance, who, quiz, wrong_ids):
    """Start and submit an attempt: the questions in ``wrong_ids`` wrong, the others right."""
    attempt = alliance.attempt(who, quiz)
    answers = []
    for item in attempt["questions"]:
        good = next(i for i, text in enumerate(item["choices"]) if text.startswith("right"))
        pick = (good + 1) % len(item["choices"]) if item["question_id"] in wrong_ids else good
        answers.append({"question_id": item["question_id"], "choices": [pick]})
    return alliance.ok(alliance.post(who, f"/attempts/{attempt['id']}/submission",
                                     {"answers": answers}))


def _redeemed(alliance, bill_cents=5000):
    """A shop with a merchant, an offer (5 yuan off 30), and one coupon redeemed there."""
    shop = alliance.shop("Lucky Grocer")
    merchant = alliance.merchant(shop, "Till Wang")
    offer = alliance.offer(shop)
    resident = alliance.resident("Buyer Li", points=200)
    coupon = alliance.ok(alliance.claim(resident, offer), 201)
    alliance.ok(alliance.redeem(merchant, alliance.qr(resident, coupon), bill_cents), 201)
    return shop, offer, merchant


# What residents still get wrong ------------------------------------------------------------------

@pytest.fixture
def missed_scene(alliance):
    """Four questions, four residents: the question missed most has the highest id."""
    low = alliance.question(1, "order_brushing")
    kept = alliance.question(2, "order_brushing")
    loan = alliance.question(3, "fake_loan")
    high = alliance.question(4, "screen_sharing")
    quiz = alliance.quiz(question_count=4)
    wrong = [{high["id"], loan["id"], low["id"]}, {high["id"], loan["id"]},
             {high["id"], loan["id"]}, {high["id"]}]
    for n, ids in enumerate(wrong):
        _answer(alliance, alliance.resident(f"Resident {n}"), quiz, ids)
    return {"low": low["id"], "kept": kept["id"], "loan": loan["id"], "high": high["id"]}


def test_still_missed_ranks_by_share_wrong_not_by_id_in_the_api_and_the_page(
        alliance, missed_scene, console):
    ids = missed_scene
    assert ids["low"] < ids["kept"] < ids["loan"] < ids["high"]
    report = alliance.ok(alliance.get(alliance.officer, f"/reports/missed?{MARCH}"))
    assert (report["from"], report["to"], report["time_zone"]) == (
        "2026-03-01", "2026-03-31", "Asia/Shanghai")
    assert [(q["question_id"], q["answered"], q["wrong"], q["wrong_share"])
            for q in report["questions"]] == [
        (ids["high"], 4, 4, 1.0), (ids["loan"], 4, 3, 0.75), (ids["low"], 4, 1, 0.25),
        (ids["kept"], 4, 0, 0.0)]
    assert [(c["category"], c["answered"], c["wrong"], c["wrong_share"])
            for c in report["categories"]] == [
        ("screen_sharing", 4, 4, 1.0), ("fake_loan", 4, 3, 0.75), ("order_brushing", 8, 1, 0.125)]

    text = _page(alliance, _browser(console, alliance.officer), f"missed?{MARCH}")
    assert [(int(key), cells[0], cells[3:]) for key, cells in _rows(text, "question")] == [
        (ids["high"], "1", ["4", "4", "100.0%"]), (ids["loan"], "2", ["4", "3", "75.0%"]),
        (ids["low"], "3", ["4", "1", "25.0%"]), (ids["kept"], "4", ["4", "0", "0.0%"])]
    assert "Question 4 about screen_sharing?" in text
    assert [(key, cells[2:]) for key, cells in _rows(text, "category")] == [
        ("screen_sharing", ["4", "4", "100.0%"]), ("fake_loan", ["4", "3", "75.0%"]),
        ("order_brushing", ["8", "1", "12.5%"])]
    assert "Screen sharing and remote control (screen_sharing)" in text


def test_still_missed_counts_only_the_periods_days_and_refuses_a_backward_period(
        alliance, missed_scene, console):
    # Submitted on 2 March at 10:00 in Shanghai: the day before shows nothing.
    before = alliance.ok(alliance.get(alliance.officer, "/reports/missed?from=2026-02-01&to=2026-03-01"))
    assert before["questions"] == [] and before["categories"] == []
    backward = alliance.get(alliance.officer, "/reports/missed?from=2026-03-31&to=2026-03-01")
    assert (backward.status_code, backward.json["code"]) == (422, "period_invalid")
    not_a_day = alliance.get(alliance.officer, "/reports/missed?from=March&to=2026-03-01")
    assert not_a_day.status_code == 422
    resident = alliance.resident("Curious Resident")
    assert alliance.get(resident, f"/reports/missed?{MARCH}").status_code == 403

    browser = _browser(console, alliance.officer)
    empty = _page(alliance, browser, "missed?from=2026-02-01&to=2026-03-01")
    assert "No quiz was submitted in this period." in empty
    refused = _page(alliance, browser, "missed?from=2026-03-31&to=2026-03-01", status=422)
    assert "The period is invalid" in refused


def test_the_missed_report_is_declared_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").json
    op = spec["paths"]["/api/v1/stations/{station}/anti-fraud/reports/missed"]["get"]
    assert op["operationId"] == "anti_fraud_reports_missed"
    assert {p["name"] for p in op["parameters"] if p.get("in") == "query"} == {"from", "to", "locale"}
    assert "period_invalid" in op["x-error-codes"]["422"]
    assert "role_required" in op["x-error-codes"]["403"]
    body = op["responses"]["200"]["content"]["application/json"]["schema"]
    schema = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"from", "to", "time_zone", "questions", "categories"}


# Question bank -------------------------------------------------------------------------------------

CSV_HEADER = "key,category,text,choice_a,choice_b,choice_c,correct,explanation\n"
GOOD = ("fl-1,fake_loan,A loan app asks for a deposit first. Pay?,No,Yes,Maybe,A,Real lenders "
        "never ask.\n"
        "ss-1,screen_sharing,A caller asks you to share your screen. Do it?,Yes,No,Later,B,Hang "
        "up.\n")
BROKEN = GOOD + "ob-1,order_brushing,Paid to like products online. Real job?,No,Yes,,Z,Scam.\n"


def _import(browser, alliance, body, name="bank.csv", **form):
    page = f"{_base(alliance)}/questions"
    return post(browser, f"{page}/import", {"file": (io.BytesIO(body.encode()), name), **form},
                page=page)


def test_a_file_with_a_broken_line_shows_that_line_and_imports_nothing(alliance, console):
    browser = _browser(console, alliance.officer)
    answer = _import(browser, alliance, CSV_HEADER + BROKEN)
    assert answer.status_code == 422
    text = _text(answer)
    assert "The file has 1 problem(s), the first on line 4; nothing was imported." in text
    assert _rows(text, "line") == [("4", ["4", "correct", "The correct answer must name one or "
                                                          "more of the 2 choices, each once."])]
    assert alliance.ok(alliance.get(alliance.officer, "/questions")) == []
    # The API refuses the same file with the same line.
    api = alliance.post(alliance.officer, "/questions/import", data=(CSV_HEADER + BROKEN).encode(),
                        headers={"Content-Type": "text/csv", "Accept-Language": "en"})
    assert api.status_code == 422
    assert [(e["line"], e["field"]) for e in api.json["details"]["errors"]] == [(4, "correct")]

    bad_json = json.dumps({"questions": [{"category": "fake_loan", "text": "Deposit?",
                                          "choices": ["No", "Yes"], "correct": [0]},
                                         {"category": "fake_loan", "text": "",
                                          "choices": ["No", "Yes"], "correct": [0]}]}, indent=1)
    answer = _import(browser, alliance, bad_json, name="bank.json")
    assert answer.status_code == 422
    second = [n for n, line in enumerate(bad_json.splitlines(), 1) if line.strip() == "{"][2]
    assert [key for key, _cells in _rows(_text(answer), "line")] == [str(second)]
    assert alliance.ok(alliance.get(alliance.officer, "/questions")) == []


def test_the_bank_is_imported_checked_listed_exported_and_topped_up(alliance, console):
    browser = _browser(console, alliance.officer)
    checked = _import(browser, alliance, CSV_HEADER + GOOD, dry_run="1")
    assert checked.status_code == 200
    assert "The file is fine: 2 questions, 2 would be new" in _text(checked)
    assert alliance.ok(alliance.get(alliance.officer, "/questions")) == []

    done = _import(browser, alliance, CSV_HEADER + GOOD)
    assert done.status_code == 200
    text = _text(done)
    assert "Imported 2: 2 new, 0 updated, 0 unchanged." in text
    assert "2 live questions" in text
    assert "A caller asks you to share your screen. Do it?" in text
    row = re.search(r'<tr id="question-\d+"><td>ss-1</td>(.*?)</tr>', text, re.S).group(1)
    assert _cells(row)[0] == "Screen sharing and remote control (screen_sharing)"
    assert _cells(row)[-1] == "B"
    stored = alliance.ok(alliance.get(alliance.officer, "/questions"))
    assert sorted((q["key"], q["correct"]) for q in stored) == [("fl-1", [0]), ("ss-1", [1])]

    exported = browser.get(f"{_base(alliance)}/questions/export?format=csv")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"].endswith('-anti-fraud-questions.csv"')
    lines = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted((r["key"], r["correct"]) for r in lines) == [("fl-1", "A"), ("ss-1", "B")]
    as_json = json.loads(browser.get(f"{_base(alliance)}/questions/export?format=json").data)
    assert sorted(q["key"] for q in as_json["questions"]) == ["fl-1", "ss-1"]

    filtered = _page(alliance, browser, "questions?category=fake_loan")
    assert "A loan app asks for a deposit first. Pay?" in filtered
    assert "A caller asks you to share your screen" not in filtered

    page = f"{_base(alliance)}/questions"
    starter = post(browser, f"{page}/starter-bank", {"locales": "en"}, page=page)
    assert starter.status_code == 200
    added = int(re.search(r"Starter bank: (\d+) questions added.", _text(starter)).group(1))
    live = alliance.get(alliance.officer, "/questions?page_size=100")
    assert added > 0 and json.loads(live.headers["X-Pagination"])["total"] == added + 2


# Quizzes -------------------------------------------------------------------------------------------

def test_quizzes_show_their_draw_points_and_reward(alliance, console):
    alliance.bank()
    shop = alliance.shop()
    reward = alliance.offer(shop, title="Free tea for passing", points_cost=None)
    loans = alliance.quiz(title="Loan traps", question_count=3, categories=["fake_loan"],
                          points=30, pass_percent=70, reward_offer_id=reward["id"])
    plain = alliance.quiz(title="Everything", question_count=6, points=None, active=False)
    browser = _browser(console, alliance.officer)

    text = _page(alliance, browser, "quizzes")
    row = _cells(re.search(rf'<tr id="quiz-{loans["id"]}">(.*?)</tr>', text, re.S).group(1))
    assert row == ["Loan traps", "zh-CN", "3", "Fake loans (fake_loan)", "70%", "30",
                   "Free tea for passing", "yes"]
    row = _cells(re.search(rf'<tr id="quiz-{plain["id"]}">(.*?)</tr>', text, re.S).group(1))
    assert row == ["Everything", "zh-CN", "6", "Every category", "80%",
                   "20 (the station's rule)", "none", "no"]

    resident = alliance.resident("Quiz Taker")
    attempt = alliance.attempt(resident, loans)
    alliance.ok(alliance.post(resident, f"/attempts/{attempt['id']}/submission",
                              {"answers": alliance.answers(attempt)}))
    detail = _page(alliance, browser, f"quizzes/{loans['id']}")

    def cell(name):
        return _cells(re.search(rf'<tr id="quiz-{name}">(.*?)</tr>', detail, re.S).group(1))[1]

    assert (cell("draw"), cell("categories"), cell("points"), cell("reward"), cell("pass")) == (
        "3", "Fake loans (fake_loan) · zh-CN", "30", "Free tea for passing", "70%")
    results = re.search(r'<table id="quiz-results">.*?<tbody>(.*?)</tbody>', detail, re.S)
    assert _cells(results.group(1)) == ["1", "1", "1", "100.0%", "1"]
    assert browser.get(f"{_base(alliance)}/quizzes/99999").status_code == 404


# Shops, staff, offers, settlement -----------------------------------------------------------------

def test_a_shops_staff_are_put_on_by_phone_and_taken_off(alliance, console):
    shop = alliance.shop("Lucky Grocer", phone="0571-1234567")
    first = alliance.merchant(shop, "Till Wang")
    newcomer = alliance.world.person("Till Zhao", station=alliance.station,
                                     roles=["merchant"])
    resident = alliance.resident("Only Resident")
    browser = _browser(console, alliance.officer)
    page = f"{_base(alliance)}/shops/{shop['id']}"

    listed = _page(alliance, browser, "shops")
    assert "Lucky Grocer" in listed and "0571-1234567" in listed
    text = _page(alliance, browser, f"shops/{shop['id']}")
    assert _cells(re.search(rf'<tr id="staff-{first.id}">(.*?)</tr>', text, re.S).group(1))[:2] == [
        "Till Wang", first.phone]

    added = post(browser, f"{page}/staff", {"phone": newcomer.phone, "leader": "1"}, page=page)
    assert added.status_code == 303
    staff = alliance.ok(alliance.get(alliance.officer, f"/shops/{shop['id']}/staff"))
    assert [(m["display_name"], m["is_leader"]) for m in staff] == [("Till Wang", False),
                                                                    ("Till Zhao", True)]

    refused = post(browser, f"{page}/staff", {"phone": resident.phone}, page=page)
    assert refused.status_code == 422
    assert "Only members with the merchant role can be shop staff." in _text(refused)
    unknown = post(browser, f"{page}/staff", {"phone": "+8613900000001"}, page=page)
    assert unknown.status_code == 422
    assert "That person is not a member of this station." in _text(unknown)
    assert len(alliance.ok(alliance.get(alliance.officer, f"/shops/{shop['id']}/staff"))) == 2

    removed = post(browser, f"{page}/staff/{first.id}/remove", page=page)
    assert removed.status_code == 303
    staff = alliance.ok(alliance.get(alliance.officer, f"/shops/{shop['id']}/staff"))
    assert [m["display_name"] for m in staff] == ["Till Zhao"]


def test_offers_show_stock_limits_and_window(alliance, console):
    shop, offer, _merchant = _redeemed(alliance)
    grant = alliance.offer(shop, title="Tea for a pass", kind="percent", percent_off=20,
                           amount_off_cents=None, points_cost=None, stock_total=3,
                           per_resident_limit=1, min_spend_cents=0,
                           valid_until="2026-04-30T23:59:00+08:00")
    text = _page(alliance, _browser(console, alliance.officer), "offers")
    row = _cells(re.search(rf'<tr id="offer-{offer["id"]}">(.*?)</tr>', text, re.S).group(1))
    assert row[:7] == ["5 yuan off 30", "Lucky Grocer", "5.00 yuan off", "30.00", "50", "9 / 10",
                       "2"]
    assert row[7] == "2026-03-02 10:00 – 2026-04-01 10:00" and row[8:10] == ["7 days", "yes"]
    row = _cells(re.search(rf'<tr id="offer-{grant["id"]}">(.*?)</tr>', text, re.S).group(1))
    assert row[2:8] == ["20% off", "0.00", "quiz reward only", "3 / 3", "1",
                        "2026-03-02 10:00 – 2026-04-30 23:59"]


def test_an_offers_stock_limit_and_window_are_changed_as_the_api_changes_them(alliance, console):
    _shop, offer, _merchant = _redeemed(alliance)
    browser = _browser(console, alliance.officer)
    page = f"{_base(alliance)}/offers"
    form = {"stock_total": "12", "per_resident_limit": "3", "valid_from": "2026-03-02T10:00",
            "valid_until": "2026-05-01T20:00"}
    changed = post(browser, f"{page}/{offer['id']}", form, page=page)
    assert changed.status_code == 303
    stored = alliance.ok(alliance.get(alliance.officer, f"/offers/{offer['id']}"))
    assert (stored["stock_total"], stored["stock_left"], stored["per_resident_limit"]) == (12, 11, 3)
    assert stored["valid_until"] == "2026-05-01T12:00:00+00:00"
    row = _cells(re.search(rf'<tr id="offer-{offer["id"]}">(.*?)</tr>',
                           _page(alliance, browser, "offers"), re.S).group(1))
    assert row[5:8] == ["11 / 12", "3", "2026-03-02 10:00 – 2026-05-01 20:00"]

    # One coupon is out: the stock cannot fall below it, and nothing changes.
    below = post(browser, f"{page}/{offer['id']}", {**form, "stock_total": "0"}, page=page)
    api = alliance.patch(alliance.officer, f"/offers/{offer['id']}", {"stock_total": 0})
    assert below.status_code == 409 == api.status_code
    assert api.json["code"] == "offer_stock_below_claimed"
    assert 'value="0"' in _text(below) and "<details open>" in _text(below)
    backwards = post(browser, f"{page}/{offer['id']}", {**form, "valid_until": "2026-03-01T10:00"},
                     page=page)
    assert backwards.status_code == 422
    stored = alliance.ok(alliance.get(alliance.officer, f"/offers/{offer['id']}"))
    assert (stored["stock_total"], stored["valid_until"]) == (12, "2026-05-01T12:00:00+00:00")


def test_a_shops_settlement_shows_the_periods_redemptions_and_downloads_as_csv(alliance, console):
    shop, _offer, _merchant = _redeemed(alliance, bill_cents=4200)
    browser = _browser(console, alliance.officer)
    text = _page(alliance, browser, f"shops/{shop['id']}/settlement?{MARCH}")
    assert "Settlement: Lucky Grocer" in text
    redemption = re.search(r'<tr id="redemption-\d+">(.*?)</tr>', text, re.S).group(1)
    assert _cells(redemption)[2:] == ["5 yuan off 30", "points", "42.00", "5.00"]
    assert _cells(redemption)[0] == "2026-03-02 10:00"
    total = re.search(r'<tr id="settlement-total">(.*?)</tr>', text, re.S).group(1)
    assert _cells(total) == ["Total", "1", "", "", "42.00", "5.00"]

    april = _page(alliance, browser, f"shops/{shop['id']}/settlement?from=2026-04-01&to=2026-04-30")
    assert "No coupon was redeemed here in this period." in april

    download = browser.get(f"{_base(alliance)}/shops/{shop['id']}/settlement.csv?{MARCH}")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    api = alliance.get(alliance.officer, f"/reports/shops/{shop['id']}/redemptions?format=csv"
                       "&since=2026-02-28T16:00:00Z&until=2026-03-31T16:00:00Z")
    assert download.get_data(as_text=True) == api.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][-2:] == ["4200", "500"] and rows[-1][0] == "total"
    assert browser.get(f"{_base(alliance)}/shops/99999/settlement").status_code == 404


# The spreadsheet reports ---------------------------------------------------------------------------

def _sheet_rows(data):
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _after(rows, heading):
    start = rows.index(heading)
    return [row for row in rows[start + 1:] if any(v is not None for v in row)]


def test_pass_rates_and_redemptions_are_spreadsheets_holding_the_seeded_figures(
        alliance, console):
    alliance.bank()
    quiz = alliance.quiz(title="Spot the scam", question_count=5)
    for name, right in (("Passing Resident", 5), ("Failing Resident", 1)):
        person = alliance.resident(name)
        alliance.ok(alliance.submit(person, alliance.attempt(person, quiz), right=right))
    _redeemed(alliance, bill_cents=4200)
    alliance.shop("Quiet Bakery")
    browser = _browser(console, alliance.officer)
    reports = _text(browser.get(f"/console/{alliance.station.code}/reports?{MARCH}"))
    assert "anti_fraud.pass_rates.xlsx" in reports and "anti_fraud.redemptions.csv" in reports

    base = f"/console/{alliance.station.code}/reports"
    rates = browser.get(f"{base}/anti_fraud.pass_rates.xlsx?{MARCH}")
    assert rates.status_code == 200, rates.get_data(as_text=True)[-500:]
    rows = _sheet_rows(rates.data)
    assert rows[0][0] == "Anti-fraud quiz pass rates"
    assert rows[3][:2] == ["Time zone", "Asia/Shanghai"]
    assert _after(rows, ["Quiz", "Language", "Attempts", "Submitted", "Passed", "Pass rate (%)",
                         "Residents", "Residents passed"]) == [
        ["Spot the scam", "zh-CN", 2, 2, 1, 50.0, 2, 1]]
    as_csv = browser.get(f"{base}/anti_fraud.pass_rates.csv?{MARCH}").get_data(as_text=True)
    assert "Spot the scam,zh-CN,2,2,1,50.0,2,1" in as_csv.splitlines()

    paid = browser.get(f"{base}/anti_fraud.redemptions.xlsx?{MARCH}")
    rows = _sheet_rows(paid.data)
    assert _after(rows, ["Shop", "Redemptions", "Bills (yuan)", "Discounts (yuan)"]) == [
        ["Lucky Grocer", 1, 42.0, 5.0], ["Quiet Bakery", 0, 0.0, 0.0]]
    lines = browser.get(f"{base}/anti_fraud.redemptions.csv?{MARCH}").get_data(as_text=True)
    assert "Lucky Grocer,1,42.0,5.0" in lines.splitlines()
    april = _sheet_rows(browser.get(f"{base}/anti_fraud.redemptions.xlsx"
                                    "?from=2026-04-01&to=2026-04-30").data)
    assert ["Lucky Grocer", 0, 0.0, 0.0] in april


# Who may open what ---------------------------------------------------------------------------------

def _paths(alliance, shop, quiz):
    return [path.format(shop=shop["id"], quiz=quiz["id"]) for path in PAGES]


def test_volunteers_residents_and_merchants_are_refused_every_page(alliance, console):
    alliance.bank()
    shop, offer, merchant = _redeemed(alliance)
    quiz = alliance.quiz()
    people = [alliance.world.person("Volunteer Gu", station=alliance.station,
                                    roles=["volunteer"]),
              alliance.resident("Resident Lu"), merchant]
    base = _base(alliance)
    for person in people:
        browser = console(person.phone)
        for path in _paths(alliance, shop, quiz):
            answer = browser.get(f"{base}/{path}")
            assert answer.status_code == 403, (person.user.display_name, path)
            assert "Lucky Grocer" not in answer.get_data(as_text=True)
        for path, form in (("questions/starter-bank", {}), (f"shops/{shop['id']}/staff",
                                                             {"phone": person.phone})):
            assert post(browser, f"{base}/{path}", form).status_code == 403
        changed = post(browser, f"{base}/offers/{offer['id']}", {"stock_total": "0"})
        assert changed.status_code == 403
        refused = post(browser, f"{base}/questions/import",
                       {"file": (io.BytesIO((CSV_HEADER + GOOD).encode()), "bank.csv")})
        assert refused.status_code == 403
        home = browser.get(f"/console/{alliance.station.code}/").get_data(as_text=True)
        assert "/anti-fraud/" not in home
    assert len(alliance.ok(alliance.get(alliance.officer, "/questions?page_size=100"))) == 12
    assert [m["display_name"] for m in alliance.ok(alliance.get(
        alliance.officer, f"/shops/{shop['id']}/staff"))] == ["Till Wang"]


def test_a_station_with_anti_fraud_off_shows_none_of_the_pages(alliance, console, world):
    alliance.bank()
    shop, _offer, _merchant = _redeemed(alliance)
    quiz = alliance.quiz()
    off = world.station("west")
    officer = world.person("West Officer", station=off, roles=["officer"])
    browser = _browser(console, officer)
    for path in _paths(alliance, shop, quiz):
        answer = browser.get(f"/console/{off.code}/anti-fraud/{path}")
        assert answer.status_code == 404, path
        assert "Lucky Grocer" not in answer.get_data(as_text=True)
    home = browser.get(f"/console/{off.code}/").get_data(as_text=True)
    assert "/anti-fraud/" not in home
    reports = browser.get(f"/console/{off.code}/reports").get_data(as_text=True)
    assert "core.volunteer_hours" in reports and "anti_fraud." not in reports
    assert browser.get(f"/console/{off.code}/reports/anti_fraud.pass_rates.xlsx").status_code == 404


def test_the_access_matrix_walks_each_page_and_the_staff_see_the_demos_records(access_matrix):
    """The matrix's roles below officer are refused each page (tests/test_console_access.py walks
    them all); the demo's officer and admin see the demo station's bank, quiz, shops, offers."""
    pages = sorted(name for name in CONSOLE if name.startswith("anti_fraud_console."))
    assert pages and all(CONSOLE[name] == STAFF for name in pages)
    from core import demo

    station = access_matrix.station.code
    ids = access_matrix.ids
    seen = {}
    for who in ("officer", "admin"):
        phone = next(p for k, p, _n, _r in demo.PEOPLE if k == who)
        access_matrix.app.extensions["wardens.throttle"].reset()
        browser = console_client(access_matrix.app, phone, demo.DEMO_PASSWORD)
        browser.get("/console/language/zh-CN")
        for path, shown in (("questions", "冒充公检法"), ("quizzes", "防诈骗知识入门"),
                            (f"quizzes/{ids['quiz_id']}", "80%"),  # either demo quiz
                            ("missed", "统计周期"), ("shops", "邻里面包坊（示范）"),
                            (f"shops/{ids['shop_id']}", "（示范）"),
                            ("offers", "满 30 元减 5 元"),
                            (f"shops/{ids['shop_id']}/settlement", "（示范）")):
            answer = browser.get(f"/console/{station}/anti-fraud/{path}")
            text = answer.get_data(as_text=True)
            seen[(who, path)] = (answer.status_code, shown in text)
    assert {key: value for key, value in seen.items() if value != (200, True)} == {}
    for role in ("resident", "volunteer", "merchant", "partner"):
        browser = console_client(access_matrix.app, access_matrix.phones[role])
        for path in ("questions", "offers", f"shops/{ids['shop_id']}"):
            answer = browser.get(f"/console/{station}/anti-fraud/{path}")
            assert answer.status_code == 403, (role, path)
            assert not any(m in answer.get_data(as_text=True) for m in MARKERS)

