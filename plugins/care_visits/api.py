"""HTTP endpoints under /api/v1/stations/<station>/care-visits/: recipients, visits, campaigns."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import sqlalchemy as sa
from flask_smorest.pagination import PaginationParameters

from api.auth import actor
from api.pagination import QueryPage
from api.smorest import Blueprint
from api.unit_of_work import db, writes
from core import clock
from core.errors import Invalid
from plugins.care_visits import (
    access,
    acknowledgement,
    consents,
    planning,
    privacy,
    recipients,
    reports,
    schemas,
    visits,
)
from plugins.care_visits.models import Campaign, FollowUp, Visit

blp = Blueprint("care_visits", __name__,
                description="Care visits: recipients, consent, visits, campaigns and reports")


# Recipients -----------------------------------------------------------------------------------

@blp.route("/recipients", methods=["GET"])
@blp.arguments(schemas.RecipientQueryArgsSchema, location="query")
@blp.response(200, schemas.RecipientSchema(many=True))
@blp.paginate()
@writes
def care_recipients_list(args: dict[str, Any], station: str,
                         pagination_parameters: PaginationParameters) -> list[dict[str, Any]]:
    """Recipients I may see: care officers all, visitors theirs (name, phone, address, needs).

    Every recipient returned writes one audit event.
    """
    page = pagination_parameters
    cards, total = recipients.read_recipients(db(), actor(station), limit=page.page_size,
                                           offset=page.first_item, **args)
    page.item_count = total
    return cards


@blp.route("/recipients", methods=["POST"])
@blp.arguments(schemas.RecipientCreateSchema)
@blp.response(201, schemas.RecipientSchema)
def care_recipients_create(body: dict[str, Any], station: str) -> dict[str, Any]:
    """Add a recipient, optionally with its consent or legal basis (care officers)."""
    who = actor(station)
    recipient = recipients.create_recipient(db(), who, body)
    return recipients.present(db(), [recipient], access.View.OFFICER)[0]


@blp.route("/recipients/<int:recipient_id>", methods=["GET"])
@blp.response(200, schemas.RecipientSchema)
@writes
def care_recipients_get(station: str, recipient_id: int) -> dict[str, Any]:
    """A recipient; sensitive details only to care officers. The read is audited."""
    return recipients.read_recipient(db(), actor(station), recipient_id)


@blp.route("/recipients/<int:recipient_id>", methods=["PATCH"])
@blp.arguments(schemas.RecipientUpdateSchema)
@blp.response(200, schemas.RecipientSchema)
def care_recipients_update(changes: dict[str, Any], station: str,
                           recipient_id: int) -> dict[str, Any]:
    """Change a recipient's record, policy, team or named visitors (care officers)."""
    who = actor(station)
    recipient = recipients.update_recipient(db(), who, recipient_id, changes)
    return recipients.present(db(), [recipient], access.View.OFFICER)[0]


@blp.route("/recipients/<int:recipient_id>/sensitive", methods=["PUT"])
@blp.arguments(schemas.SensitiveSchema)
@blp.response(200, schemas.SensitiveSchema)
def care_recipients_sensitive_put(body: dict[str, Any], station: str,
                                  recipient_id: int) -> Any:
    """Record disability type and grade, health notes, ID number (care officers; consent)."""
    _, details = recipients.put_sensitive(db(), actor(station), recipient_id, body)
    return details


@blp.route("/recipients/<int:recipient_id>/consents", methods=["GET"])
@blp.response(200, schemas.ConsentSchema(many=True))
def care_consents_list(station: str, recipient_id: int) -> Any:
    """Every consent or legal basis recorded for the recipient, withdrawn ones too."""
    return consents.consent_history(db(), actor(station), recipient_id)


@blp.route("/recipients/<int:recipient_id>/consents", methods=["POST"])
@blp.arguments(schemas.ConsentCreateSchema)
@blp.response(201, schemas.ConsentSchema)
def care_consents_create(body: dict[str, Any], station: str, recipient_id: int) -> Any:
    """Record a consent or legal basis: scope, version, who recorded it and when."""
    who = actor(station)
    recipient, _ = access.get_recipient(db(), who, recipient_id, officer=True)
    return consents.record_consent(db(), who, recipient, **body)


