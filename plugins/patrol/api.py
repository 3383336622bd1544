"""The patrol endpoints, mounted at /api/v1/stations/<station>/patrol/."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import sqlalchemy as sa
from flask import Response, request, send_file

from api.auth import actor
from api.errors import request_locale
from api.pagination import QueryPage
from api.smorest import Blueprint
from api.unit_of_work import db, secret_answer, upload_limit, writes
from core import clock, csv_export, messages
from core.models import User
from core.storage import default_storage
from plugins.patrol import checkpoints, coverage, incidents, patrols, roster, scans, tags
from plugins.patrol import schemas as s
from plugins.patrol.models import Checkpoint, Route
from plugins.patrol.settings import for_station

blp = Blueprint("patrol", __name__, description="Patrols: routes, checkpoint scans, incidents, "
                                                 "duty roster and coverage")


def _route_detail(route: Route) -> dict[str, Any]:
    return {**{c.key: getattr(route, c.key) for c in Route.__table__.columns},
            "checkpoints": checkpoints.route_checkpoints(db(), route)}


# Routes and checkpoints -----------------------------------------------------------------------

@blp.route("/routes", methods=["GET"])
@blp.arguments(s.RouteQueryArgsSchema, location="query")
@blp.response(200, s.RouteSchema(many=True))
@blp.paginate(QueryPage)
def patrol_routes_list(args: dict[str, Any], station: str) -> Any:
    """The station's patrol routes (archived ones for officers with ?archived=true)."""
    return checkpoints.routes_query(actor(station), archived=args["archived"])


@blp.route("/routes", methods=["POST"])
@blp.arguments(s.RouteCreateSchema)
@blp.response(201, s.RouteDetailSchema)
def patrol_routes_create(body: dict[str, Any], station: str) -> dict[str, Any]:
    """Create a route with its checkpoints, each with its own code secret (officers)."""
    return _route_detail(checkpoints.create_route(db(), actor(station), **body))


@blp.route("/routes/<int:route_id>", methods=["GET"])
@blp.response(200, s.RouteDetailSchema)
def patrol_routes_get(station: str, route_id: int) -> dict[str, Any]:
    """A route with its checkpoints in walking order."""
    return _route_detail(checkpoints.get_route(db(), actor(station), route_id))


@blp.route("/routes/<int:route_id>", methods=["PATCH"])
@blp.arguments(s.RouteUpdateSchema)
@blp.response(200, s.RouteDetailSchema)
def patrol_routes_update(changes: dict[str, Any], station: str, route_id: int) -> dict[str, Any]:
    """Rename a route, change its team or whether it is walked in order (officers)."""
    return _route_detail(checkpoints.update_route(db(), actor(station), route_id, changes))


@blp.route("/routes/<int:route_id>", methods=["DELETE"])
@blp.response(204)
def patrol_routes_archive(station: str, route_id: int) -> None:
    """Archive a route; its patrols and scans are kept (officers)."""
    checkpoints.archive_route(db(), actor(station), route_id)


@blp.route("/routes/<int:route_id>/checkpoints", methods=["POST"])
@blp.arguments(s.CheckpointCreateSchema)
@blp.response(201, s.CheckpointSchema)
def patrol_checkpoints_create(body: dict[str, Any], station: str, route_id: int) -> Checkpoint:
    """Add a checkpoint to a route (officers)."""
    who = actor(station)
    return checkpoints.add_checkpoint(db(), who, checkpoints.get_route(db(), who, route_id), **body)


@blp.route("/checkpoints/<int:checkpoint_id>", methods=["PATCH"])
@blp.arguments(s.CheckpointUpdateSchema)
@blp.response(200, s.CheckpointSchema)
def patrol_checkpoints_update(changes: dict[str, Any], station: str,
                              checkpoint_id: int) -> Checkpoint:
    """Move, rename or re-order a checkpoint (officers)."""
    return checkpoints.update_checkpoint(db(), actor(station), checkpoint_id, changes)


@blp.route("/checkpoints/<int:checkpoint_id>", methods=["DELETE"])
@blp.response(204)
def patrol_checkpoints_archive(station: str, checkpoint_id: int) -> None:
    """Take a checkpoint off its route; its scans are kept (officers)."""
    checkpoints.archive_checkpoint(db(), actor(station), checkpoint_id)


