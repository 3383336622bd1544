"""The sample plugin's console page and dashboard panel, through the same hooks as a built-in."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.auth import actor
from api.unit_of_work import db
from console.pages import render
from core.hookspecs import ConsoleNav, ConsolePages, ConsolePanel
from tests.sample_plugin.notes import notes_query

bp = Blueprint("sample_console", __name__, template_folder="templates")
PAGES = ConsolePages(bp, nav=(ConsoleNav("sample_console.notes",
                                         {"en": "Sample notes", "zh-CN": "示例笔记"},
                                         ("officer", "admin", "volunteer")),))


@bp.route("/notes", methods=["GET"], endpoint="notes")
def notes(station: str) -> Any:
    found = db().scalars(notes_query(actor(station))).all()
    return render("sample/notes.html", station=station, notes=found)


def panels(session: Any, who: Any) -> list[ConsolePanel]:
    count = len(session.scalars(notes_query(who)).all())
    return [ConsolePanel({"en": "Sample notes", "zh-CN": "示例笔记"}, "sample/panel.html",
                         {"count": count})]
