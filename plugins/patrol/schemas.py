"""Request and response schemas of the patrol API."""

from __future__ import annotations

import marshmallow as ma

from api.fields import Name, Text, TimeRangeArgsSchema
from api.positions import Lat, Lon, Positioned
from api.smorest import Schema
from plugins.patrol.models import IncidentCategory, IncidentStatus, PatrolStatus

V = ma.validate


def ClientId(**kwargs: object) -> ma.fields.String:  # noqa: N802
    """A client-generated id (a UUID), unique per station."""
    return ma.fields.String(validate=V.Regexp(r"^[A-Za-z0-9_-]{8,64}$",
                                              error="Use 8-64 letters, digits, - or _ (a UUID)."),
                            **kwargs)  # type: ignore[arg-type]



# Routes and checkpoints -----------------------------------------------------------------------

class CheckpointCreateSchema(Positioned):
    name = Name(required=True)
    lat = Lat(required=True)
    lon = Lon(required=True)
    radius_m = ma.fields.Integer(load_default=30, validate=V.Range(5, 1000))
    grid_group_id = ma.fields.Integer(allow_none=True, load_default=None,
                                      metadata={"description": "A group of kind grid"})
    sequence = ma.fields.Integer(validate=V.Range(0, 10_000),
                                 metadata={"description": "Walking order; appended when left out"})


class CheckpointUpdateSchema(Positioned):
    name = Name()
    lat = Lat()
    lon = Lon()
    radius_m = ma.fields.Integer(validate=V.Range(5, 1000))
    grid_group_id = ma.fields.Integer(allow_none=True)
    sequence = ma.fields.Integer(validate=V.Range(0, 10_000))


class CheckpointSchema(Positioned):
    id = ma.fields.Integer()
    route_id = ma.fields.Integer()
    name = ma.fields.String()
    sequence = ma.fields.Integer()
    lat = Lat()
    lon = Lon()
    radius_m = ma.fields.Integer()
    grid_group_id = ma.fields.Integer(allow_none=True)
    code_step_s = ma.fields.Integer()
    secret_rotated_at = ma.fields.AwareDateTime(allow_none=True)
    archived_at = ma.fields.AwareDateTime(allow_none=True)


class RouteCreateSchema(Schema):
    name = Name(required=True)
    description = Text(max_length=2000, load_default="")
    team_group_id = ma.fields.Integer(allow_none=True, load_default=None,
                                      metadata={"description": "A group of kind patrol_team"})
    ordered = ma.fields.Boolean(load_default=False,
                                metadata={"description": "Checkpoints must be walked in order"})
    checkpoints = ma.fields.List(ma.fields.Nested(CheckpointCreateSchema), load_default=list,
                                 validate=V.Length(max=100))


class RouteUpdateSchema(Schema):
    name = Name()
    description = Text(max_length=2000)
    team_group_id = ma.fields.Integer(allow_none=True)
    ordered = ma.fields.Boolean()


class RouteSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    description = ma.fields.String()
    team_group_id = ma.fields.Integer(allow_none=True)
    ordered = ma.fields.Boolean()
    archived_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class RouteDetailSchema(RouteSchema):
    checkpoints = ma.fields.List(ma.fields.Nested(CheckpointSchema))


class RouteQueryArgsSchema(Schema):
    archived = ma.fields.Boolean(load_default=False)


class ProvisioningSchema(Schema):
    checkpoint_id = ma.fields.Integer()
    otpauth_uri = ma.fields.String(metadata={"description": "Show as a QR code to the tag"})
    secret = ma.fields.String()
    algorithm = ma.fields.String()
    digits = ma.fields.Integer()
    period = ma.fields.Integer()
    static_code = ma.fields.String(metadata={"description": "The printed fallback code"})
    rotated_at = ma.fields.AwareDateTime(allow_none=True)


class CodeSheetRowSchema(Positioned):
    route = ma.fields.String()
    sequence = ma.fields.Integer()
    checkpoint_id = ma.fields.Integer()
    name = ma.fields.String()
    grid = ma.fields.String()
    lat = Lat()
    lon = Lon()
    static_code = ma.fields.String()
    tag_uri = ma.fields.String(metadata={
        "description": "The static tag's URI, wardens://checkpoint/<station>/<id>?c=<static "
                       "code>: print it as a QR code (.../checkpoints/<id>/tag.svg)"})


class TagStaticSchema(Schema):
    uri = ma.fields.String(metadata={"description": "wardens://checkpoint/<station>/<id>?c="
                                                    "<static code>: the printed QR code"})
    code = ma.fields.String(metadata={"description": "The static code in it"})
    ndef_hex = ma.fields.String(metadata={
        "description": "The same URI as an NDEF message (one URI record, identifier code 0x00), "
                       "hex: write it to an NFC tag"})


