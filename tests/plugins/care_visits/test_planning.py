"""The planning job on a frozen clock, campaigns, alerts and GPS retention."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter

import pytest
import sqlalchemy as sa

from core import clock, jobs
from core.models import Assignment, Checkin, Notification, StationPlugin, Task
from plugins.care_visits.models import Visit
from plugins.care_visits.planning import plan_station
from tests.plugins.care_visits.conftest import visits_of

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YEAR = dt.datetime(2026, 1, 1, 0, 30, tzinfo=SHANGHAI)


def local(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=SHANGHAI)


def ran(deployment, now):
    return [name for name, _ in jobs.run_due_jobs(deployment, now)]


def counts(session):
    session.expire_all()
    rows = session.execute(sa.select(Visit.recipient_id, sa.func.count()).where(
        Visit.status.in_(("planned", "in_progress", "done"))).group_by(Visit.recipient_id))
    return dict(rows.all())


@pytest.fixture
def new_year(care):
    clock.freeze(NEW_YEAR)
    care.refresh()
    people = {
        "elderly": care.recipient(categories=["elderly_alone"])["id"],
        "hardship": care.recipient(categories=["hardship"])["id"],
        "both": care.recipient(categories=["disabled", "hardship"])["id"],
        "own_policy": care.recipient(categories=["other"], visits_per_year=8)["id"],
        "no_consent": care.recipient(consent=None)["id"],
        "withdrawn": care.recipient()["id"],
        "erased": care.recipient()["id"],
    }
    care.post(f"/recipients/{people['withdrawn']}/consents/withdraw", care.officer_care)
    care.post(f"/recipients/{people['erased']}/erase", care.officer_care)
    return people


def test_the_planning_job_creates_the_right_number_of_visits_and_is_idempotent(
        care, new_year, session, deployment):
    assert "care_visits.plan_visits" in ran(deployment, clock.now())
    expected = {new_year["elderly"]: 5, new_year["hardship"]: 12, new_year["both"]: 12,
                new_year["own_policy"]: 8}
    assert counts(session) == expected

    # spread over the year in whole local days, back to back, from New Year to New Year
    windows = [(v.starts_at.astimezone(SHANGHAI), v.ends_at.astimezone(SHANGHAI))
               for v in visits_of(session, new_year["elderly"])]
    assert windows[0][0] == local("2026-01-01") and windows[-1][1] == local("2027-01-01")
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))
    assert all(dt.timedelta(days=72) <= end - start <= dt.timedelta(days=74)
               for start, end in windows)
    assert {v.year for v in visits_of(session, new_year["hardship"])} == {2026}

    # each visit is a private care task assigned to two of the team, the load spread evenly
    tasks = session.scalars(sa.select(Task).where(Task.kind == "care_visit")).all()
    assert len(tasks) == 37 and {t.visibility for t in tasks} == {"private"}
    load = Counter(session.scalars(sa.select(Assignment.user_id).where(
        Assignment.task_id.in_([t.id for t in tasks]))))
    assert sum(load.values()) == 74
    assert set(load) == {care.officer_care.id, care.admin_care.id, care.volunteer_team.id}
    assert max(load.values()) - min(load.values()) <= 1

    # again: in the same slot the job does not run; run by hand, or the next day, it adds nothing
    assert "care_visits.plan_visits" not in ran(deployment, clock.now())
    assert plan_station(session, care.station, clock.now()) == 0
    assert "care_visits.plan_visits" in ran(deployment, clock.now() + dt.timedelta(days=1))
    assert counts(session) == expected
    assert care.post("/plan", care.officer_care).json == {"created": 0}


def test_a_recipient_added_mid_year_is_planned_over_what_is_left(care, session):
    clock.freeze(local("2026-07-01T09:00"))
    care.refresh()
    rid = care.recipient()["id"]
    assert care.post("/plan", care.officer_care).json == {"created": 5}
    windows = [(v.starts_at.astimezone(SHANGHAI), v.ends_at.astimezone(SHANGHAI))
               for v in visits_of(session, rid)]
    assert windows[0][0] == local("2026-07-01") and windows[-1][1] == local("2027-01-01")


def test_a_missed_visit_is_planned_again(care, new_year, session, deployment):
    ran(deployment, clock.now())
    first = visits_of(session, new_year["elderly"])[0]
    clock.freeze(first.ends_at + dt.timedelta(days=2))
    ran(deployment, clock.now())
    session.expire_all()
    elderly = visits_of(session, new_year["elderly"])
    assert [v.status for v in elderly].count("missed") == 1
    assert counts(session)[new_year["elderly"]] == 5
    replacement = max(elderly, key=lambda v: v.id)
    assert replacement.status == "planned" and replacement.id != first.id
    assert replacement.starts_at.astimezone(SHANGHAI) == local("2026-03-17")
    assert replacement.ends_at.astimezone(SHANGHAI) == local("2027-01-01")


def test_a_station_with_care_visits_off_is_not_planned(care, new_year, session, deployment):
    session.execute(sa.update(StationPlugin).where(StationPlugin.station_id == care.station.id)
                    .values(enabled=False))
    session.commit()
    ran(deployment, clock.now())
    assert counts(session) == {}


def test_campaign_one_visit_per_recipient_in_scope(care, session):
    hardship = [care.recipient(categories=["hardship"])["id"] for _ in range(2)]
    care.recipient(categories=["elderly_alone"])
    body = {"name": "Spring Festival visits", "starts_at": clock.now().isoformat(),
            "ends_at": (clock.now() + dt.timedelta(days=14)).isoformat(),
            "categories": ["hardship"],
            "supplies": [{"item": "rice", "quantity": 10, "unit": "kg"},
                         {"item": "oil", "quantity": 5, "unit": "L"}]}
    created = care.post("/campaigns", care.officer_care, json=body)
    assert created.status_code == 201, created.json
    campaign = created.json["campaign"]
    assert created.json["visits"] == {"created": 2, "already_planned": 0,
                                      "without_consent": 0, "consent_withdrawn": 0}
    visits = session.scalars(sa.select(Visit).where(Visit.campaign_id == campaign["id"])).all()
    assert sorted(v.recipient_id for v in visits) == hardship
    assert {v.service_type for v in visits} == {"festival_visit"}
    titles = {session.get(Task, v.task_id).title for v in visits}
    assert titles == {"Care visit · Spring Festival visits"}
    assert care.post("/campaigns", care.officer_care, json=body).json["code"] == \
        "campaign_name_taken"
    assert care.post("/campaigns", care.volunteer_team, json=body).status_code == 403
    # run again: only recipients new in scope get a visit
    late = care.recipient(categories=["hardship", "disabled"])["id"]
    rerun = care.post(f"/campaigns/{campaign['id']}/run", care.officer_care)
    assert rerun.json == {"created": 1, "already_planned": 2, "without_consent": 0,
                          "consent_withdrawn": 0}
    assert late in {v.recipient_id for v in session.scalars(
        sa.select(Visit).where(Visit.campaign_id == campaign["id"]))}
    listed = care.get("/campaigns", care.officer_care).json
    assert [c["name"] for c in listed] == ["Spring Festival visits"]
    # a household visited: rice and oil handed over, as planned per household
    visit = session.scalar(sa.select(Visit).where(Visit.campaign_id == campaign["id"],
                                                  Visit.recipient_id == hardship[0]))
    care.post(f"/visits/{visit.id}/visitors", care.officer_care,
              json={"user_id": care.volunteer_named.id})
    assert care.checkin(visit.task_id, care.volunteer_named).status_code == 201
    care.post(f"/visits/{visit.id}/supplies", care.volunteer_named, json={"items": [
        {"item": "rice", "quantity": 10, "unit": "kg"}, {"item": "oil", "quantity": 5,
                                                         "unit": "L"}]})
    report = care.get(f"/reports/supplies?campaign_id={campaign['id']}", care.officer_care).json
    assert len(report["campaigns"]) == 1
    row = report["campaigns"][0]
    assert (row["name"], row["households_planned"], row["households_visited"]) == (
        "Spring Festival visits", 3, 0)
    assert sorted(row["items"], key=lambda i: i["item"]) == [
        {"item": "oil", "unit": "L", "quantity": 5, "households": 1, "planned": 15},
        {"item": "rice", "unit": "kg", "quantity": 10, "households": 1, "planned": 30}]
    assert care.get("/reports/supplies?campaign_id=9999", care.officer_care).status_code == 404


def notes(session, code):
    session.expire_all()
    return session.scalars(sa.select(Notification).where(Notification.code == code)
                           .order_by(Notification.id)).all()


def test_alerts_reach_the_teams_officers_once(care, session, deployment):
    rid = care.recipient(categories=["elderly_alone"])["id"]
    care.post("/plan", care.officer_care)
    first = visits_of(session, rid)[0]
    officers = {care.officer_care.id, care.admin_care.id}

    clock.freeze(first.due_at + dt.timedelta(hours=1))
    ran(deployment, clock.now())
    late = notes(session, "care_visits.visit_late")
    assert {n.user_id for n in late} == officers
    # Care officers read every record: an alert names the recipient, and nothing more of them.
    assert late[0].params["visit_id"] == first.id and late[0].params["recipient"] == "Gao Lan"
    assert not {"phone", "address", "needs", "categories"} & set(late[0].params)
    behind = notes(session, "care_visits.behind_plan")
    assert {n.user_id for n in behind} == officers
    assert behind[0].params == {"recipient_id": rid, "recipient": "Gao Lan", "made": 0,
                                "expected": 1}
    assert behind[0].target == {"kind": "care_visits.recipient", "recipient_id": rid}
    assert notes(session, "care_visits.visit_missed") == []

    clock.freeze(first.ends_at + dt.timedelta(hours=1))
    ran(deployment, clock.now())
    missed = notes(session, "care_visits.visit_missed")
    assert {n.user_id for n in missed} == officers
    assert len(notes(session, "care_visits.behind_plan")) == 4  # a new month, told again
    ran(deployment, clock.now() + dt.timedelta(days=1))
    assert len(notes(session, "care_visits.visit_missed")) == 2
    assert len(notes(session, "care_visits.visit_late")) == 2
    assert len(notes(session, "care_visits.behind_plan")) == 4  # once a month


def open_follow_up(care, session):
    """A need found on the first visit of a new recipient: an open follow-up."""
    rid = care.recipient(named_visitor_ids=[care.volunteer_named.id])["id"]
    care.post("/plan", care.officer_care)
    visit = visits_of(session, rid)[0]
    care.checkin(visit.task_id, care.volunteer_named)
    care.post(f"/visits/{visit.id}/follow-ups", care.volunteer_named,
              json={"needs": [{"need": "Broken window latch"}]})


def test_follow_ups_open_too_long_are_reported(care, session, deployment):
    open_follow_up(care, session)
    ran(deployment, clock.now() + dt.timedelta(days=13))
    assert notes(session, "care_visits.follow_up_overdue") == []
    ran(deployment, clock.now() + dt.timedelta(days=15))
    overdue = notes(session, "care_visits.follow_up_overdue")
    assert {n.user_id for n in overdue} == {care.officer_care.id, care.admin_care.id}


def test_a_follow_up_open_too_long_is_alerted_once_however_often_the_job_runs(
        care, session, deployment):
    from plugins.care_visits.alerts import alert_station
    from plugins.care_visits.models import Alert

    open_follow_up(care, session)
    overdue = clock.now() + dt.timedelta(days=15)
    # The job twice on the day it is overdue, then on later days (a new day, a new month).
    for when in (overdue, overdue + dt.timedelta(hours=3), overdue + dt.timedelta(days=1),
                 overdue + dt.timedelta(days=40)):
        alert_station(session, care.station, when)
        session.commit()
    sent = notes(session, "care_visits.follow_up_overdue")
    assert sorted(n.user_id for n in sent) == sorted([care.officer_care.id, care.admin_care.id])
    assert session.scalar(sa.select(sa.func.count()).select_from(Alert).where(
        Alert.kind == "follow_up_overdue")) == 1


def test_the_retention_job_removes_old_visit_positions(care, session, deployment):
    rid = care.recipient(named_visitor_ids=[care.volunteer_named.id])["id"]
    care.post("/plan", care.officer_care)
    visit = visits_of(session, rid)[0]
    assert care.checkin(visit.task_id, care.volunteer_named).status_code == 201
    clock.advance(dt.timedelta(minutes=30))
    care.refresh()
    assert care.checkin(visit.task_id, care.volunteer_named, kind="out").status_code == 201

    ran(deployment, clock.now() + dt.timedelta(days=179))
    session.expire_all()
    assert session.get(Visit, visit.id).lat is not None
    ran(deployment, clock.now() + dt.timedelta(days=181))
    session.expire_all()
    kept = session.get(Visit, visit.id)
    assert (kept.lat, kept.lon) == (None, None) and kept.positions_cleared_at is not None
    assert kept.began_at is not None and kept.status == "done"  # the facts stay
    points = session.execute(sa.select(Checkin.lat, Checkin.lon).where(
        Checkin.task_id == visit.task_id)).all()
    assert len(points) == 2 and set(points) == {(None, None)}


def test_a_station_may_keep_positions_for_less(care, session, deployment):
    answer = care.client.put(f"/api/v1/stations/{care.station.code}/task-settings",
                             json={"position_retention_days": 30}, headers=care.admin.headers)
    assert answer.status_code == 200, answer.json
    rid = care.recipient(named_visitor_ids=[care.volunteer_named.id])["id"]
    care.post("/plan", care.officer_care)
    visit = visits_of(session, rid)[0]
    care.checkin(visit.task_id, care.volunteer_named)
    ran(deployment, clock.now() + dt.timedelta(days=31))
    session.expire_all()
    assert session.get(Visit, visit.id).lat is None


def test_a_visit_never_checked_out_is_closed_for_review(care, session, deployment):
    rid = care.recipient()["id"]
    made = care.post("/visits", care.officer_care, json={
        "recipient_id": rid, "visitor_ids": [care.volunteer_named.id],
        "starts_at": clock.now().isoformat(),
        "ends_at": (clock.now() + dt.timedelta(hours=4)).isoformat()}).json
    assert care.checkin(made["task_id"], care.volunteer_named).status_code == 201
    ran(deployment, clock.now() + dt.timedelta(hours=10))
    session.expire_all()
    assert session.get(Visit, made["id"]).status == "in_progress"
    ran(deployment, clock.now() + dt.timedelta(hours=26))  # the next daily slot
    session.expire_all()
    closed = session.get(Visit, made["id"])
    assert closed.status == "done" and closed.flags == ["no_check_out"]
    assert closed.review == "pending" and closed.ended_at is None
