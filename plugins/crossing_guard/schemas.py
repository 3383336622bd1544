"""Request and response schemas of the crossing-guard endpoints."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.fields import Name, Text, TimeRangeArgsSchema
from api.positions import Lat, Lon, Positioned
from api.smorest import Schema
from api.task_schemas import AssignmentSchema
from plugins.crossing_guard.models import ClosureKind, PostKind, SwapStatus

WEEKDAY = ma.fields.Integer(validate=ma.validate.Range(min=1, max=7),
                            metadata={"description": "ISO weekday: 1 = Monday ... 7 = Sunday"})
HHMM = "%H:%M"


class CrossingSchoolSchema(Positioned):
    id = ma.fields.Integer(dump_only=True)
    name = Name(required=True)
    address = Text(max_length=200, load_default="")
    lat = Lat(required=True)
    lon = Lon(required=True)
    team_group_id = ma.fields.Integer(allow_none=True, load_default=None, metadata={
        "description": "The crossing_team group guarding this school; none = any crossing team"})
    created_at = ma.fields.AwareDateTime(dump_only=True)


class CrossingSchoolUpdateSchema(Positioned):
    name = Name()
    address = Text(max_length=200)
    lat = Lat()
    lon = Lon()
    team_group_id = ma.fields.Integer(allow_none=True)


class CrossingPostSchema(Positioned):
    id = ma.fields.Integer(dump_only=True)
    school_id = ma.fields.Integer(dump_only=True)
    name = Name(required=True)
    kind = ma.fields.Enum(PostKind, by_value=True, required=True)
    lat = Lat(required=True)
    lon = Lon(required=True)
    radius_m = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=5, max=2000))
    min_guards = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=0, max=50))
    max_guards = ma.fields.Integer(load_default=2, validate=ma.validate.Range(min=1, max=50))
    active = ma.fields.Boolean(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class CrossingPostUpdateSchema(Positioned):
    name = Name()
    kind = ma.fields.Enum(PostKind, by_value=True)
    lat = Lat()
    lon = Lon()
    radius_m = ma.fields.Integer(validate=ma.validate.Range(min=5, max=2000))
    min_guards = ma.fields.Integer(validate=ma.validate.Range(min=0, max=50))
    max_guards = ma.fields.Integer(validate=ma.validate.Range(min=1, max=50))
    active = ma.fields.Boolean()


class CrossingChangeEffectSchema(Schema):
    moved = ma.fields.Integer()
    changed = ma.fields.Integer()
    cancelled = ma.fields.Integer()
    created = ma.fields.Integer()


class CrossingPostChangedSchema(CrossingPostSchema):
    shifts = ma.fields.Nested(CrossingChangeEffectSchema, dump_only=True)


class CrossingTermSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    school_id = ma.fields.Integer(allow_none=True, load_default=None,
                                  metadata={"description": "None: every school of the station"})
    name = Name(required=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class CrossingTermUpdateSchema(Schema):
    name = Name()
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date()


class CrossingCalendarQueryArgsSchema(Schema):
    school_id = ma.fields.Integer()


class CrossingClosureSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    school_id = ma.fields.Integer(allow_none=True, load_default=None,
                                  metadata={"description": "None: the whole station"})
    kind = ma.fields.Enum(ClosureKind, by_value=True, required=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)
    reason = Text(max_length=200, load_default="")
    created_at = ma.fields.AwareDateTime(dump_only=True)


class CrossingClosureCreatedSchema(CrossingClosureSchema):
    shifts_cancelled = ma.fields.Integer(dump_only=True)


class CrossingGeneratedSchema(Schema):
    created = ma.fields.Integer()
    existing = ma.fields.Integer()
    closed = ma.fields.Integer()
    past = ma.fields.Integer()
    cancelled = ma.fields.Integer()


class CrossingTemplateSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    post_id = ma.fields.Integer(dump_only=True)
    name = Name(max_length=60, required=True)
    weekdays = ma.fields.List(WEEKDAY, required=True, validate=ma.validate.Length(min=1, max=7))
    starts_time = ma.fields.Time(format=HHMM, required=True,
                                 metadata={"description": "Local time, HH:MM"})
    ends_time = ma.fields.Time(format=HHMM, required=True)
    active = ma.fields.Boolean(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class CrossingTemplateUpdateSchema(Schema):
    name = Name(max_length=60)
    weekdays = ma.fields.List(WEEKDAY, validate=ma.validate.Length(min=1, max=7))
    starts_time = ma.fields.Time(format=HHMM)
    ends_time = ma.fields.Time(format=HHMM)
    active = ma.fields.Boolean()


class CrossingTemplateChangedSchema(CrossingTemplateSchema):
    shifts = ma.fields.Nested(CrossingChangeEffectSchema, dump_only=True)


class CrossingTemplateQueryArgsSchema(Schema):
    post_id = ma.fields.Integer()
    active = ma.fields.Boolean()


class CrossingRefSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class CrossingPostRefSchema(CrossingRefSchema):
    kind = ma.fields.String()
    min_guards = ma.fields.Integer()
    max_guards = ma.fields.Integer()


class CrossingShiftSchema(Schema):
    """Dumps (Shift, Task, Post, School, my_status) rows."""

    id = ma.fields.Integer(attribute="Shift.id")
    task_id = ma.fields.Integer(attribute="Shift.task_id")
    template_id = ma.fields.Integer(attribute="Shift.template_id")
    term_id = ma.fields.Integer(attribute="Shift.term_id", allow_none=True)
    date = ma.fields.Date(attribute="Shift.local_date")
    title = ma.fields.String(attribute="Task.title")
    starts_at = ma.fields.AwareDateTime(attribute="Task.starts_at")
    ends_at = ma.fields.AwareDateTime(attribute="Task.ends_at")
    status = ma.fields.String(attribute="Task.status")
    cancel_reason = ma.fields.String(attribute="Shift.cancel_reason", allow_none=True)
    capacity = ma.fields.Integer(attribute="Task.capacity")
    filled = ma.fields.Integer(attribute="Task.filled")
    below_minimum = ma.fields.Method("_below", metadata={
        "type": "boolean", "description": "Fewer guards signed up than the post needs"})
    post = ma.fields.Nested(CrossingPostRefSchema, attribute="Post")
    school = ma.fields.Nested(CrossingRefSchema, attribute="School")
    my_status = ma.fields.String(allow_none=True)

    def _below(self, row: Any) -> bool:
        task, post = (row["Task"], row["Post"]) if isinstance(row, dict) else (row.Task, row.Post)
        return task.filled < post.min_guards


class CrossingRosterEntrySchema(Schema):
    user_id = ma.fields.Integer()
    display_name = ma.fields.String()
    status = ma.fields.String()


class CrossingShiftDetailSchema(CrossingShiftSchema):
    roster = ma.fields.List(ma.fields.Nested(CrossingRosterEntrySchema))


class CrossingShiftQueryArgsSchema(TimeRangeArgsSchema):
    """The filters of ``GET .../tasks`` where a shift has them (since/until, mine, has_places)."""

    school_id = ma.fields.Integer()
    post_id = ma.fields.Integer()
    template_id = ma.fields.Integer()
    mine = ma.fields.Boolean(load_default=False, metadata={
        "description": "Only shifts I am on (waitlisted and no-show included)"})
    has_places = ma.fields.Boolean(load_default=False, metadata={
        "description": "Only open shifts with a free place"})
    below_minimum = ma.fields.Boolean(load_default=False)
    include_cancelled = ma.fields.Boolean(load_default=False)


class CrossingSignupResultSchema(AssignmentSchema):
    """The core's answer to a sign-up (``POST .../tasks/<id>/signups``), with the shift."""

    shift_id = ma.fields.Integer()


