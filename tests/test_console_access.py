"""Every console page walked by each role of the access matrix, and from another station; the
pages the staff may open show the demo station's records."""

from __future__ import annotations

from core import demo
from tests.fixtures.access_matrix import CONSOLE, CONSOLE_FORM, MARKERS, ROLES, SECRETS, endpoints
from tests.fixtures.console import console_client, csrf_token

REFUSED = {403, 404}
ENDS_SESSION = {"console.sign_out"}


def _browsers(matrix):
    app = matrix.app
    app.extensions["wardens.throttle"].reset()
    found = {"anonymous": console_client(app)}
    for role in ROLES[1:]:
        found[role] = console_client(app, matrix.phones[role])
    return found


def _call(browser, matrix, rule, method, station):
    url = matrix.url_for_rule(rule, station)
    if method == "GET":
        return url, browser.get(url)
    form = {**CONSOLE_FORM, "user_id": str(matrix.ids["user_id"]),
            "csrf_token": csrf_token(browser)}
    return url, browser.post(url, data=form)


def _console_routes(app):
    return [(rule, method) for rule, method in endpoints(app) if rule.endpoint in CONSOLE]


def test_lower_roles_are_refused_every_console_page_and_see_nothing(access_matrix):
    browsers = _browsers(access_matrix)
    station = access_matrix.station.code
    failures = []
    for rule, method in _console_routes(access_matrix.app):
        allowed = CONSOLE[rule.endpoint]
        for role in ROLES:
            if role in allowed or rule.endpoint in ENDS_SESSION:
                continue
            url, answer = _call(browsers[role], access_matrix, rule, method, station)
            text = answer.get_data(as_text=True)
            if role == "anonymous":
                if answer.status_code != 302 or "/console/sign-in" not in answer.headers.get(
                        "Location", ""):
                    failures.append(f"anonymous {method} {url}: {answer.status_code}")
                continue
            if answer.status_code not in REFUSED:
                failures.append(f"{role} {method} {url}: {answer.status_code} {text[-300:]}")
            elif any(m in text for m in MARKERS) or any(s in text for s in SECRETS):
                failures.append(f"{role} {method} {url}: leaks")
    assert not failures, "\n".join(failures)


def test_another_stations_admin_reaches_no_console_record_of_this_station(access_matrix):
    browser = _browsers(access_matrix)["stranger"]
    other = access_matrix.other.code
    failures = []
    for rule, method in _console_routes(access_matrix.app):
        if not set(rule.arguments) - {"station", "name", "code", "report", "fmt"}:
            continue
        url, answer = _call(browser, access_matrix, rule, method, other)
        text = answer.get_data(as_text=True)
        if answer.status_code not in REFUSED:
            failures.append(f"{method} {url}: {answer.status_code}")
        elif any(m in text for m in MARKERS) or any(s in text for s in SECRETS):
            failures.append(f"{method} {url}: leaks")
    assert not failures, "\n".join(failures)


def _demo(app, key):
    phone = next(p for k, p, _n, _r in demo.PEOPLE if k == key)
    app.extensions["wardens.throttle"].reset()
    return console_client(app, phone, demo.DEMO_PASSWORD)