@blp.route("/checkpoints/<int:checkpoint_id>/provisioning", methods=["GET"])
@blp.response(200, s.ProvisioningSchema)
def patrol_checkpoints_provisioning(station: str, checkpoint_id: int) -> dict[str, Any]:
    """The payload to set up a code tag: an otpauth URI for its QR code (officers, audited)."""
    return checkpoints.provisioning(db(), actor(station), checkpoint_id)


@blp.route("/checkpoints/<int:checkpoint_id>/rotate-secret", methods=["POST"])
@blp.response(200, s.ProvisioningSchema)
@secret_answer
def patrol_checkpoints_rotate(station: str, checkpoint_id: int) -> dict[str, Any]:
    """Replace a checkpoint's secret and static code now; re-provision its tag (officers)."""
    return checkpoints.rotate_secret(db(), actor(station), checkpoint_id)


@blp.route("/checkpoints/<int:checkpoint_id>/tag", methods=["GET"])
@blp.response(200, s.TagSchema)
@writes
def patrol_checkpoints_tag(station: str, checkpoint_id: int) -> dict[str, Any]:
    """What the checkpoint's tag shows the phone: the static URI (printed, NFC) and the one a
    rotating tag shows now (officers, audited: it shows the codes)."""
    return tags.tag(db(), actor(station), checkpoint_id)[1]


@blp.route("/checkpoints/<int:checkpoint_id>/tag.svg", methods=["GET"])
@blp.arguments(s.TagSvgArgsSchema, location="query")
@blp.doc(responses={"200": {
    "description": "The tag's QR code, SVG; as application/octet-stream when the request's "
                   "Accept prefers that",
    "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/svg+xml", "application/octet-stream")}}})
@writes
def patrol_checkpoints_tag_svg(args: dict[str, Any], station: str,
                               checkpoint_id: int) -> Response:
    """The tag's QR code to print (``variant=static``) or of the current code (``rotating``)
    (officers, audited)."""
    checkpoint, found = tags.tag(db(), actor(station), checkpoint_id)
    payload = tags.parse(found[args["variant"]]["uri"])
    served = request.accept_mimetypes.best_match(["image/svg+xml", "application/octet-stream"],
                                                 default="image/svg+xml")
    response = Response(tags.svg(payload, title=checkpoint.name), mimetype=served)
    response.headers["Cache-Control"] = "no-store"  # it carries a code
    response.headers["Content-Disposition"] = \
        f'inline; filename="checkpoint-{checkpoint.id}-{args["variant"]}.svg"'
    return response


@blp.route("/routes/<int:route_id>/code-sheet", methods=["GET"])
@blp.response(200, s.CodeSheetRowSchema(many=True))
def patrol_code_sheet(station: str, route_id: int) -> list[dict[str, Any]]:
    """The printable static fallback codes of a route's checkpoints (officers, audited)."""
    return checkpoints.code_sheet(db(), actor(station), route_id)


@blp.route("/routes/<int:route_id>/code-sheet.csv", methods=["GET"])
@blp.doc(responses={"200": {"description": "CSV, one checkpoint a line",
                            "content": {"text/csv": {"schema": {"type": "string"}}}}})
def patrol_code_sheet_csv(station: str, route_id: int) -> Response:
    """The same sheet as CSV, for a spreadsheet or a label printer (officers, audited)."""
    rows = checkpoints.code_sheet(db(), actor(station), route_id)
    columns = ["route", "sequence", "checkpoint_id", "name", "grid", "lat", "lon", "static_code",
               "tag_uri"]
    text = csv_export.to_csv(columns, ([row[c] for c in columns] for row in rows))
    response = Response("\ufeff" + text, mimetype="text/csv")  # BOM: Excel reads UTF-8
    response.headers["Content-Disposition"] = f'attachment; filename="route-{route_id}-codes.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/routes/<int:route_id>/tasks/<int:task_id>", methods=["PUT"])
@blp.response(200, s.RouteTaskSchema)
def patrol_task_link(station: str, route_id: int, task_id: int) -> Any:
    """Say that a scheduled task of kind patrol walks this route (officers)."""
    return checkpoints.link_task(db(), actor(station), route_id, task_id)


