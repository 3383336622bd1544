"""Schemas of the care-visits API: what goes in, and what each view lets come out."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.fields import PHONE, Name, Text, TimeRangeArgsSchema
from api.positions import Lat, Lon, Positioned
from api.smorest import Schema
from plugins.care_visits.models import (
    Basis,
    Category,
    ConsentState,
    FollowUpStatus,
    Scope,
    ServiceType,
    VisitStatus,
)

CATEGORY = ma.validate.OneOf([c.value for c in Category])
LAT = ma.validate.Range(-90, 90)
LON = ma.validate.Range(-180, 180)
CLIENT_ID = ma.validate.Length(min=1, max=64)


def _values(enum_cls: Any) -> list[str]:
    return [m.value for m in enum_cls]


# Recipients -----------------------------------------------------------------------------------

class EmergencyContactSchema(Schema):
    name = Text(max_length=120, load_default="")
    phone = ma.fields.String(allow_none=True, load_default=None, validate=PHONE)
    relation = Text(max_length=60, load_default="")


class ConsentCreateSchema(Schema):
    basis = ma.fields.String(required=True, validate=ma.validate.OneOf(_values(Basis)))
    scope = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(_values(Scope))),
                           required=True, validate=ma.validate.Length(min=1, max=5),
                           metadata={"description": "What it covers: visits, sensitive_details"})
    version = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40),
                               metadata={"description": "Version of the form or notice"})
    given_by = Text(max_length=120, load_default="",
                    metadata={"description": "A guardian or relative, when not the recipient"})
    note = Text(max_length=2000, load_default="")


class ConsentSchema(Schema):
    id = ma.fields.Integer()
    recipient_id = ma.fields.Integer()
    basis = ma.fields.String()
    scope = ma.fields.List(ma.fields.String())
    version = ma.fields.String()
    given_by = ma.fields.String()
    note = ma.fields.String()
    recorded_by = ma.fields.Integer(allow_none=True)
    recorded_at = ma.fields.AwareDateTime()
    withdrawn_at = ma.fields.AwareDateTime(allow_none=True)
    withdrawn_by = ma.fields.Integer(allow_none=True)
    withdrawal_note = ma.fields.String()


class ConsentStateSchema(Schema):
    state = ma.fields.String()
    scope = ma.fields.List(ma.fields.String())
    id = ma.fields.Integer()
    basis = ma.fields.String()
    version = ma.fields.String()
    recorded_by = ma.fields.Integer(allow_none=True)
    recorded_at = ma.fields.AwareDateTime()
    withdrawn_at = ma.fields.AwareDateTime(allow_none=True)


class WithdrawSchema(Schema):
    note = Text(max_length=2000, load_default="")


class SensitiveSchema(Schema):
    disability_type = Text(max_length=120, allow_none=True)
    disability_grade = Text(max_length=20, allow_none=True)
    health_notes = Text(max_length=4000, allow_none=True)
    id_number = ma.fields.String(allow_none=True, validate=ma.validate.Regexp(
        r"^[0-9A-Za-z]{4,32}$", error="4-32 letters and digits."))


class RecipientCreateSchema(Positioned):
    """A new recipient, optionally with its consent or legal basis."""

    name = Name(required=True)
    phone = ma.fields.String(allow_none=True, load_default=None, validate=PHONE)
    address = Text(max_length=300, required=True)
    needs = Text(max_length=2000, load_default="")
    lat = Lat(required=True)
    lon = Lon(required=True)
    categories = ma.fields.List(ma.fields.String(validate=CATEGORY), required=True,
                                validate=ma.validate.Length(min=1, max=4))
    emergency_contact = ma.fields.Nested(EmergencyContactSchema, load_default=dict)
    visits_per_year = ma.fields.Integer(allow_none=True, load_default=None,
                                        validate=ma.validate.Range(0, 52),
                                        metadata={"description": "Overrides the station's "
                                                  "default for the categories"})
    care_group_id = ma.fields.Integer(allow_none=True, load_default=None)
    named_visitor_ids = ma.fields.List(ma.fields.Integer(), load_default=list,
                                       validate=ma.validate.Length(max=20))
    user_id = ma.fields.Integer(allow_none=True, load_default=None,
                                metadata={"description": "The recipient's own app account"})
    consent = ma.fields.Nested(ConsentCreateSchema)


class RecipientSchema(Positioned):
    """A recipient as the reader may see it: a visitor gets id, name, phone, address, needs
    (and erased); care officers get every field. An erased record has no position."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    phone = ma.fields.String(allow_none=True)
    address = ma.fields.String(required=True)
    needs = ma.fields.String()
    lat = Lat(allow_none=True, metadata={"description": "Care officers only"})
    lon = Lon(allow_none=True, metadata={"description": "Care officers only"})
    categories = ma.fields.List(ma.fields.String(validate=CATEGORY),
                                metadata={"description": "Care officers only"})
    emergency_contact = ma.fields.Nested(EmergencyContactSchema)
    visits_per_year = ma.fields.Integer(allow_none=True)
    required_visits = ma.fields.Integer()
    care_group_id = ma.fields.Integer(allow_none=True)
    named_visitor_ids = ma.fields.List(ma.fields.Integer())
    user_id = ma.fields.Integer(allow_none=True)
    consent = ma.fields.Nested(ConsentStateSchema)
    sensitive = ma.fields.Nested(SensitiveSchema)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    erased = ma.fields.Boolean()