class TagRotatingSchema(Schema):
    uri = ma.fields.String(metadata={"description": "What a rotating tag shows now: the URI "
                                                    "with the current six-digit code"})
    code = ma.fields.String()
    valid_until = ma.fields.AwareDateTime(metadata={"description": "When the code's step ends"})
    period = ma.fields.Integer(metadata={"description": "Seconds per code"})


class TagSchema(Schema):
    checkpoint_id = ma.fields.Integer()
    static = ma.fields.Nested(TagStaticSchema)
    rotating = ma.fields.Nested(TagRotatingSchema)


class TagSvgArgsSchema(Schema):
    variant = ma.fields.String(load_default="static", validate=V.OneOf(["static", "rotating"]),
                               metadata={"description": "static (the printed sheet) or "
                                                        "rotating (the current code)"})


class RouteTaskSchema(Schema):
    route_id = ma.fields.Integer()
    task_id = ma.fields.Integer()


# Patrols and scans ----------------------------------------------------------------------------

class PatrolStartSchema(Schema):
    route_id = ma.fields.Integer(metadata={"description": "Required unless the task has a route"})
    task_id = ma.fields.Integer(metadata={"description": "A scheduled task of kind patrol"})
    client_id = ClientId()
    started_at = ma.fields.AwareDateTime(metadata={
        "description": "The phone's time, when the patrol began without signal"})


class PatrolFinishSchema(Schema):
    finished_at = ma.fields.AwareDateTime(metadata={"description": "The phone's time"})


class PatrolSchema(Schema):
    id = ma.fields.Integer()
    route_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    task_id = ma.fields.Integer(allow_none=True)
    client_id = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    started_at = ma.fields.AwareDateTime()
    finished_at = ma.fields.AwareDateTime(allow_none=True)
    auto_finished = ma.fields.Boolean()
    wrong_codes = ma.fields.Integer()
    completed = ma.fields.Boolean()
    summary = ma.fields.Dict(allow_none=True, metadata={
        "description": "On finishing: checkpoints_total, ok, ok_static, flagged, missed, "
                       "scans_rejected, flag_reasons, distance_m, duration_s, "
                       "completion_ratio, completed, points"})


class PatrolQueryArgsSchema(TimeRangeArgsSchema):
    status = ma.fields.String(validate=V.OneOf([s.value for s in PatrolStatus]))
    route_id = ma.fields.Integer()
    user_id = ma.fields.Integer(metadata={"description": "Officers only"})
    mine = ma.fields.Boolean(load_default=False)


class ScanCreateSchema(Positioned):
    checkpoint_id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True, validate=V.Length(min=1, max=16), metadata={
        "description": "The tag's 6-digit code, or the printed static code"})
    lat = Lat(required=True)
    lon = Lon(required=True)
    accuracy_m = ma.fields.Float(required=True, validate=V.Range(0, 100_000))
    is_mock = ma.fields.Boolean(required=True, metadata={"description": "Android mock location"})
    device_time = ma.fields.AwareDateTime(required=True)
    client_id = ClientId(required=True)


class ScanSchema(Positioned):
    id = ma.fields.Integer()
    patrol_id = ma.fields.Integer()
    checkpoint_id = ma.fields.Integer()
    client_id = ma.fields.String()
    status = ma.fields.String(metadata={"description": "ok, flagged (no points) or rejected"})
    assurance = ma.fields.String(allow_none=True, metadata={"description": "rotating or static"})
    flags = ma.fields.List(ma.fields.String())
    reject_code = ma.fields.String(allow_none=True)
    lat = Lat(allow_none=True)
    lon = Lon(allow_none=True)
    accuracy_m = ma.fields.Float()
    is_mock = ma.fields.Boolean()
    distance_m = ma.fields.Float(allow_none=True)
    device_time = ma.fields.AwareDateTime()
    server_time = ma.fields.AwareDateTime()


class ScanBatchSchema(Schema):
    scans = ma.fields.List(ma.fields.Nested(ScanCreateSchema), required=True,
                           validate=V.Length(min=1, max=200))


class ScanResultSchema(Schema):
    client_id = ma.fields.String()
    result = ma.fields.String(metadata={"description": "created, duplicate or rejected"})
    code = ma.fields.String(allow_none=True)
    message = ma.fields.String(allow_none=True)
    details = ma.fields.Dict(allow_none=True)
    scan = ma.fields.Nested(ScanSchema, allow_none=True)


class ScanBatchResultSchema(Schema):
    created = ma.fields.Integer()
    duplicates = ma.fields.Integer()
    rejected = ma.fields.Integer()
    results = ma.fields.List(ma.fields.Nested(ScanResultSchema))


# Incidents ------------------------------------------------------------------------------------