@blp.route("/routes/<int:route_id>/tasks/<int:task_id>", methods=["DELETE"])
@blp.response(204)
def patrol_task_unlink(station: str, route_id: int, task_id: int) -> None:
    """Undo that link (officers)."""
    checkpoints.unlink_task(db(), actor(station), route_id, task_id)


# Patrols and scans ----------------------------------------------------------------------------

@blp.route("/patrols", methods=["POST"])
@blp.arguments(s.PatrolStartSchema)
@blp.response(201, s.PatrolSchema)
@blp.alt_response(200, schema=s.PatrolSchema, description="A re-sent client_id: the first patrol")
def patrols_start(body: dict[str, Any], station: str) -> Any:
    """Start a patrol, ad hoc on a route or for a scheduled patrol task; a re-sent client_id
    returns the first one (200)."""
    patrol, created = patrols.start_patrol(db(), actor(station), **body)
    return patrol if created else (patrol, 200)


@blp.route("/patrols", methods=["GET"])
@blp.arguments(s.PatrolQueryArgsSchema, location="query")
@blp.response(200, s.PatrolSchema(many=True))
@blp.paginate(QueryPage)
def patrols_list(args: dict[str, Any], station: str) -> Any:
    """Patrols, newest first: officers see everyone's, others their own."""
    return patrols.patrols_query(actor(station), **args)


@blp.route("/patrols/<int:patrol_id>", methods=["GET"])
@blp.response(200, s.PatrolSchema)
def patrols_get(station: str, patrol_id: int) -> Any:
    """A patrol, with its summary once finished."""
    return patrols.get_patrol(db(), actor(station), patrol_id)


@blp.route("/patrols/<int:patrol_id>/finish", methods=["POST"])
@blp.arguments(s.PatrolFinishSchema)
@blp.response(200, s.PatrolSchema)
def patrols_finish(body: dict[str, Any], station: str, patrol_id: int) -> Any:
    """Finish: the summary (ok / flagged / missed, distance, duration) and points, once."""
    return patrols.finish_patrol(db(), actor(station), patrol_id, **body)


@blp.route("/patrols/<int:patrol_id>/unlock", methods=["POST"])
@blp.response(200, s.PatrolSchema)
def patrols_unlock(station: str, patrol_id: int) -> Any:
    """Let a patrol locked by wrong codes scan again (officers, audited)."""
    return patrols.unlock_patrol(db(), actor(station), patrol_id)


def _scan_input(body: dict[str, Any]) -> scans.ScanInput:
    return scans.ScanInput(**body)


@blp.route("/patrols/<int:patrol_id>/scans", methods=["POST"])
@blp.arguments(s.ScanCreateSchema)
@blp.response(201, s.ScanSchema)
@blp.alt_response(200, schema=s.ScanSchema, description="A re-sent client_id: the first scan")
def patrol_scans_create(body: dict[str, Any], station: str, patrol_id: int) -> Any:
    """Scan a checkpoint: 201 ok or flagged (with reasons); 422 with a code when refused;
    a re-sent client_id answers 200 with the first scan."""
    outcome = scans.scan(db(), actor(station), patrol_id, _scan_input(body))
    return outcome.scan if outcome.result == "created" else (outcome.scan, 200)


@blp.route("/patrols/<int:patrol_id>/scans/batch", methods=["POST"])
@blp.arguments(s.ScanBatchSchema)
@blp.response(200, s.ScanBatchResultSchema)
def patrol_scans_batch(body: dict[str, Any], station: str, patrol_id: int) -> dict[str, Any]:
    """Upload scans made offline: each gets created, duplicate or rejected with a code."""
    outcomes = scans.scan_batch(db(), actor(station), patrol_id,
                                  [_scan_input(item) for item in body["scans"]])
    locale = request_locale()
    results = []
    for outcome in outcomes:
        row: dict[str, Any] = {"client_id": outcome.client_id, "result": outcome.result,
                               "code": None, "message": None, "details": None,
                               "scan": outcome.scan if outcome.result != "rejected" else None}
        if outcome.error is not None:
            row.update(code=outcome.error.code, details=outcome.error.details,
                       message=messages.render(outcome.error.code, locale,
                                               outcome.error.details))
        results.append(row)
    counts = {k: sum(1 for o in outcomes if o.result == k)
              for k in ("created", "duplicate", "rejected")}
    return {"created": counts["created"], "duplicates": counts["duplicate"],
            "rejected": counts["rejected"], "results": results}


