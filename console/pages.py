"""Rendering console pages: the layout's navigation (core and plugins), texts, forms' errors."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, render_template, request, session, url_for
from markupsafe import Markup

from api.auth import actor
from api.unit_of_work import db
from console import texts
from core import messages
from core.access import Actor
from core.errors import WardensError
from core.hookspecs import ConsoleNav
from core.plugins import Deployment

STAFF = ("officer", "admin")

#: the core's pages, in the order of the navigation
CORE_NAV = (
    ConsoleNav("console.dashboard", texts.LABELS["dashboard"], STAFF),
    ConsoleNav("console.members", texts.LABELS["members"], STAFF),
    ConsoleNav("console.groups", texts.LABELS["groups"], STAFF),
    ConsoleNav("console.tasks", texts.LABELS["tasks"], STAFF),
    ConsoleNav("console.points", texts.LABELS["points"], STAFF),
    ConsoleNav("console.plugins", texts.LABELS["plugins"], STAFF),
    ConsoleNav("console.reports", texts.LABELS["reports"], (*STAFF, "partner")),
    ConsoleNav("console.station_file", texts.LABELS["station_file"], ("admin",)),
    ConsoleNav("console.audit", texts.LABELS["audit"], ("admin",)),
)


@dataclass(frozen=True)
class Registry:
    """What the console knows from start-up: its blueprints and each plugin's entries."""

    blueprints: set[str]
    #: console blueprint name -> the plugin owning it
    plugin_of: dict[str, str]
    #: plugin -> its navigation entries
    nav: dict[str, tuple[ConsoleNav, ...]] = field(default_factory=dict)


def plugin_nav(deployment: Deployment) -> dict[str, tuple[ConsoleNav, ...]]:
    """Each installed plugin's navigation entries, collected once at start-up."""
    found: dict[str, tuple[ConsoleNav, ...]] = {}
    impls = deployment.pm.hook.wardens_console_pages.get_hookimpls()
    for name, plugin in deployment.plugins.items():
        entries = [entry for impl in impls if impl.plugin is plugin.obj
                   for pages in list(deployment.call_one("wardens_console_pages",
                                                         impl.plugin) or [])
                   for entry in pages.nav]
        if entries:
            found[name] = tuple(entries)
    return found


def registry() -> Registry:
    return current_app.extensions["wardens.console"]  # type: ignore[no-any-return]


def deployment() -> Deployment:
    return current_app.extensions["wardens"]  # type: ignore[no-any-return]


# Language ---------------------------------------------------------------------------------------

def locale() -> str:
    """The reader's language: their choice here, else their account's, else the browser's."""
    chosen = session.get("locale")
    if chosen in messages.LOCALES:
        return str(chosen)
    user = g.get("user")
    if user is not None and user.locale in messages.LOCALES:
        return str(user.locale)
    return messages.pick_locale([lang for lang, _q in request.accept_languages])


def t(key: str, **params: Any) -> str:
    return texts.text(key, locale(), params or None)


def label(entry: dict[str, str]) -> str:
    return texts.pick(entry, locale())


def plugin_labels(table: dict[str, dict[str, str]]) -> Any:
    """``pt(key, **params)`` for a plugin's pages: its own words in the reader's language."""
    current = locale()
    return lambda key, **params: texts.pick(table[key], current).format(**params)


def error_text(error: WardensError) -> str:
    """A refused action's text: the core's message for its code, as the API answers it."""
    return messages.render(error.code, locale(), error.details)


def field_errors(error: WardensError) -> dict[str, str]:
    """Field name -> message, from an error's details (``field`` or ``fields``)."""
    found: dict[str, str] = {}
    # In the reader's language, as the API gives them.
    fields = messages.field_messages(error.details.get("fields"), locale())
    if isinstance(fields, dict):
        for key, value in fields.items():
            found[key] = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if isinstance(error.details.get("field"), str):
        found[error.details["field"]] = error_text(error)
    return found


# Navigation -----------------------------------------------------------------------------------

def nav_for(who: Actor) -> list[tuple[str, str]]:
    """(label, URL) of the pages ``who`` may open: the core's, then each switched-on plugin's."""
    session = db()
    entries = [entry for entry in CORE_NAV if who.has_any(*entry.roles)]
    enabled = deployment().enabled_for(session, who.station.id)
    for name, plugin_entries in sorted(registry().nav.items()):
        if name in enabled:
            entries += [e for e in plugin_entries if who.has_any(*e.roles)
                        and (e.shown is None or e.shown(session, who))]
    return [(label(e.label), url_for(e.endpoint, station=who.station.code)) for e in entries]


def render(template: str, *, status: int = 200, station: str | None = None,
           **context: Any) -> tuple[str, int]:
    """A page in the console's layout; with ``station``, the station's navigation around it."""
    who = actor(station) if station is not None else None
    nav = nav_for(who) if who is not None else []
    return render_template(template, who=who, nav=nav, station=who.station if who else None,
                           **context), status


# Template helpers ----------------------------------------------------------------------------

def local_time(value: dt.datetime | None, timezone: str | None = None,
               fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    zone = zoneinfo.ZoneInfo(timezone or "Asia/Shanghai")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone).strftime(fmt)


def parse_local(text: str, timezone: str, field: str) -> dt.datetime:
    """A ``datetime-local`` input in the station's time zone, as aware UTC."""
    from core.errors import Invalid

    try:
        naive = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("validation_error", field=field) from None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
    return naive.astimezone(dt.UTC)


def csrf_field() -> Markup:
    from flask_wtf.csrf import generate_csrf

    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())


def template_globals() -> dict[str, Any]:
    return {"t": t, "label": label, "locale": locale, "local_time": local_time,
            "csrf_field": csrf_field}


PAGE_SIZE = 50


def paged(query: Any, *, rows: bool = False) -> tuple[list[Any], int, bool]:
    """One page (``?page=N``, 50 a page) of a select: (items, page, whether more follow)."""
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    limited = query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    found = list(db().execute(limited).all() if rows else db().scalars(limited).all())
    return found[:PAGE_SIZE], page, len(found) > PAGE_SIZE


def form_int(name: str, *, required: bool = True) -> int | None:
    """An integer form field, or 422 ``validation_error`` naming it."""
    from core.errors import Invalid

    raw = (request.form.get(name) or "").strip()
    if not raw and not required:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Invalid("validation_error", field=name) from None


def form_float(name: str) -> float | None:
    from core.errors import Invalid

    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise Invalid("validation_error", field=name) from None


def status_of(error: WardensError) -> int:
    """The HTTP status the API gives the error: the console answers the same."""
    from api.errors import STATUS

    return next(s for cls, s in STATUS.items() if isinstance(error, cls))


def refused(template_page: Any, error: WardensError, **context: Any) -> Any:
    """Render a page again with a refused action's text (and its fields' errors).

    A refusal of the person (403, 404, 401) is the plain error page instead: it shows the same
    text and nothing of the page they were refused on.
    """
    if status_of(error) in (401, 403, 404):
        raise error
    return template_page(status=status_of(error), error=error_text(error),
                         errors=field_errors(error), form=request.form, **context)


def load(schema: Any, data: dict[str, Any]) -> dict[str, Any]:
    """A form's values through the API's own schema: the same rules, the same 422 and fields."""
    import marshmallow as ma

    from core.errors import Invalid

    try:
        return schema().load(data)  # type: ignore[no-any-return]
    except ma.ValidationError as exc:
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise Invalid("validation_error", fields=fields) from None