class IncidentCreateSchema(Positioned):
    category = ma.fields.String(required=True,
                                validate=V.OneOf([c.value for c in IncidentCategory]))
    description = Text(max_length=4000, load_default="")
    lat = Lat()
    lon = Lon()
    accuracy_m = ma.fields.Float(validate=V.Range(0, 100_000))
    occurred_at = ma.fields.AwareDateTime()
    client_id = ClientId()
    patrol_id = ma.fields.Integer()


class PhotoSchema(Schema):
    id = ma.fields.Integer()
    content_type = ma.fields.String()
    size_bytes = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()


class IncidentSchema(Positioned):
    id = ma.fields.Integer()
    reporter_id = ma.fields.Integer()
    patrol_id = ma.fields.Integer(allow_none=True)
    client_id = ma.fields.String(allow_none=True)
    category = ma.fields.String()
    description = ma.fields.String()
    lat = Lat(allow_none=True)
    lon = Lon(allow_none=True)
    accuracy_m = ma.fields.Float(allow_none=True)
    occurred_at = ma.fields.AwareDateTime()
    status = ma.fields.String()
    photo_count = ma.fields.Integer()
    acknowledged_by = ma.fields.Integer(allow_none=True)
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True)
    acknowledge_note = ma.fields.String()
    resolved_by = ma.fields.Integer(allow_none=True)
    resolved_at = ma.fields.AwareDateTime(allow_none=True)
    resolution_note = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class IncidentDetailSchema(IncidentSchema):
    photos = ma.fields.List(ma.fields.Nested(PhotoSchema))


class IncidentQueryArgsSchema(TimeRangeArgsSchema):
    status = ma.fields.String(validate=V.OneOf([s.value for s in IncidentStatus]))
    category = ma.fields.String(validate=V.OneOf([c.value for c in IncidentCategory]))


class AcknowledgeSchema(Schema):
    note = Text(max_length=2000, load_default="")


class ResolveSchema(Schema):
    note = Text(max_length=2000, required=True)


class IncidentSummarySchema(Schema):
    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()
    total = ma.fields.Integer()
    by_category = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


# Roster and coverage --------------------------------------------------------------------------

class ShiftCreateSchema(Schema):
    officer_id = ma.fields.Integer(required=True)
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    note = Text(max_length=200, load_default="")


class ShiftSchema(Schema):
    """Dumps (DutyShift, User) rows."""

    id = ma.fields.Integer(attribute="DutyShift.id")
    officer_id = ma.fields.Integer(attribute="DutyShift.officer_id")
    officer_name = ma.fields.String(attribute="User.display_name")
    officer_phone = ma.fields.String(attribute="User.phone", allow_none=True)
    starts_at = ma.fields.AwareDateTime(attribute="DutyShift.starts_at")
    ends_at = ma.fields.AwareDateTime(attribute="DutyShift.ends_at")
    note = ma.fields.String(attribute="DutyShift.note")


class RosterQueryArgsSchema(TimeRangeArgsSchema):
    date = ma.fields.Date(metadata={"description": "A day in the station's time zone "
                                                   "(default: today); or since/until"})


class OnDutyArgsSchema(Schema):
    at = ma.fields.AwareDateTime(metadata={"description": "Default: now"})


class OfficerSchema(Schema):
    officer_id = ma.fields.Integer()
    display_name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)


class CoverageArgsSchema(TimeRangeArgsSchema):
    """Default: the last 24 hours."""


class CoverageEntrySchema(Schema):
    visits = ma.fields.Integer(metadata={"description": "ok scans"})
    flagged_visits = ma.fields.Integer()
    last_visit = ma.fields.AwareDateTime(allow_none=True)
    longest_gap_s = ma.fields.Integer(metadata={"description": "Longest time without an ok "
                                                               "visit within the range"})


class CheckpointCoverageSchema(CoverageEntrySchema):
    checkpoint_id = ma.fields.Integer()
    name = ma.fields.String()
    route_id = ma.fields.Integer()
    route = ma.fields.String()
    grid_group_id = ma.fields.Integer(allow_none=True)


class CellCoverageSchema(CoverageEntrySchema):
    grid_group_id = ma.fields.Integer()
    name = ma.fields.String()
    checkpoint_ids = ma.fields.List(ma.fields.Integer())


class CoverageSchema(Schema):
    since = ma.fields.AwareDateTime()
    until = ma.fields.AwareDateTime()
    checkpoints = ma.fields.List(ma.fields.Nested(CheckpointCoverageSchema))
    grid_cells = ma.fields.List(ma.fields.Nested(CellCoverageSchema))


class PhotoUploadSchema(Schema):
    photo = ma.fields.Raw(metadata={"type": "string", "format": "binary",
                                    "description": "One to three images (JPEG, PNG, WebP, HEIC)"})
