"""The station file: download the station's export, upload a file, read its plan, apply it."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from api.auth import actor
from api.unit_of_work import db
from console.blueprint import bp
from console.pages import error_text, render, status_of
from core.errors import Invalid, WardensError
from core.station_file import document, plan

#: the largest file the page reads (a station's whole set-up is a few hundred kilobytes)
MAX_BYTES = 2_000_000


def _page(station: str, *, status: int = 200, **context: Any) -> Any:
    return render("console/station_file.html", status=status, station=station,
                  harms=plan.HARMS, shown=_shown, **context)


def _shown(value: Any) -> str:
    """A field's value as the file would have it, in the file's own script (no \\u escapes)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _uploaded_text() -> str:
    """The file from the upload (``file``) or the text box (``text``), as UTF-8 text."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        raw = upload.read(MAX_BYTES + 1)
    else:
        raw = (request.form.get("text") or "").encode()
    if not raw.strip():
        raise Invalid("validation_error", field="file")
    if len(raw) > MAX_BYTES:
        raise Invalid("validation_error", field="file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("validation_error", field="file") from None


def _refused(station: str, error: WardensError, text: str | None) -> Any:
    """The page again with the refusal: the file's mistakes listed with their paths."""
    if status_of(error) in (401, 403, 404) and error.code != "station_file_invalid":
        raise error
    return _page(station, status=status_of(error), error=error_text(error),
                 mistakes=error.details.get("errors") or [], text=text)


@bp.route("/<station>/station-file", methods=["GET"], endpoint="station_file")
def station_file_page(station: str) -> Any:
    actor(station).require("admin")
    return _page(station)


@bp.route("/<station>/station-file/export.toml", methods=["GET"], endpoint="station_file_export")
def station_file_export(station: str) -> Any:
    who = actor(station)
    who.require("admin")
    text = plan.export_text(db(), who.user, who.station.code)
    return Response(text, mimetype="application/toml", headers={
        "Content-Disposition": f'attachment; filename="{who.station.code}.station.toml"',
        "Cache-Control": "no-store"})


@bp.route("/<station>/station-file/plan", methods=["POST"], endpoint="station_file_plan")
def station_file_plan(station: str) -> Any:
    """Read the uploaded file and show what applying it would do; nothing is changed."""
    who = actor(station)
    who.require("admin")  # before the file is read: a stranger learns nothing from its errors
    text = None
    try:
        text = _uploaded_text()
        found = plan.make_plan(db(), who.user, document.validate(db().info["deployment"],
                                                                 document.parse(text)),
                               code=who.station.code)
    except WardensError as error:
        return _refused(station, error, text)
    return _page(station, plan=found, text=text)


@bp.route("/<station>/station-file/apply", methods=["POST"], endpoint="station_file_apply")
def station_file_apply(station: str) -> Any:
    """Apply the planned file (sent back from the plan's page) with the harms ticked."""
    who = actor(station)
    who.require("admin")
    text = request.form.get("text") or ""
    try:
        if not text.strip():
            raise Invalid("validation_error", field="text")
        allow = set(request.form.getlist("allow"))
        found = plan.apply(db(), who.user, document.validate(db().info["deployment"],
                                                             document.parse(text)),
                           code=who.station.code, allow=allow)
    except WardensError as error:
        return _refused(station, error, text)
    return _page(station, applied=found)
