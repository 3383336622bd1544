"""Demo data: a care team, three fictitious recipients with consent, their year planned, a campaign."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.access import Actor
from core.models import Group, Membership, Station, User
from plugins.care_visits import planning, recipients

TEAM = "care-team"  # its key in examples/demo-station.toml (which also names its members)

# Fictitious people at fictitious addresses of the demo station, in the buildings the demo
# patrol route passes (examples/demo-station.toml; WGS-84).
RECIPIENTS: list[dict[str, Any]] = [
    {"name": "周桂兰 Zhou Guilan", "phone": "+8613800001001", "categories": ["elderly_alone"],
     "address": "示范社区 3 栋 2 单元 101 室", "lat": 30.2657, "lon": 120.1716,
     "needs": "腿脚不便，需要代买药品 / needs medicine fetched",
     "emergency_contact": {"name": "周明 Zhou Ming", "phone": "+8613800001002",
                           "relation": "son"}},
    {"name": "马建国 Ma Jianguo", "phone": "+8613800001003", "categories": ["disabled"],
     "address": "示范社区 5 栋 1 单元 302 室", "lat": 30.2661, "lon": 120.1723,
     "needs": "轮椅需要维修 / wheelchair needs repair",
     "emergency_contact": {"name": "马丽 Ma Li", "phone": "+8613800001004",
                           "relation": "daughter"}},
    {"name": "黄小燕 Huang Xiaoyan", "phone": "+8613800001005",
     "categories": ["hardship", "disabled"], "address": "示范社区 保障房 8 栋 601 室",
     "lat": 30.2636, "lon": 120.1731, "needs": "冬季取暖 / heating for winter",
     "emergency_contact": {"name": "", "phone": None, "relation": ""}},
]
SENSITIVE = {"disability_type": "肢体 physical", "disability_grade": "2",
             "health_notes": "高血压 high blood pressure", "id_number": "610100195001010000"}


def seed(session: so.Session, station: Station, people: dict[str, User]) -> None:
    """Recipients of the demo file's care team (led by the officer), planned for the year."""
    team = session.scalar(sa.select(Group).where(Group.station_id == station.id,
                                                 Group.key == TEAM))
    if team is None:  # a demo file without the care team
        return
    officer = people["officer"]
    membership = session.scalar(sa.select(Membership).where(
        Membership.station_id == station.id, Membership.user_id == officer.id))
    who = Actor(officer, station, membership)
    consent = {"basis": "consent", "scope": ["visits", "sensitive_details"], "version": "2025-01",
               "note": "signed paper form kept at the station"}
    # The volunteers are named, so they (not the officer, who reviews) make the visits.
    named = [people["volunteer1"].id, people["volunteer2"].id]
    for data in RECIPIENTS:
        recipient = recipients.create_recipient(session, who, {**data, "care_group_id": team.id,
                                                             "named_visitor_ids": named,
                                                             "consent": consent})
        if "disabled" in data["categories"]:
            recipients.put_sensitive(session, who, recipient.id, SENSITIVE)
    now = clock.now()
    planning.plan_station(session, station, now)
    planning.create_campaign(session, who, {
        "name": "节前慰问 Festival visits", "starts_at": now,
        "ends_at": now + dt.timedelta(days=21), "categories": [],
        "supplies": [{"item": "rice", "quantity": 10, "unit": "kg"},
                     {"item": "flour", "quantity": 5, "unit": "kg"},
                     {"item": "oil", "quantity": 5, "unit": "L"}]})
