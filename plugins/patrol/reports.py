"""The patrol plugin's report: coverage per grid cell over a period, as a spreadsheet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import orm as so

from core.access import Actor
from core.hookspecs import Report
from core.reports import Period
from plugins.patrol import coverage


def coverage_rows(session: so.Session, who: Actor, period: Period) -> list[Sequence[Any]]:
    """Per grid cell: its checkpoints, visits, flagged visits, last visit, longest gap (h)."""
    found = coverage.report(session, who, period.since, period.until)
    return [(cell["name"], len(cell["checkpoint_ids"]), cell["visits"], cell["flagged_visits"],
             cell["last_visit"], round(cell["longest_gap_s"] / 3600, 1))
            for cell in found["grid_cells"]]


COVERAGE = Report(
    name="patrol.coverage",
    title={"en": "Patrol coverage per grid cell", "zh-CN": "各网格巡逻覆盖"},
    columns=({"en": "Grid cell", "zh-CN": "网格"}, {"en": "Checkpoints", "zh-CN": "巡逻点数"},
             {"en": "Visits", "zh-CN": "巡逻次数"},
             {"en": "Flagged visits", "zh-CN": "存疑巡逻次数"},
             {"en": "Last visit", "zh-CN": "最近巡逻"},
             {"en": "Longest gap (h)", "zh-CN": "最长间隔（小时）"}),
    rows=coverage_rows,
    roles=("officer", "admin", "partner"))