@blp.route("/recipients/<int:recipient_id>/consents/withdraw", methods=["POST"])
@blp.arguments(schemas.WithdrawSchema)
@blp.response(200, schemas.ConsentSchema)
def care_consents_withdraw(body: dict[str, Any], station: str, recipient_id: int) -> Any:
    """Withdraw consent: planned visits are cancelled, further processing refused (409)."""
    return consents.withdraw_consent(db(), actor(station), recipient_id, body["note"])


@blp.route("/recipients/<int:recipient_id>/export", methods=["GET"])
@blp.response(200, schemas.ExportSchema)
@writes
def care_recipients_export(station: str, recipient_id: int) -> dict[str, Any]:
    """Everything held on the recipient, as JSON (care officers); audited."""
    return privacy.export_recipient(db(), actor(station), recipient_id)


@blp.route("/recipients/<int:recipient_id>/erase", methods=["POST"])
@blp.response(200, schemas.RecipientSchema)
def care_recipients_erase(station: str, recipient_id: int) -> dict[str, Any]:
    """Anonymise the recipient: name, phones, address, ID and notes go; counts stay."""
    recipient = privacy.erase(db(), actor(station), recipient_id)
    return recipients.present(db(), [recipient], access.View.OFFICER)[0]


# Visits ---------------------------------------------------------------------------------------

def _visit_page(query: sa.Select[Any], page: PaginationParameters, who: Any) -> list[Any]:
    page.item_count = int(db().scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery())) or 0)
    rows = db().scalars(query.limit(page.page_size).offset(page.first_item)).all()
    visits.record_reads(db(), who, rows)
    return visits.present(db(), rows, who.station)


@blp.route("/visits", methods=["GET"])
@blp.arguments(schemas.VisitQueryArgsSchema, location="query")
@blp.response(200, schemas.VisitSchema(many=True))
@blp.paginate()
@writes
def care_visits_list(args: dict[str, Any], station: str,
                     pagination_parameters: PaginationParameters) -> list[Any]:
    """Visits: care officers all, visitors those they hold (and made, for a day after).

    Filter by recipient, status, time. Every visit returned writes one audit event.
    """
    who = actor(station)
    query = visits.visible_visits(db(), who)
    for key in ("recipient_id", "campaign_id", "status", "year"):
        if key in args:
            query = query.where(getattr(Visit, key) == args[key])
    if "since" in args:
        query = query.where(Visit.ends_at > args["since"])
    if "until" in args:
        query = query.where(Visit.starts_at < args["until"])
    return _visit_page(query.order_by(Visit.starts_at, Visit.id), pagination_parameters,
                       who)


@blp.route("/visits", methods=["POST"])
@blp.arguments(schemas.VisitCreateSchema)
@blp.response(201, schemas.VisitSchema)
def care_visits_create(body: dict[str, Any], station: str) -> Any:
    """Plan one visit outside the yearly plan (care officers); needs consent (422)."""
    who = actor(station)
    visit = visits.create_manual_visit(db(), who, body)
    return visits.present(db(), [visit], who.station)[0]


@blp.route("/visits/<int:visit_id>", methods=["GET"])
@blp.response(200, schemas.VisitSchema)
@writes
def care_visits_get(station: str, visit_id: int) -> Any:
    """A visit record: the six verification facts, supplies, follow-ups, acknowledgement.

    The read is audited.
    """
    who = actor(station)
    visit = visits.get_visit(db(), who, visit_id)
    visits.record_reads(db(), who, [visit])
    return visits.present(db(), [visit], who.station)[0]


@blp.route("/visits/<int:visit_id>", methods=["PATCH"])
@blp.arguments(schemas.VisitUpdateSchema)
@blp.response(200, schemas.VisitSchema)
def care_visits_update(body: dict[str, Any], station: str, visit_id: int) -> Any:
    """Write the visit's observations (its visitors once checked in, care officers)."""
    who = actor(station)
    visit = visits.update_observations(db(), who, visit_id, body["observations"])
    return visits.present(db(), [visit], who.station)[0]