class CrossingSeriesSchema(Schema):
    template_id = ma.fields.Integer(required=True)
    term_id = ma.fields.Integer(metadata={"description": "Default: the current or next term"})
    weekdays = ma.fields.List(WEEKDAY, validate=ma.validate.Length(min=1, max=7),
                              metadata={"description": "Default: every day of the template"})
    waitlist = ma.fields.Boolean(load_default=True)


class CrossingSeriesEntrySchema(Schema):
    shift_id = ma.fields.Integer()
    date = ma.fields.Date()
    starts_at = ma.fields.AwareDateTime()
    result = ma.fields.String(metadata={
        "description": "signed_up, waitlisted, or the code that refused this shift"})
    waitlist_position = ma.fields.Integer()


class CrossingSeriesResultSchema(Schema):
    results = ma.fields.List(ma.fields.Nested(CrossingSeriesEntrySchema))
    signed_up = ma.fields.Integer()
    waitlisted = ma.fields.Integer()
    refused = ma.fields.Integer()


class CrossingReleaseSchema(Schema):
    user_id = ma.fields.Integer(required=True)


class CrossingCancelSchema(Schema):
    reason = Text(max_length=200, required=True)


class CrossingSwapOfferCreateSchema(Schema):
    offered_to = ma.fields.Integer(allow_none=True, load_default=None,
                                   metadata={"description": "One named guard, or anyone"})
    note = Text(max_length=200, load_default="")


class CrossingSwapOfferSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    shift_id = ma.fields.Integer(dump_only=True)
    offered_by = ma.fields.Integer(dump_only=True)
    offered_to = ma.fields.Integer(dump_only=True, allow_none=True)
    note = ma.fields.String(dump_only=True)
    status = ma.fields.Enum(SwapStatus, by_value=True, dump_only=True)
    taken_by = ma.fields.Integer(dump_only=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    closed_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)


class CrossingSwapQueryArgsSchema(Schema):
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in SwapStatus]))
    shift_id = ma.fields.Integer()


class CrossingReportArgsSchema(Schema):
    term_id = ma.fields.Integer(metadata={"description": "Default: the current or next term"})
    school_id = ma.fields.Integer()


class CrossingGuardHoursSchema(Schema):
    user_id = ma.fields.Integer()
    display_name = ma.fields.String()
    shifts_completed = ma.fields.Integer()
    scheduled_hours = ma.fields.Float()
    on_site_hours = ma.fields.Float()
    no_shows = ma.fields.Integer()


class CrossingHoursReportSchema(Schema):
    term = ma.fields.Nested(CrossingTermSchema)
    guards = ma.fields.List(ma.fields.Nested(CrossingGuardHoursSchema))


class CrossingFillRateLineSchema(Schema):
    post_id = ma.fields.Integer()
    post = ma.fields.String()
    school = ma.fields.String()
    week = ma.fields.String(metadata={"description": "ISO week of the local dates, 2026-W10"})
    shifts = ma.fields.Integer()
    places = ma.fields.Integer()
    taken = ma.fields.Integer()
    attended = ma.fields.Integer()
    below_minimum = ma.fields.Integer()
    fill_rate = ma.fields.Float()


class CrossingFillRateReportSchema(Schema):
    term = ma.fields.Nested(CrossingTermSchema)
    weeks = ma.fields.List(ma.fields.Nested(CrossingFillRateLineSchema))


class CrossingFeedSchema(Schema):
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime(allow_none=True)
    url = ma.fields.String(metadata={"description": "Shown once, when made or reset"})