class RecipientUpdateSchema(Positioned):
    name = Name()
    phone = ma.fields.String(allow_none=True, validate=PHONE)
    address = Text(max_length=300)
    needs = Text(max_length=2000)
    lat = Lat()
    lon = Lon()
    categories = ma.fields.List(ma.fields.String(validate=CATEGORY),
                                validate=ma.validate.Length(min=1, max=4))
    emergency_contact = ma.fields.Nested(EmergencyContactSchema)
    visits_per_year = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(0, 52))
    care_group_id = ma.fields.Integer(allow_none=True)
    named_visitor_ids = ma.fields.List(ma.fields.Integer(), validate=ma.validate.Length(max=20))
    user_id = ma.fields.Integer(allow_none=True)


class RecipientQueryArgsSchema(Schema):
    category = ma.fields.String(validate=CATEGORY)
    consent = ma.fields.String(validate=ma.validate.OneOf(_values(ConsentState)))
    q = ma.fields.String(validate=ma.validate.Length(max=50),
                         metadata={"description": "Name contains"})


# Export ---------------------------------------------------------------------------------------

class CheckinExportSchema(Positioned):
    id = ma.fields.Integer()
    task_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    kind = ma.fields.String()
    lat = Lat(allow_none=True)
    lon = Lon(allow_none=True)
    accuracy_m = ma.fields.Float()
    is_mock = ma.fields.Boolean()
    distance_m = ma.fields.Float(allow_none=True)
    device_time = ma.fields.AwareDateTime()
    server_time = ma.fields.AwareDateTime()


class SignatureExportSchema(Schema):
    visit_id = ma.fields.Integer()
    content_type = ma.fields.String()
    data = ma.fields.String(metadata={"description": "base64"})
    created_at = ma.fields.AwareDateTime()


class AccessLogSchema(Schema):
    actor_id = ma.fields.Integer(allow_none=True)
    actor_role = ma.fields.String()
    action = ma.fields.String()
    # the record's key is "fields"; marshmallow takes the declared field, mypy sees Schema.fields
    fields = ma.fields.List(ma.fields.String())  # type: ignore[assignment]
    created_at = ma.fields.AwareDateTime()


# Visits ---------------------------------------------------------------------------------------

class SupplySchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    item = Name(max_length=60, required=True)
    quantity = ma.fields.Integer(required=True, validate=[
        ma.validate.Range(-1000, 1000), ma.validate.NoneOf([0])],
        metadata={"description": "A correction is a negative quantity"})
    unit = Text(max_length=20, load_default="")
    client_id = ma.fields.String(validate=CLIENT_ID, allow_none=True, load_default=None)
    recorded_by = ma.fields.Integer(dump_only=True)
    recorded_at = ma.fields.AwareDateTime(dump_only=True)


class FollowUpSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    visit_id = ma.fields.Integer(dump_only=True)
    recipient_id = ma.fields.Integer(dump_only=True)
    need = Name(max_length=2000, required=True)
    category = Text(max_length=40, load_default="other")
    status = ma.fields.String(dump_only=True)
    client_id = ma.fields.String(validate=CLIENT_ID, allow_none=True, load_default=None)
    opened_by = ma.fields.Integer(dump_only=True)
    opened_at = ma.fields.AwareDateTime(dump_only=True)
    closed_by = ma.fields.Integer(dump_only=True, allow_none=True)
    closed_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    resolution = ma.fields.String(dump_only=True)