@blp.route("/visits/<int:visit_id>/supplies", methods=["POST"])
@blp.arguments(schemas.SuppliesInSchema)
@blp.response(201, schemas.RecordedSchema)
def care_visits_supplies(body: dict[str, Any], station: str, visit_id: int) -> Any:
    """Record supplies handed over (item, quantity); a re-sent client_id is a duplicate."""
    who = actor(station)
    visit, duplicates = visits.record_supplies(db(), who, visit_id, body["items"])
    return {"visit": visits.present(db(), [visit], who.station)[0], "duplicates": duplicates}


@blp.route("/visits/<int:visit_id>/follow-ups", methods=["POST"])
@blp.arguments(schemas.FollowUpsInSchema)
@blp.response(201, schemas.RecordedSchema)
def care_visits_follow_ups(body: dict[str, Any], station: str, visit_id: int) -> Any:
    """Record needs found; each becomes a follow-up a care officer must close."""
    who = actor(station)
    visit, duplicates = visits.add_follow_ups(db(), who, visit_id, body["needs"])
    return {"visit": visits.present(db(), [visit], who.station)[0], "duplicates": duplicates}


@blp.route("/visits/<int:visit_id>/acknowledgement/code", methods=["POST"])
@blp.arguments(schemas.AckCodeSchema)
@blp.response(200, schemas.VisitSchema)
@blp.alt_response(409, response="CONFLICT",
                  description="ack_code_send_limit: the visit's codes are used up")
@blp.alt_response(429, response="TOO_MANY_REQUESTS",
                  description="ack_phone_text_limit: the phone's codes for today are used up")
def care_visits_ack_code(body: dict[str, Any], station: str, visit_id: int) -> Any:
    """Text a confirmation code to the recipient's (or their emergency contact's) phone.

    Limited per visit and per phone a day; a new code never gives more tries.
    """
    who = actor(station)
    visit = acknowledgement.send_code(db(), who, visit_id, body["to"])
    return visits.present(db(), [visit], who.station)[0]


