"""The sample plugin's ``[sample]`` section of the station file: the station's notices."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from core.station_file.section import ARCHIVE, Change, SectionContext, StationSection, diff_items
from tests.sample_plugin.models import SampleNote


class SampleFileSchema(ma.Schema):
    notices = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 200)),
                             load_default=list)


def export(ctx: SectionContext) -> dict[str, Any]:
    assert ctx.station is not None
    notes = ctx.session.scalars(sa.select(SampleNote).where(
        SampleNote.station_id == ctx.station.id, SampleNote.user_id.is_(None))
        .order_by(SampleNote.id))
    return {"notices": [n.text for n in notes]}


def plan(ctx: SectionContext, current: dict[str, Any], wanted: dict[str, Any]) -> list[Change]:
    return diff_items("sample", "notice", "sample.notices",
                      [{"key": text} for text in current.get("notices", [])],
                      [{"key": text} for text in wanted["notices"]])


def apply(ctx: SectionContext, changes: list[Change]) -> None:
    assert ctx.station is not None
    for change in changes:
        if change.action == ARCHIVE:
            ctx.session.execute(sa.delete(SampleNote).where(
                SampleNote.station_id == ctx.station.id, SampleNote.user_id.is_(None),
                SampleNote.text == change.key))
        else:
            ctx.session.add(SampleNote(station_id=ctx.station.id, text=change.key))
        ctx.progress(change)
    ctx.session.flush()


SECTION = StationSection("sample", SampleFileSchema, export, plan, apply,
                         description="Notices the station pins for everyone.")
