"""The crossing guard's spreadsheet reports: hours per guard per term."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import orm as so

from core.access import Actor
from core.hookspecs import Report
from core.reports import Period
from plugins.crossing_guard import records, terms
from plugins.crossing_guard.models import Term


def guard_hours(session: so.Session, who: Actor, period: Period) -> list[Sequence[Any]]:
    """Per term overlapping the period and guard: shifts completed, scheduled and on-site hours,
    no-shows, as ``GET .../reports/hours?term_id=`` gives them for each term (coordinators see
    everyone; a guard their own line)."""
    overlapping = session.scalars(terms.terms_query(who).where(
        Term.starts_on <= period.end, Term.ends_on >= period.start)).all()
    return [(term.name, term.starts_on, term.ends_on, line["display_name"],
             line["shifts_completed"], line["scheduled_hours"], line["on_site_hours"],
             line["no_shows"])
            for term in overlapping for line in records.guard_hours(session, who, term)]


HOURS = Report(
    name="crossing_guard.hours",
    title={"en": "Crossing-guard hours per guard per term", "zh-CN": "护学员每学期护学时长"},
    columns=({"en": "Term", "zh-CN": "学期"}, {"en": "First day", "zh-CN": "开始日期"},
             {"en": "Last day", "zh-CN": "结束日期"}, {"en": "Guard", "zh-CN": "护学员"},
             {"en": "Shifts completed", "zh-CN": "完成班次"},
             {"en": "Scheduled hours", "zh-CN": "排班时长（小时）"},
             {"en": "On-site hours", "zh-CN": "在岗时长（小时）"},
             {"en": "No-shows", "zh-CN": "缺席"}),
    rows=guard_hours)