@blp.route("/visits/<int:visit_id>/acknowledgement", methods=["POST"])
@blp.arguments(schemas.AcknowledgeSchema)
@blp.response(200, schemas.VisitSchema)
def care_visits_acknowledge(body: dict[str, Any], station: str, visit_id: int) -> Any:
    """The recipient acknowledges the visit: the code they received, or a signature image."""
    who = actor(station)
    if "code" in body:
        visit = acknowledgement.confirm_code(db(), who, visit_id, body["code"])
    else:
        try:
            image = base64.b64decode(body["signature"], validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("signature_not_an_image", field="signature") from None
        visit = acknowledgement.sign(db(), who, visit_id, image)
    return visits.present(db(), [visit], who.station)[0]


@blp.route("/visits/<int:visit_id>/review", methods=["POST"])
@blp.arguments(schemas.ReviewSchema)
@blp.response(200, schemas.VisitSchema)
def care_visits_review(body: dict[str, Any], station: str, visit_id: int) -> Any:
    """Accept or reject a flagged visit (care officers); accepted visits count and pay.

    A rejection needs a note saying why (422 ``review_reason_required``).
    """
    who = actor(station)
    visit = visits.review_visit(db(), who, visit_id, body["decision"] == "accept", body["note"])
    return visits.present(db(), [visit], who.station)[0]


@blp.route("/visits/<int:visit_id>/visitors", methods=["POST"])
@blp.arguments(schemas.VisitorSchema)
@blp.response(201, schemas.VisitSchema)
def care_visits_visitor_add(body: dict[str, Any], station: str, visit_id: int) -> Any:
    """Put a member on a visit (care officers); they are told and may check in there."""
    who = actor(station)
    visit = visits.add_visitor(db(), who, visit_id, body["user_id"])
    return visits.present(db(), [visit], who.station)[0]


@blp.route("/visits/<int:visit_id>/visitors/<int:user_id>", methods=["DELETE"])
@blp.response(204)
def care_visits_visitor_remove(station: str, visit_id: int, user_id: int) -> None:
    """Take someone off a visit they have not checked in to (care officers)."""
    visits.remove_visitor(db(), actor(station), visit_id, user_id)


# Follow-ups -----------------------------------------------------------------------------------

@blp.route("/follow-ups", methods=["GET"])
@blp.arguments(schemas.FollowUpQueryArgsSchema, location="query")
@blp.response(200, schemas.FollowUpSchema(many=True))
@blp.paginate(QueryPage)
def care_follow_ups_list(args: dict[str, Any], station: str) -> Any:
    """Follow-ups, oldest first (care officers); filter by status and recipient."""
    who = actor(station)
    access.require_care_officer(db(), who)
    query = sa.select(FollowUp).where(FollowUp.station_id == who.station.id)
    if "status" in args:
        query = query.where(FollowUp.status == args["status"])
    if "recipient_id" in args:
        query = query.where(FollowUp.recipient_id == args["recipient_id"])
    return query.order_by(FollowUp.opened_at, FollowUp.id)


@blp.route("/follow-ups/<int:follow_up_id>/close", methods=["POST"])
@blp.arguments(schemas.FollowUpCloseSchema)
@blp.response(200, schemas.FollowUpSchema)
def care_follow_ups_close(body: dict[str, Any], station: str, follow_up_id: int) -> Any:
    """Close a follow-up with what was done (care officers)."""
    return visits.close_follow_up(db(), actor(station), follow_up_id, body["resolution"])


# Campaigns and planning -----------------------------------------------------------------------

@blp.route("/campaigns", methods=["GET"])
@blp.response(200, schemas.CampaignSchema(many=True))
@blp.paginate(QueryPage)
def care_campaigns_list(station: str) -> Any:
    """Campaigns, newest first (care officers)."""
    who = actor(station)
    access.require_care_officer(db(), who)
    return (sa.select(Campaign).where(Campaign.station_id == who.station.id)
            .order_by(Campaign.starts_at.desc(), Campaign.id.desc()))


@blp.route("/campaigns", methods=["POST"])
@blp.arguments(schemas.CampaignSchema)
@blp.response(201, schemas.CampaignCreatedSchema)
def care_campaigns_create(body: dict[str, Any], station: str) -> Any:
    """Launch a campaign (e.g. Spring Festival visits): one visit per recipient in scope."""
    campaign, result = planning.create_campaign(db(), actor(station), body)
    return {"campaign": campaign, "visits": result}


@blp.route("/campaigns/<int:campaign_id>", methods=["GET"])
@blp.response(200, schemas.CampaignSchema)
def care_campaigns_get(station: str, campaign_id: int) -> Any:
    return planning.get_campaign(db(), actor(station), campaign_id)


@blp.route("/campaigns/<int:campaign_id>/run", methods=["POST"])
@blp.response(200, schemas.CampaignRunSchema)
def care_campaigns_run(station: str, campaign_id: int) -> Any:
    """Add the visits of recipients new in the campaign's scope; the others are kept."""
    who = actor(station)
    return planning.run_campaign(db(), who, planning.get_campaign(db(), who, campaign_id))


@blp.route("/plan", methods=["POST"])
@blp.response(200, schemas.PlanResultSchema)
def care_plan_run(station: str) -> Any:
    """Plan the year now rather than at the nightly run (care officers)."""
    who = actor(station)
    access.require_care_officer(db(), who)
    return {"created": planning.plan_station(db(), who.station, clock.now())}


# Reports --------------------------------------------------------------------------------------

@blp.route("/reports/coverage", methods=["GET"])
@blp.arguments(schemas.CoverageArgsSchema, location="query")
@blp.response(200, schemas.CoverageSchema)
@writes
def care_reports_coverage(args: dict[str, Any], station: str) -> Any:
    """Done / planned / required visits per recipient this year (ids, no names)."""
    return reports.coverage(db(), actor(station), args.get("year"))


@blp.route("/reports/supplies", methods=["GET"])
@blp.arguments(schemas.SuppliesArgsSchema, location="query")
@blp.response(200, schemas.SuppliesReportSchema)
def care_reports_supplies(args: dict[str, Any], station: str) -> Any:
    """Supplies delivered by campaign, with the households planned and visited."""
    who = actor(station)
    if "campaign_id" in args:
        planning.get_campaign(db(), who, args["campaign_id"])
    return reports.supplies(db(), who, args.get("campaign_id"))
