"""The dashboard: today at a glance, the last 30 days, charts and each plugin's panels."""

from __future__ import annotations

from typing import Any

from api.auth import actor
from api.unit_of_work import db
from console import charts
from console.blueprint import bp
from console.pages import deployment, label, render, t
from core import dashboard


@bp.route("/<station>/dashboard", methods=["GET"], endpoint="dashboard")
def dashboard_page(station: str) -> Any:
    who = actor(station)
    session = db()
    metrics = dashboard.station_dashboard(session, who)
    today = dashboard.today(session, who)
    weeks = dashboard.weekly(session, who)
    for row in weeks:
        row["label"] = row["week"].strftime("%m-%d")
    panels = []
    answers = deployment().results_by_plugin(session, who.station.id, "wardens_console_panels",
                                             session=session, actor=who)
    for name, found in sorted(answers.items()):
        panels += [(panel.order, name, panel) for panel in found or []]
    panels.sort(key=lambda item: (item[0], item[1]))
    completions = charts.bars(weeks, [("completions", t("metric_completions"))], label_key="label",
                              title=t("completions_per_week"))
    points = charts.bars(weeks, [("earned", t("earned")), ("spent", t("spent"))],
                         label_key="label", title=t("points_per_week"))
    return render("console/dashboard.html", station=station, metrics=metrics, today=today,
                  completions_chart=completions, points_chart=points,
                  panels=[(label(p.title), p.template, p.context) for _o, _n, p in panels])