class LocationSchema(Positioned):
    lat = Lat(allow_none=True)
    lon = Lon(allow_none=True)
    distance_m = ma.fields.Float(allow_none=True)


class AcknowledgementSchema(Schema):
    method = ma.fields.String(allow_none=True)
    sent_to = ma.fields.String(allow_none=True)
    sent_at = ma.fields.AwareDateTime(allow_none=True)
    acknowledged_at = ma.fields.AwareDateTime(allow_none=True)
    signature = ma.fields.Boolean()


class AssigneeSchema(Schema):
    user_id = ma.fields.Integer()
    status = ma.fields.String()


class VisitSchema(Schema):
    """The visit record: the six facts of electronic visit verification and what was found."""

    id = ma.fields.Integer()
    task_id = ma.fields.Integer()
    recipient_id = ma.fields.Integer()
    campaign_id = ma.fields.Integer(allow_none=True)
    source = ma.fields.String()
    service_type = ma.fields.String()
    status = ma.fields.String()
    year = ma.fields.Integer()
    starts_at = ma.fields.AwareDateTime()
    ends_at = ma.fields.AwareDateTime()
    due_at = ma.fields.AwareDateTime()
    date = ma.fields.String(allow_none=True, metadata={"description": "Local date of the visit"})
    began_at = ma.fields.AwareDateTime(allow_none=True)
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    location = ma.fields.Nested(LocationSchema)
    assignees = ma.fields.List(ma.fields.Nested(AssigneeSchema),
                               metadata={"description": "Who is on the visit, and how far"})
    visitor_ids = ma.fields.List(ma.fields.Integer(),
                                 metadata={"description": "Who made the visit (checked out)"})
    flags = ma.fields.List(ma.fields.String())
    review = ma.fields.String()
    observations = ma.fields.String()
    supplies = ma.fields.List(ma.fields.Nested(SupplySchema))
    follow_ups = ma.fields.List(ma.fields.Nested(FollowUpSchema))
    acknowledgement = ma.fields.Nested(AcknowledgementSchema)


class VisitCreateSchema(Schema):
    recipient_id = ma.fields.Integer(required=True)
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    service_type = ma.fields.String(load_default=ServiceType.HOME_VISIT.value,
                                    validate=ma.validate.OneOf(_values(ServiceType)))
    visitor_ids = ma.fields.List(ma.fields.Integer(), validate=ma.validate.Length(max=10),
                                 metadata={"description": "Default: named visitors, then team"})


class VisitorSchema(Schema):
    user_id = ma.fields.Integer(required=True)


class VisitUpdateSchema(Schema):
    observations = Text(max_length=4000, required=True)


class VisitQueryArgsSchema(TimeRangeArgsSchema):
    recipient_id = ma.fields.Integer()
    campaign_id = ma.fields.Integer()
    status = ma.fields.String(validate=ma.validate.OneOf(_values(VisitStatus)))
    year = ma.fields.Integer(validate=ma.validate.Range(2000, 2100))


class SuppliesInSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(SupplySchema), required=True,
                           validate=ma.validate.Length(min=1, max=50))


class FollowUpsInSchema(Schema):
    needs = ma.fields.List(ma.fields.Nested(FollowUpSchema), required=True,
                           validate=ma.validate.Length(min=1, max=50))


class RecordedSchema(Schema):
    visit = ma.fields.Nested(VisitSchema)
    duplicates = ma.fields.List(ma.fields.String(),
                                metadata={"description": "client_ids already recorded"})


class AckCodeSchema(Schema):
    to = ma.fields.String(load_default="recipient",
                          validate=ma.validate.OneOf(["recipient", "emergency_contact"]))