@blp.route("/patrols/<int:patrol_id>/scans", methods=["GET"])
@blp.response(200, s.ScanSchema(many=True))
@blp.paginate(QueryPage)
def patrol_scans_list(station: str, patrol_id: int) -> Any:
    """A patrol's scans in device-time order, refused attempts included."""
    return scans.scans_query(db(), actor(station), patrol_id)


# Incidents ------------------------------------------------------------------------------------

def _incident_detail(incident: Any) -> dict[str, Any]:
    return {**{c.key: getattr(incident, c.key) for c in incident.__table__.columns},
            "photos": incidents.photos_of(db(), incident)}


@blp.route("/incidents", methods=["POST"])
@blp.arguments(s.IncidentCreateSchema)
@blp.response(201, s.IncidentDetailSchema)
@blp.alt_response(200, schema=s.IncidentDetailSchema,
                  description="A re-sent client_id: the first report")
def patrol_incidents_create(body: dict[str, Any], station: str) -> Any:
    """Report an incident (on patrol, or an officer); the on-duty officers are notified."""
    incident, created = incidents.report(db(), actor(station), **body)
    detail = _incident_detail(incident)
    return detail if created else (detail, 200)


@blp.route("/incidents", methods=["GET"])
@blp.arguments(s.IncidentQueryArgsSchema, location="query")
@blp.response(200, s.IncidentSchema(many=True))
@blp.paginate(QueryPage)
def patrol_incidents_list(args: dict[str, Any], station: str) -> Any:
    """Incidents newest first: officers see the station's, others their own reports."""
    return incidents.incidents_query(actor(station), **args)


@blp.route("/incidents/summary", methods=["GET"])
@blp.arguments(s.CoverageArgsSchema, location="query")
@blp.response(200, s.IncidentSummarySchema)
def patrol_incidents_summary(args: dict[str, Any], station: str) -> dict[str, Any]:
    """Counts by category and status, default the last 30 days (officers and partners)."""
    until = args.get("until") or clock.now()
    since = args.get("since") or until - dt.timedelta(days=30)
    return incidents.summary(db(), actor(station), since, until)


@blp.route("/incidents/<int:incident_id>", methods=["GET"])
@blp.response(200, s.IncidentDetailSchema)
def patrol_incidents_get(station: str, incident_id: int) -> dict[str, Any]:
    """An incident and its status (its reporter and the station's officers)."""
    return _incident_detail(incidents.get(db(), actor(station), incident_id))


@blp.route("/incidents/<int:incident_id>/acknowledge", methods=["POST"])
@blp.arguments(s.AcknowledgeSchema)
@blp.response(200, s.IncidentDetailSchema)
def patrol_incidents_acknowledge(body: dict[str, Any], station: str,
                                 incident_id: int) -> dict[str, Any]:
    """Take the incident on, with a note (officers); the reporter is told."""
    return _incident_detail(incidents.acknowledge(db(), actor(station), incident_id, body["note"]))


@blp.route("/incidents/<int:incident_id>/resolve", methods=["POST"])
@blp.arguments(s.ResolveSchema)
@blp.response(200, s.IncidentDetailSchema)
def patrol_incidents_resolve(body: dict[str, Any], station: str,
                             incident_id: int) -> dict[str, Any]:
    """Close the incident with a note (officers); the reporter is told."""
    return _incident_detail(incidents.resolve(db(), actor(station), incident_id, body["note"]))


def _photo_upload_limit(view_args: dict[str, Any]) -> int:
    # Photos are bigger than the 1 MB JSON limit: this endpoint allows three of them.
    who = actor(view_args["station"])
    return incidents.MAX_PHOTOS * for_station(db(), who.station.id).photo_max_bytes + 64 * 1024


