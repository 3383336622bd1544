"""Reports: each switched-on plugin's (and the core's) tables over a period, as .xlsx or CSV."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request

from api.auth import actor
from api.unit_of_work import db, writes
from console.blueprint import bp
from console.pages import deployment, error_text, label, locale, render
from core import clock
from core.access import Actor
from core.errors import PermissionDenied, WardensError
from core.hookspecs import Report
from core.reports import Period
from core.spreadsheets import Table, to_csv, to_xlsx

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}


def offered(who: Actor) -> list[Report]:
    """The reports ``who`` may download: the core's and the switched-on plugins', by role."""
    enabled = deployment().enabled_for(db(), who.station.id)
    return [report for owner, report in deployment().reports.values()
            if (owner is None or owner in enabled) and who.has_any(*report.roles)]


@bp.route("/<station>/reports", methods=["GET"], endpoint="reports")
def reports_page(station: str) -> Any:
    who = actor(station)
    reports = offered(who)
    if not reports:
        raise PermissionDenied("role_required", roles="officer, admin")
    error = None
    try:
        period = Period.parse(request.args.get("from"), request.args.get("to"),
                              who.station.timezone)
    except WardensError as refusal:
        error, period = error_text(refusal), Period.last_month(who.station.timezone)
    return render("console/reports.html", status=422 if error else 200, station=station,
                  reports=reports, period=period, error=error)


@bp.route("/<station>/reports/<report>.<fmt>", methods=["GET"], endpoint="report_file")
@writes  # a report may audit what it reads (care recipients' names): the write lock from the start
def report_file(station: str, report: str, fmt: str) -> Any:
    """One report as a file; a refused period or range is the Reports page with its error."""
    who = actor(station)
    found = next((r for r in offered(who) if r.name == report), None)
    if fmt not in FORMATS or found is None:
        abort(404)
    try:
        period = Period.parse(request.args.get("from"), request.args.get("to"),
                              who.station.timezone)
        rows = [tuple(row) for row in found.rows(db(), who, period)]
    except WardensError as refusal:
        if isinstance(refusal, PermissionDenied):
            raise
        return render("console/reports.html", status=422, station=station,
                      reports=offered(who), period=Period.last_month(who.station.timezone),
                      error=error_text(refusal))
    table = Table(title=label(found.title), station=f"{who.station.name} ({who.station.code})",
                  period=period, made_at=clock.now(),
                  headings=[label(column) for column in found.columns], rows=rows,
                  locale=locale())
    body: str | bytes = to_xlsx(table) if fmt == "xlsx" else to_csv(table)
    filename = (f"{who.station.code}-{report.replace('.', '-').replace('_', '-')}-"
                f"{period.start.isoformat()}-{period.end.isoformat()}.{fmt}")
    return Response(body, mimetype=FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})
