"""The ``[care_visits]`` section of the station file: campaigns (never a recipient's data)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from core.errors import Invalid
from core.station_file.section import (
    CREATE,
    UPDATE,
    Change,
    SectionContext,
    StationSection,
    diff_items,
)
from plugins.care_visits import planning
from plugins.care_visits.models import Campaign, Category, ServiceType

SECTION = "care_visits"


class SupplyFileSchema(ma.Schema):
    item = ma.fields.String(required=True, validate=ma.validate.Length(1, 60))
    quantity = ma.fields.Integer(required=True, validate=ma.validate.Range(
        1, 1000, error="must be between {min} and {max}"))
    unit = ma.fields.String(load_default="", validate=ma.validate.Length(max=20))


class CampaignFileSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 120), metadata={
        "description": "names the campaign in the file: fixed once launched"})
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    categories = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(
        [c.value for c in Category])), load_default=list,
        metadata={"description": "recipients' categories in scope; empty: every category"})
    supplies = ma.fields.List(ma.fields.Nested(SupplyFileSchema), load_default=list,
                              validate=ma.validate.Length(max=20))
    service_type = ma.fields.String(load_default=ServiceType.FESTIVAL_VISIT.value,
                                    validate=ma.validate.OneOf([s.value for s in ServiceType]))

    @ma.post_load
    def _canonical(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["categories"] = sorted(set(data["categories"]))
        return data

    @ma.validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        if data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError("must be after starts_at", "ends_at")


class CareFileSchema(ma.Schema):
    campaigns = ma.fields.List(ma.fields.Nested(CampaignFileSchema), load_default=list)


def check(section: dict[str, Any], _document: dict[str, Any],
          _deployment: Any) -> list[tuple[str, str]]:
    seen: set[str] = set()
    errors = []
    for n, campaign in enumerate(section["campaigns"]):
        if campaign["name"] in seen:
            errors.append((f"care_visits.campaigns[{n}].name", "appears twice"))
        seen.add(campaign["name"])
    return errors


def export(ctx: SectionContext) -> dict[str, Any]:
    assert ctx.station is not None
    rows = ctx.session.scalars(sa.select(Campaign).where(Campaign.station_id == ctx.station.id)
                               .order_by(Campaign.id))
    return {"campaigns": [{
        "id": c.id, "name": c.name, "starts_at": c.starts_at,
        "ends_at": c.ends_at, "categories": sorted(c.categories or []),
        "supplies": [{"item": s["item"], "quantity": s["quantity"], "unit": s.get("unit", "")}
                     for s in c.supplies or []],
        "service_type": str(c.service_type)} for c in rows]}


def plan(ctx: SectionContext, current: dict[str, Any], wanted: dict[str, Any]) -> list[Change]:
    changes = []
    for change in diff_items(SECTION, "campaign", "care_visits.campaigns",
                             [{"key": c["name"], **c} for c in current.get("campaigns", [])],
                             [{"key": c["name"], **c} for c in wanted["campaigns"]]):
        if change.action == CREATE:
            change.note = "one visit per recipient in scope who consented"
        elif change.action == UPDATE:
            change.note = "a campaign is fixed once launched: give new terms a new name"
        else:
            continue  # a campaign left out stays: its visits are history
        changes.append(change)
    return changes


def apply(ctx: SectionContext, changes: list[Change]) -> None:
    assert ctx.actor is not None
    for change in changes:
        if change.action == UPDATE:
            raise Invalid("station_file_fixed_field", path=change.path,
                          fields=", ".join(sorted(change.fields)))
        item = {k: v for k, v in change.wanted.items() if k != "key"}
        planning.create_campaign(ctx.session, ctx.actor,
                                 {**item, "service_type": ServiceType(item["service_type"])})
        ctx.progress(change)


SECTION_SPEC = StationSection(
    SECTION, CareFileSchema, export, plan, apply, check=check,
    description="Care campaigns by name (festival visits, supplies). Recipients never appear "
                "in a file; the visiting policy is the plugin's settings.")