PAGES = [
    # (who, path under /console/demo/, what the page must show)
    ("officer", "dashboard", ["Demo Primary School", "北门 North gate", "<svg"]),
    ("officer", "members", ["志愿者 张红", "+8613800000003", "物业 吴军"]),
    ("officer", "groups", ["幸福里第1网格", "红袖标巡逻一队", "<polygon"]),
    ("officer", "tasks", ["北门 North gate"]),
    ("officer", "tasks?view=week", ["北门 North gate"]),
    ("officer", "points", ["core.task_completed", "patrol.checkpoint_ok"]),
    ("officer", "plugins", ["patrol", "anti_fraud", "max_speed_kmh"]),
    ("admin", "audit", ["<td>patrol.incident_reported</td>"]),
    ("admin", "audit?action=member.added", ["<td>member.added</td>"]),
    ("officer", "dashboard", ["安全隐患"]),  # the patrol panel: the category in Chinese
    ("officer", "patrol/routes", ["幸福里夜巡路线 Xingfuli night round"]),
    ("officer", "patrol/routes/{route_id}", ["东门岗亭 East gate booth", "data-points",
                                             "幸福里第1网格 Xingfuli grid 1"]),
    ("officer", "patrol/routes/{route_id}/tags", ["东门岗亭 East gate booth", "demo-1", "<svg",
                                                  "<path"]),
    ("officer", "patrol/coverage", ["幸福里第1网格 Xingfuli grid 1", "<svg"]),
    ("officer", "patrol/incidents", ["安全隐患", "已上报", "A loose manhole cover"]),
    ("officer", "patrol/incidents/{incident_id}", ["A loose manhole cover", "志愿者 张红",
                                                   "/photos/{photo_id}"]),
    ("officer", "patrol/roster", ["民警 李卫"]),
    ("officer", "crossing-guard/schools", ["示范小学 Demo Primary School", "北门 North gate 2–3",
                                           "data-points"]),
    ("officer", "crossing-guard/schools/{school_id}", ["环城北路路口 Ring road crossing",
                                                       'value="4"', "data-pick"]),
    ("officer", "crossing-guard/calendar", ["本学期 This term"]),
    ("officer", "crossing-guard/templates", ["放学 Afternoon", 'value="16:30"']),
    ("officer", "crossing-guard/board", ["北门 North gate", "志愿者 张红", "under-minimum"]),
    ("officer", "crossing-guard/swaps", ["志愿者 张红"]),
    ("officer", "crossing-guard/hours", ["本学期 This term"]),
    # the demo's officer leads its care team
    ("officer", "care-visits/recipients", ["周桂兰 Zhou Guilan", "马建国 Ma Jianguo"]),
    ("officer", "care-visits/recipients/{recipient_id}", ["周桂兰 Zhou Guilan", "周明 Zhou Ming",
                                                          "志愿者 张红"]),
    ("officer", "care-visits/recipients/{recipient_id}/consents", ["2025-01", "民警 李卫"]),
    ("officer", "care-visits/plan", ['id="quota-{recipient_id}"']),
    ("officer", "care-visits/campaigns", ["节前慰问 Festival visits", "rice 10kg"]),
    ("officer", "care-visits/reviews", ["没有待审核的走访。"]),
    ("officer", "care-visits/follow-ups", ["没有跟进事项。"]),
    ("officer", "care-visits/alerts", ["关爱提醒"]),
    ("officer", "anti-fraud/questions", ["冒充公检法", 'id="import-questions"']),
    ("officer", "anti-fraud/quizzes", ["防诈骗知识入门", "Spot the scam (English)"]),
    ("officer", "anti-fraud/quizzes/{quiz_id}", ['id="quiz-draw"']),
    ("officer", "anti-fraud/missed", ["Asia/Shanghai"]),
    ("officer", "anti-fraud/shops", ["平安便利店（示范）", "邻里面包坊（示范）"]),
    ("officer", "anti-fraud/shops/{shop_id}", ['id="add-staff"']),
    ("officer", "anti-fraud/offers", ["满 30 元减 5 元", "面包 9 折"]),
    ("officer", "anti-fraud/shops/{shop_id}/settlement", ['id="settlement-csv"']),
    ("officer", "reports", ["core.volunteer_hours.xlsx", "patrol.coverage.csv", "Asia/Shanghai",
                            "care_visits.quota.xlsx", "crossing_guard.hours.xlsx",
                            "anti_fraud.pass_rates.xlsx", "anti_fraud.redemptions.csv"]),
]


def test_staff_pages_show_the_stations_records(access_matrix):
    browsers = {who: _demo(access_matrix.app, who) for who in ("officer", "admin")}
    failures = []
    for who, path, shown in PAGES:
        path = path.format(**access_matrix.ids)
        answer = browsers[who].get(f"/console/{access_matrix.station.code}/{path}")
        text = answer.get_data(as_text=True)
        if answer.status_code != 200:
            failures.append(f"{who} {path}: {answer.status_code} {text[-300:]}")
        failures += [f"{who} {path}: does not show {value!r}" for value in shown
                     if value.format(**access_matrix.ids) not in text]
    assert not failures, "\n".join(failures)


def test_a_volunteers_home_lists_only_what_they_may_open(access_matrix):
    browser = console_client(access_matrix.app, access_matrix.phones["volunteer"])
    text = browser.get(f"/console/{access_matrix.station.code}/").get_data(as_text=True)
    assert "/members" not in text and "/audit" not in text