@blp.route("/incidents/<int:incident_id>/photos", methods=["POST"])
@upload_limit(_photo_upload_limit)
@blp.arguments(s.PhotoUploadSchema, location="files")
@blp.response(201, s.PhotoSchema(many=True))
def patrol_incidents_photos_add(_files: dict[str, Any], station: str, incident_id: int) -> Any:
    """Attach up to three photos (multipart field ``photo``): images only, size-limited."""
    files = [f.stream for f in request.files.getlist("photo")]
    return incidents.add_photos(db(), actor(station), incident_id, files, default_storage())


@blp.route("/incidents/<int:incident_id>/photos/<int:photo_id>", methods=["GET"])
@blp.doc(responses={"200": {
    "description": "The image as stored (JPEG, PNG, WebP or HEIC); as application/octet-stream "
                   "when the request's Accept prefers that",
    "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in (*incidents.IMAGE_TYPES, "application/octet-stream")}}})
def patrol_incidents_photo_get(station: str, incident_id: int, photo_id: int) -> Response:
    """A photo, for the station's officers and the reporter only."""
    photo, handle = incidents.open_photo(db(), actor(station), incident_id, photo_id,
                                         default_storage())
    served = request.accept_mimetypes.best_match([photo.content_type, "application/octet-stream"],
                                                 default=photo.content_type)
    response = send_file(handle, mimetype=served, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# Duty roster ----------------------------------------------------------------------------------

@blp.route("/roster", methods=["GET"])
@blp.arguments(s.RosterQueryArgsSchema, location="query")
@blp.response(200, s.ShiftSchema(many=True))
@blp.paginate(QueryPage)
def patrol_roster_list(args: dict[str, Any], station: str) -> Any:
    """Who is on duty: a day in the station's time zone (default today) or since/until
    (patrol members, partners, officers)."""
    who = actor(station)
    if "since" in args or "until" in args:
        since = args.get("since") or clock.now()
        until = args.get("until") or since + dt.timedelta(days=1)
    else:
        today = clock.now().astimezone(zoneinfo.ZoneInfo(who.station.timezone)).date()
        since, until = roster.local_day(who, args.get("date") or today)
    return roster.shifts_query(db(), who, since, until)


@blp.route("/roster/on-duty", methods=["GET"])
@blp.arguments(s.OnDutyArgsSchema, location="query")
@blp.response(200, s.OfficerSchema(many=True))
def patrol_roster_on_duty(args: dict[str, Any], station: str) -> list[dict[str, Any]]:
    """The officers on duty now (or ``at``): whom an incident alerts."""
    who = actor(station)
    roster.require_reader(db(), who)
    ids = roster.on_duty(db(), who.station.id, args.get("at") or clock.now())
    users = {u.id: u for u in db().scalars(sa.select(User).where(User.id.in_(ids)))}
    return [{"officer_id": i, "display_name": users[i].display_name, "phone": users[i].phone}
            for i in ids if i in users]


@blp.route("/roster", methods=["POST"])
@blp.arguments(s.ShiftCreateSchema)
@blp.response(201, s.ShiftSchema)
def patrol_roster_add(body: dict[str, Any], station: str) -> Any:
    """Put an officer on duty for a time (officers)."""
    shift = roster.add_shift(db(), actor(station), **body)
    # A dict, not a tuple: smorest would read a tuple's second item as the status.
    return {"DutyShift": shift, "User": db().get(User, shift.officer_id)}


@blp.route("/roster/<int:shift_id>", methods=["DELETE"])
@blp.response(204)
def patrol_roster_delete(station: str, shift_id: int) -> None:
    """Take a shift off the roster (officers)."""
    roster.delete_shift(db(), actor(station), shift_id)


# Coverage -------------------------------------------------------------------------------------

@blp.route("/coverage", methods=["GET"])
@blp.arguments(s.CoverageArgsSchema, location="query")
@blp.response(200, s.CoverageSchema)
def patrol_coverage_get(args: dict[str, Any], station: str) -> dict[str, Any]:
    """Per checkpoint and grid cell: visits, last visit, longest gap; default the last 24 hours
    (officers and partners)."""
    until = args.get("until") or clock.now()
    since = args.get("since") or until - dt.timedelta(hours=24)
    return coverage.report(db(), actor(station), since, until)
