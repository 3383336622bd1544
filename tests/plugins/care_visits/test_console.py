"""The care pages of the console: care duty only, every recipient read audited as the API audits
it, reviews that change a visit and its points as the API's review does."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import sqlalchemy as sa

from core import clock
from core.models import AuditEvent, PointsEntry
from tests.fixtures.console import csrf_token
from tests.plugins.care_visits.conftest import HOME, north_of, visits_of

SENSITIVE = {"disability_type": "hearing", "disability_grade": "3",
             "health_notes": "diabetic", "id_number": "610102194501011234"}
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def scene(care):
    recipient = care.recipient(name="Tian Shu", named_visitor_ids=[care.volunteer_named.id],
                               categories=["disabled"], needs="a ramp at the door")
    put = care.client.put(care.url(f"/recipients/{recipient['id']}/sensitive"),
                          json=SENSITIVE, headers=care.officer_care.headers)
    assert put.status_code == 200, put.json
    return recipient


def english(console, person):
    """A console browser signed in as ``person``, reading English."""
    browser = console(person.phone)
    browser.get("/console/language/en")
    return browser


def page(care, path: str) -> str:
    return f"/console/{care.station.code}/care-visits{path}"


def audited(session, after: int) -> list[tuple]:
    """The audit events written after event ``after``: who, what, which record, which details."""
    session.expire_all()
    rows = session.scalars(sa.select(AuditEvent).where(AuditEvent.id > after)
                           .order_by(AuditEvent.id)).all()
    return [(e.station_id, e.actor_id, e.actor_role, e.action, e.record_type, e.record_id,
             e.details) for e in rows]


def last_event(session) -> int:
    return session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def test_recipient_pages_show_the_record_and_audit_each_read_as_the_api(
        care, scene, session, console):
    browser = english(console, care.officer_care)
    rid = scene["id"]
    reads = [  # (console page, the API's read of the same, what the page shows)
        ("/recipients", "/recipients", ["Tian Shu", scene["phone"], "Disabled"]),
        (f"/recipients/{rid}", f"/recipients/{rid}",
         ["Tian Shu", "a ramp at the door", "diabetic", "610102194501011234", "Gao Ming", "Volunteer Named"]),
        (f"/recipients/{rid}/consents", f"/recipients/{rid}/consents",
         ["2026-01", "Officer Care"]),
    ]
    for console_path, api_path, shown in reads:
        before = last_event(session)
        answer = browser.get(page(care, console_path))
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200, text[-500:]
        assert all(value in text for value in shown), (console_path, shown)
        from_console = audited(session, before)
        middle = last_event(session)
        assert care.get(api_path, care.officer_care).status_code == 200
        from_api = audited(session, middle)
        assert from_console == from_api and from_console, console_path
    assert {e[3] for e in audited(session, 0)} >= {"care_visits.recipient_read"}


def test_the_plan_shows_the_month_and_the_years_quota_and_audits_as_the_api(
        care, scene, session, console):
    assert care.post("/plan", care.officer_care).json == {"created": 5}
    first = visits_of(session, scene["id"])[0]
    month = first.due_at.astimezone(SHANGHAI).strftime("%Y-%m")
    browser = english(console, care.officer_care)
    before = last_event(session)
    answer = browser.get(page(care, f"/plan?month={month}"))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200, text[-500:]
    day = first.due_at.astimezone(SHANGHAI).date().isoformat()
    assert f'data-day="{day}"' in text and f"#{scene['id']}" in text
    quota = text.split(f'id="quota-{scene["id"]}"', 1)[1].split("</tr>", 1)[0]
    # quota 5 (disabled), none made, five planned, nothing late or missed
    assert [cell.split("</td>")[0] for cell in quota.split("<td>")[3:10]] == [
        "5", "0", "5", "0", "0", "0", "0"]
    shown = [e for e in audited(session, before) if e[3] == "care_visits.visit_read"]
    reports = [e for e in audited(session, before) if e[3] == "care_visits.report_read"]
    assert [e[5] for e in shown] == [str(first.id)] and len(reports) == 1
    middle = last_event(session)
    care.get(f"/visits/{first.id}", care.officer_care)
    care.get(f"/reports/coverage?year={first.due_at.astimezone(SHANGHAI).year}",
             care.officer_care)
    assert audited(session, before)[:2] == audited(session, middle)
    # a month later the first visit is late
    clock.freeze(first.due_at + dt.timedelta(days=1))
    care.refresh()
    browser = english(console, care.officer_care)
    text = browser.get(page(care, f"/plan?month={month}")).get_data(as_text=True)
    quota = text.split(f'id="quota-{scene["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert [cell.split("</td>")[0] for cell in quota.split("<td>")[8:10]] == ["1", "0"]


PAGES = ["/recipients", "/recipients/{rid}", "/recipients/{rid}/consents", "/plan", "/reviews",
         "/follow-ups", "/alerts", "/campaigns"]
FORMS = ["/recipients", "/recipients/{rid}", "/recipients/{rid}/consents", "/plan",
         "/visits/{vid}/review", "/follow-ups/{fid}/close", "/campaigns",
         "/campaigns/{cid}/run"]


@pytest.mark.parametrize("role", ["admin", "officer", "volunteer_named", "volunteer_team",
                                  "resident", "partner", "stranger"])
def test_without_care_duty_no_care_page_opens_and_no_recipient_is_shown(
        care, scene, session, console, role):
    care.post("/plan", care.officer_care)
    visit = visits_of(session, scene["id"])[0]
    campaign = care.post("/campaigns", care.officer_care, json={
        "name": "Autumn", "starts_at": clock.now().isoformat(),
        "ends_at": (clock.now() + dt.timedelta(days=9)).isoformat()}).json["campaign"]
    ids = {"rid": scene["id"], "vid": visit.id, "fid": 1, "cid": campaign["id"]}
    person = getattr(care, role)
    browser = console(person.phone)
    token = csrf_token(browser)
    before = last_event(session)
    for path in PAGES:
        answer = browser.get(page(care, path.format(**ids)))
        text = answer.get_data(as_text=True)
        assert answer.status_code in (403, 404), (path, answer.status_code)
        assert "Tian Shu" not in text and scene["phone"] not in text, path
    for path in FORMS:
        answer = browser.post(page(care, path.format(**ids)),
                              data={"csrf_token": token, "name": "x", "note": "x",
                                    "resolution": "x", "accept": "1", "withdraw": "1"})
        assert answer.status_code in (403, 404), (path, answer.status_code)
    assert [e for e in audited(session, before) if e[3].startswith("care_visits.")] == []


def flagged_visit(care, session, recipient_id):
    """A visit made 190 m from the home for three minutes: flagged, waiting for review."""
    visit = visits_of(session, recipient_id)[0]
    vol = care.volunteer_named
    assert care.checkin(visit.task_id, vol, at=north_of(HOME, 190), accuracy=50).status_code == 201
    clock.advance(dt.timedelta(minutes=3))
    assert care.checkin(visit.task_id, vol, kind="out", at=HOME).status_code == 201
    return visit


def test_reviews_show_the_visit_facts_and_accept_and_reject_as_the_api(
        care, session, console):
    one = care.recipient(name="Lu One", named_visitor_ids=[care.volunteer_named.id])
    two = care.recipient(name="Lu Two", named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    first = flagged_visit(care, session, one["id"])
    second = flagged_visit(care, session, two["id"])
    record = care.get(f"/visits/{first.id}", care.officer_care).json
    browser = english(console, care.officer_care)
    text = browser.get(page(care, "/reviews")).get_data(as_text=True)
    facts = text.split(f'id="visit-{first.id}"', 1)[1].split("</section>", 1)[0]
    assert "3 min" in facts and f"{round(record['location']['distance_m'])} m" in facts
    assert "Far from the home" in facts and "Too short" in facts and "Volunteer Named" in facts
    began = dt.datetime.fromisoformat(record["began_at"]).astimezone(SHANGHAI)
    assert began.strftime("%Y-%m-%d %H:%M") in facts
    award = sa.select(PointsEntry).where(PointsEntry.user_id == care.volunteer_named.id,
                                         PointsEntry.event_code == "care_visits.visit_completed")

    # a rejection without a reason is refused in the page; nothing changes
    token = csrf_token(browser, page(care, "/reviews"))
    refused = browser.post(page(care, f"/visits/{second.id}/review"),
                           data={"csrf_token": token, "reject": "1", "note": " "})
    assert refused.status_code == 422
    assert "Say why the visit is rejected." in refused.get_data(as_text=True)
    assert care.get(f"/visits/{second.id}", care.officer_care).json["review"] == "pending"

    rejected = browser.post(page(care, f"/visits/{second.id}/review"),
                            data={"csrf_token": token, "reject": "1", "note": "Nobody home"})
    assert rejected.status_code == 303
    accepted = browser.post(page(care, f"/visits/{first.id}/review"),
                            data={"csrf_token": token, "accept": "1", "note": "Met at the gate"})
    assert accepted.status_code == 303
    assert care.get(f"/visits/{second.id}", care.officer_care).json["review"] == "rejected"
    assert care.get(f"/visits/{first.id}", care.officer_care).json["review"] == "accepted"
    session.expire_all()
    paid = session.scalars(award).all()
    assert [e.amount for e in paid] == [5]  # the accepted visit only
    row = {r["recipient_id"]: r for r in care.get("/reports/coverage",
                                                  care.officer_care).json["recipients"]}
    assert (row[one["id"]]["done"], row[two["id"]]["rejected"]) == (1, 1)
    # reviewed as the API reviews: its audit event, the decision and the flags
    reviewed = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "care_visits.visit_reviewed").order_by(AuditEvent.id)).all()
    assert [(e.record_id, e.details["decision"]) for e in reviewed] == [
        (str(second.id), "rejected"), (str(first.id), "accepted")]
    after = browser.get(page(care, "/reviews")).get_data(as_text=True)
    assert f'id="visit-{first.id}"' not in after and "No visit waits for review." in after
    # the API says the same of a rejection without a reason
    third = care.recipient(name="Lu Three", named_visitor_ids=[care.volunteer_named.id])
    care.post("/plan", care.officer_care)
    visit = flagged_visit(care, session, third["id"])
    answer = care.post(f"/visits/{visit.id}/review", care.officer_care,
                       json={"decision": "reject"})
    assert answer.status_code == 422 and answer.json["code"] == "review_reason_required"


def test_a_recipient_is_added_changed_and_consent_withdrawn_from_the_console(
        care, session, console):
    browser = english(console, care.officer_care)
    url = page(care, "/recipients")
    token = csrf_token(browser, url)
    form = {"csrf_token": token, "name": "Qin Wei", "address": "Room 5, Example Road 9",
            "lat": "not a number", "lon": str(HOME[1]), "categories": ["elderly_alone"],
            "care_group_id": str(care.team.id), "consent_version": "2026-02",
            "consent_basis": "consent", "consent_scope": ["visits"]}
    bad = browser.post(url, data=form)
    assert bad.status_code == 422 and 'class="field-error"' in bad.get_data(as_text=True)
    assert care.get("/recipients?q=Qin", care.officer_care).json == []
    made = browser.post(url, data={**form, "lat": str(HOME[0])})
    assert made.status_code == 303
    found = care.get("/recipients?q=Qin", care.officer_care).json
    assert [(r["name"], r["consent"]["state"], r["required_visits"]) for r in found] == [
        ("Qin Wei", "given", 5)]
    rid = found[0]["id"]
    changed = browser.post(page(care, f"/recipients/{rid}"), data={
        **form, "lat": str(HOME[0]), "needs": "groceries on Fridays", "visits_per_year": "8"})
    assert changed.status_code == 303
    shown = browser.get(page(care, f"/recipients/{rid}")).get_data(as_text=True)
    assert "groceries on Fridays" in shown
    assert care.get(f"/recipients/{rid}", care.officer_care).json["required_visits"] == 8

    care.post("/plan", care.officer_care)
    consents = page(care, f"/recipients/{rid}/consents")
    withdrawn = browser.post(consents, data={"csrf_token": csrf_token(browser, consents),
                                             "withdraw": "1", "note": "moved to her son's"})
    assert withdrawn.status_code == 303
    assert care.get(f"/recipients/{rid}", care.officer_care).json["consent"]["state"] == \
        "withdrawn"
    assert {v.status for v in visits_of(session, rid)} == {"cancelled"}
    text = browser.get(consents).get_data(as_text=True)
    assert "moved to her son&#39;s" in text and "Withdrawn" in text


def test_campaigns_follow_ups_and_alerts_pages(care, scene, session, console, deployment):
    from core import jobs

    care.post("/plan", care.officer_care)
    browser = english(console, care.officer_care)
    url = page(care, "/campaigns")
    launched = browser.post(url, data={
        "csrf_token": csrf_token(browser, url), "name": "Mid-Autumn", "categories": ["disabled"],
        "starts_at": "2026-03-03T09:00", "ends_at": "2026-03-20T18:00",
        "item": ["mooncakes", ""], "quantity": ["2", ""], "unit": ["box", ""]})
    text = launched.get_data(as_text=True)
    assert launched.status_code == 200 and "1 visits planned" in text, text[-800:]
    assert "Mid-Autumn" in text and "mooncakes 2box" in text
    campaigns = care.get("/campaigns", care.officer_care).json
    assert [(c["name"], c["supplies"]) for c in campaigns] == [
        ("Mid-Autumn", [{"item": "mooncakes", "quantity": 2, "unit": "box"}])]
    taken = browser.post(url, data={"csrf_token": csrf_token(browser, url), "name": "Mid-Autumn",
                                    "starts_at": "2026-03-03T09:00",
                                    "ends_at": "2026-03-20T18:00"})
    assert taken.status_code == 409 and "A campaign named Mid-Autumn exists." in \
        taken.get_data(as_text=True)

    visit = visits_of(session, scene["id"])[0]
    assert care.checkin(visit.task_id, care.volunteer_named).status_code == 201
    care.post(f"/visits/{visit.id}/follow-ups", care.volunteer_named,
              json={"needs": [{"need": "Broken window latch"}]})
    follow_ups = page(care, "/follow-ups")
    text = browser.get(follow_ups).get_data(as_text=True)
    assert "Broken window latch" in text
    item = care.get("/follow-ups?status=open", care.officer_care).json[0]

    # fifteen days on the follow-up is alerted; the alerts page shows it standing
    later = clock.now() + dt.timedelta(days=15)
    jobs.run_due_jobs(deployment, later)
    clock.freeze(later)
    care.refresh()
    browser = english(console, care.officer_care)
    alerts = browser.get(page(care, "/alerts")).get_data(as_text=True)
    row = alerts.split(f"Follow-ups #{item['id']}", 1)
    assert len(row) == 2 and "Still stands" in row[1].split("</tr>", 1)[0]

    closed = browser.post(page(care, f"/follow-ups/{item['id']}/close"),
                          data={"csrf_token": csrf_token(browser, follow_ups),
                                "resolution": "Latch replaced"})
    assert closed.status_code == 303
    assert care.get("/follow-ups?status=closed", care.officer_care).json[0]["resolution"] == \
        "Latch replaced"
    alerts = browser.get(page(care, "/alerts")).get_data(as_text=True)
    assert f"Follow-ups #{item['id']}" not in alerts
    everything = browser.get(page(care, "/alerts?all=1")).get_data(as_text=True)
    row = everything.split(f"Follow-ups #{item['id']}", 1)[1].split("</tr>", 1)[0]
    assert "Settled" in row


def test_another_stations_care_officer_reaches_no_record_of_this_station(
        care, scene, session, console):
    care.post("/plan", care.officer_care)
    visit = flagged_visit(care, session, scene["id"])
    browser = console(care.stranger.phone)
    token = csrf_token(browser)
    west = f"/console/{care.other.code}/care-visits"
    for path in (f"/recipients/{scene['id']}", f"/recipients/{scene['id']}/consents"):
        answer = browser.get(west + path)
        assert answer.status_code == 404 and "Tian Shu" not in answer.get_data(as_text=True)
    answer = browser.post(f"{west}/visits/{visit.id}/review",
                          data={"csrf_token": token, "accept": "1"})
    assert answer.status_code == 404
    assert care.get(f"/visits/{visit.id}", care.officer_care).json["review"] == "pending"


def test_the_quota_report_holds_each_recipients_visits_against_the_quota(
        care, session, console):
    import io

    import openpyxl

    tian = care.recipient(name="Tian Shu", named_visitor_ids=[care.volunteer_named.id],
                          categories=["disabled"])
    lu = care.recipient(name="Lu Two", named_visitor_ids=[care.volunteer_named.id])
    care.recipient(name="Chen Three")
    care.post("/plan", care.officer_care)
    accepted, rejected = (flagged_visit(care, session, r["id"]) for r in (tian, lu))
    assert care.post(f"/visits/{accepted.id}/review", care.officer_care,
                     json={"decision": "accept", "note": "ok"}).status_code == 200
    assert care.post(f"/visits/{rejected.id}/review", care.officer_care,
                     json={"decision": "reject", "note": "Nobody home"}).status_code == 200
    # May: each first visit was due around 1 April; Chen's was never made
    clock.freeze(dt.datetime(2026, 5, 10, 2, 0, tzinfo=dt.UTC))
    care.refresh()
    url = page(care, "").rsplit("/care-visits", 1)[0] + \
        "/reports/care_visits.quota.xlsx?from=2026-03-01&to=2026-04-30"

    before = last_event(session)
    answer = english(console, care.officer_care).get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)[-500:]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    heading = rows.index(["Recipient", "Visits a year", "Due in the period", "Made",
                          "Accepted", "Overdue"])
    assert rows[heading + 1:] == [["Chen Three", 5, 1, 0, 0, 1], ["Lu Two", 5, 1, 1, 0, 0],
                                  ["Tian Shu", 5, 1, 1, 1, 0]]
    # each name read is a read of the record, and the report is read once
    events = audited(session, before)
    assert sorted(e[5] for e in events if e[3] == "care_visits.recipient_read") == sorted(
        str(r["id"]) for r in care.get("/recipients", care.officer_care).json)
    assert [e[6]["report"] for e in events if e[3] == "care_visits.report_read"] == ["quota"]

    # without care duty: refused, no name, nothing audited
    before = last_event(session)
    for person in (care.officer, care.admin):
        refused = english(console, person).get(url)
        assert refused.status_code == 403
        assert "Tian Shu" not in refused.get_data(as_text=True)
    assert audited(session, before) == []


@pytest.mark.parametrize("role, shown", [("officer_care", True), ("admin_care", True),
                                         ("officer", False), ("admin", False)])
def test_the_care_tabs_are_shown_only_to_those_with_care_duty(care, console, role, shown):
    """An officer or admin outside every care team sees no care tab: each would answer 403."""
    browser = english(console, getattr(care, role))
    text = browser.get(f"/console/{care.station.code}/dashboard").get_data(as_text=True)
    tabs = ["Care recipients", "Visit plan", "Visits to review", "Follow-ups", "Care alerts",
            "Campaigns"]
    assert [tab in text for tab in tabs] == [shown] * len(tabs)
    assert ("/care-visits/recipients" in text) is shown
    assert "Members" in text  # the core's tabs stay