class AcknowledgeSchema(Schema):
    code = ma.fields.String(validate=ma.validate.Regexp(r"^\s*\d{6}\s*$"))
    signature = ma.fields.String(validate=ma.validate.Length(max=360_000),
                                 metadata={"description": "PNG or JPEG, base64"})

    @ma.validates_schema
    def _one_of(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("code" in data) == ("signature" in data):
            raise ma.ValidationError("Give either code or signature.", "code")


class ReviewSchema(Schema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(["accept", "reject"]))
    note = Text(max_length=2000, load_default="")


class FollowUpQueryArgsSchema(Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(_values(FollowUpStatus)))
    recipient_id = ma.fields.Integer()


class FollowUpCloseSchema(Schema):
    resolution = Name(max_length=2000, required=True)


# Campaigns, planning, reports -----------------------------------------------------------------

class SupplyPlanSchema(Schema):
    item = Name(max_length=60, required=True)
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 1000))
    unit = Text(max_length=20, load_default="")


class CampaignSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = Name(required=True)
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    categories = ma.fields.List(ma.fields.String(validate=CATEGORY), load_default=list,
                                metadata={"description": "Empty: every category"})
    supplies = ma.fields.List(ma.fields.Nested(SupplyPlanSchema), load_default=list,
                              validate=ma.validate.Length(max=20),
                              metadata={"description": "Planned per household"})
    service_type = ma.fields.String(load_default=ServiceType.FESTIVAL_VISIT.value,
                                    validate=ma.validate.OneOf(_values(ServiceType)))
    created_by = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)


class CampaignRunSchema(Schema):
    created = ma.fields.Integer()
    already_planned = ma.fields.Integer()
    without_consent = ma.fields.Integer()
    consent_withdrawn = ma.fields.Integer()


class CampaignCreatedSchema(Schema):
    campaign = ma.fields.Nested(CampaignSchema)
    visits = ma.fields.Nested(CampaignRunSchema)


class PlanResultSchema(Schema):
    created = ma.fields.Integer()


class CoverageRowSchema(Schema):
    recipient_id = ma.fields.Integer()
    categories = ma.fields.List(ma.fields.String())
    consent = ma.fields.String()
    erased = ma.fields.Boolean()
    required = ma.fields.Integer()
    done = ma.fields.Integer()
    planned = ma.fields.Integer()
    late = ma.fields.Integer(metadata={"description": "planned visits past their due day"})
    missed = ma.fields.Integer()
    rejected = ma.fields.Integer()
    under_review = ma.fields.Integer()
    behind_plan = ma.fields.Boolean()


class CoverageTotalsSchema(Schema):
    recipients = ma.fields.Integer()
    required = ma.fields.Integer()
    done = ma.fields.Integer()
    planned = ma.fields.Integer()
    late = ma.fields.Integer(metadata={"description": "planned visits past their due day"})
    missed = ma.fields.Integer()
    rejected = ma.fields.Integer()
    under_review = ma.fields.Integer()
    behind_plan = ma.fields.Integer()
    coverage_pct = ma.fields.Float()


class CoverageSchema(Schema):
    year = ma.fields.Integer()
    totals = ma.fields.Nested(CoverageTotalsSchema)
    recipients = ma.fields.List(ma.fields.Nested(CoverageRowSchema))


class CoverageArgsSchema(Schema):
    year = ma.fields.Integer(validate=ma.validate.Range(2000, 2100))


class SupplyTotalSchema(Schema):
    item = ma.fields.String()
    unit = ma.fields.String()
    quantity = ma.fields.Integer(metadata={"description": "Delivered"})
    households = ma.fields.Integer(metadata={"description": "Households delivered to"})
    planned = ma.fields.Integer(metadata={"description": "Per household x households planned"})


class CampaignSuppliesSchema(Schema):
    campaign_id = ma.fields.Integer(allow_none=True)
    name = ma.fields.String()
    households_planned = ma.fields.Integer()
    households_visited = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(SupplyTotalSchema))


class SuppliesReportSchema(Schema):
    campaigns = ma.fields.List(ma.fields.Nested(CampaignSuppliesSchema))


class SuppliesArgsSchema(Schema):
    campaign_id = ma.fields.Integer()


class ExportSchema(Schema):
    exported_at = ma.fields.AwareDateTime()
    recipient = ma.fields.Nested(RecipientSchema)
    consents = ma.fields.List(ma.fields.Nested(ConsentSchema))
    visits = ma.fields.List(ma.fields.Nested(VisitSchema))
    checkins = ma.fields.List(ma.fields.Nested(CheckinExportSchema))
    signatures = ma.fields.List(ma.fields.Nested(SignatureExportSchema))
    access_log = ma.fields.List(ma.fields.Nested(AccessLogSchema))
