"""The sample plugin's endpoints, mounted at /api/v1/stations/<station>/sample/."""

from __future__ import annotations

from typing import Any

from api.auth import actor
from api.pagination import QueryPage
from api.smorest import Blueprint
from api.unit_of_work import db
from tests.sample_plugin import notes
from tests.sample_plugin.schemas import SampleNoteCreatedSchema, SampleNoteSchema

blp = Blueprint("sample", __name__, description="Sample plugin (tests only)")


@blp.route("/notes", methods=["GET"])
@blp.response(200, SampleNoteSchema(many=True))
@blp.paginate(QueryPage)
def sample_notes_list(station: str) -> Any:
    """The station's notes (members)."""
    return notes.notes_query(actor(station))


@blp.route("/notes", methods=["POST"])
@blp.arguments(SampleNoteSchema)
@blp.response(201, SampleNoteCreatedSchema)
def sample_notes_create(body: dict[str, Any], station: str) -> dict[str, Any]:
    """Write a note (members); earns points."""
    note, points = notes.write_note(db(), actor(station), body["text"])
    return {"id": note.id, "user_id": note.user_id, "text": note.text,
            "created_at": note.created_at, "points": points}
