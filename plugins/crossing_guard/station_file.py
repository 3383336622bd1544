"""The ``[crossing_guard]`` section of the station file: schools, posts, templates, terms, closures."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from core.station_file.section import (
    ARCHIVE,
    CREATE,
    UPDATE,
    Change,
    SectionContext,
    StationSection,
    diff_items,
    key_field,
    key_of,
    lat_field,
    lon_field,
)
from plugins.crossing_guard import schedule
from plugins.crossing_guard.models import Closure, ClosureKind, Post, PostKind, School, Template, Term
from plugins.crossing_guard.schools import (
    create_post,
    create_school,
    delete_school,
    update_post,
    update_school,
)
from plugins.crossing_guard.shift_templates import create_template, update_template
from plugins.crossing_guard.terms import (
    create_closure,
    create_term,
    delete_closure,
    delete_term,
    generate_term,
    update_term,
)

SECTION = "crossing_guard"
HARM = "cancel_guarded_shifts"


def _range(low: int, high: int) -> ma.validate.Range:
    return ma.validate.Range(low, high, error="must be between {min} and {max}")


class TemplateFileSchema(ma.Schema):
    key = key_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 60))
    weekdays = ma.fields.List(ma.fields.Integer(validate=_range(1, 7)), required=True,
                              validate=ma.validate.Length(1, 7),
                              metadata={"description": "ISO weekdays, 1 = Monday"})
    starts = ma.fields.Time(required=True, metadata={"description": "local time, e.g. 07:10"})
    ends = ma.fields.Time(required=True)

    @ma.post_load
    def _canonical(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["weekdays"] = sorted(set(data["weekdays"]))
        return data

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["ends"] <= data["starts"]:
            raise ma.ValidationError("must be after starts", "ends")


class PostFileSchema(ma.Schema):
    key = key_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf([k.value for k in PostKind]))
    lat = lat_field()
    lon = lon_field()
    radius_m = ma.fields.Integer(load_default=50, validate=_range(5, 2000))
    min_guards = ma.fields.Integer(load_default=1, validate=_range(0, 50))
    max_guards = ma.fields.Integer(load_default=2, validate=_range(1, 50))
    templates = ma.fields.List(ma.fields.Nested(TemplateFileSchema), load_default=list)

    @ma.validates_schema
    def _guards(self, data: dict[str, Any], **_: Any) -> None:
        if data["min_guards"] > data["max_guards"]:
            raise ma.ValidationError("must not exceed max_guards", "min_guards")


class SchoolFileSchema(ma.Schema):
    key = key_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    address = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    lat = lat_field()
    lon = lon_field()
    team = ma.fields.String(load_default=None,
                            metadata={"description": "the crossing_team group's key"})
    posts = ma.fields.List(ma.fields.Nested(PostFileSchema), load_default=list)


class TermFileSchema(ma.Schema):
    key = key_field()
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    school = ma.fields.String(load_default=None,
                              metadata={"description": "a school's key; none: every school"})
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["ends_on"] < data["starts_on"]:
            raise ma.ValidationError("must not be before starts_on", "ends_on")


class ClosureFileSchema(TermFileSchema):
    name = ma.fields.String(load_default="", data_key="reason",
                            validate=ma.validate.Length(max=200))
    kind = ma.fields.String(required=True,
                            validate=ma.validate.OneOf([k.value for k in ClosureKind]))


class CrossingFileSchema(ma.Schema):
    schools = ma.fields.List(ma.fields.Nested(SchoolFileSchema), load_default=list)
    # Dated, so often made by hand or relative to today: left out, they are left alone.
    terms = ma.fields.List(ma.fields.Nested(TermFileSchema), load_default=None,
                           metadata={"description": "left out: the terms are left alone"})
    closures = ma.fields.List(ma.fields.Nested(ClosureFileSchema), load_default=None,
                              metadata={"description": "left out: the closures are left alone"})


def check(section: dict[str, Any], document: dict[str, Any],
          _deployment: Any) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    groups = ({g["key"]: g["kind"] for g in document["groups"]} if "groups" in document
              else None)
    schools = {s["key"] for s in section["schools"]}
    seen: dict[str, set[str]] = {}

    def once(kind: str, key: str, path: str) -> None:
        if key in seen.setdefault(kind, set()):
            errors.append((path, "appears twice in the station"))
        seen[kind].add(key)

    for s, school in enumerate(section["schools"]):
        where = f"crossing_guard.schools[{s}]"
        once("school", school["key"], f"{where}.key")
        team = school["team"]
        if team is not None and groups is not None:
            if team not in groups:
                errors.append((f"{where}.team", f"no group with key {team} in [[groups]]"))
            elif groups[team] != "crossing_team":
                errors.append((f"{where}.team", f"group {team} is a {groups[team]}, not a"
                               " crossing_team"))
        for p, post in enumerate(school["posts"]):
            once("post", post["key"], f"{where}.posts[{p}].key")
            for t, template in enumerate(post["templates"]):
                once("template", template["key"], f"{where}.posts[{p}].templates[{t}].key")
    for name in ("terms", "closures"):
        for n, item in enumerate(section[name] or []):
            once(name, item["key"], f"crossing_guard.{name}[{n}].key")
            if item["school"] is not None and item["school"] not in schools:
                errors.append((f"crossing_guard.{name}[{n}].school",
                               f"no school with key {item['school']} in this section"))
    return errors


def export(ctx: SectionContext) -> dict[str, Any]:
    assert ctx.station is not None
    session, station_id = ctx.session, ctx.station.id
    groups = ctx.group_keys()
    schools = session.scalars(sa.select(School).where(School.station_id == station_id)
                              .order_by(School.id)).all()
    school_keys = {s.id: key_of(s, "school") for s in schools}
    posts: dict[int, list[Post]] = {}
    for post in session.scalars(sa.select(Post).where(Post.station_id == station_id,
                                                      Post.active.is_(True)).order_by(Post.id)):
        posts.setdefault(post.school_id, []).append(post)
    templates: dict[int, list[Template]] = {}
    for template in session.scalars(sa.select(Template).where(
            Template.station_id == station_id, Template.active.is_(True)).order_by(Template.id)):
        templates.setdefault(template.post_id, []).append(template)
    return {
        "schools": [{
            "key": school_keys[s.id], "id": s.id, "name": s.name, "address": s.address or "",
            "lat": s.lat, "lon": s.lon,
            "team": groups.get(s.team_group_id) if s.team_group_id else None,
            "posts": [{
                "key": key_of(p, "post"), "id": p.id, "name": p.name, "kind": str(p.kind),
                "lat": p.lat, "lon": p.lon, "radius_m": p.radius_m, "min_guards": p.min_guards,
                "max_guards": p.max_guards,
                "templates": [{"key": key_of(t, "template"), "id": t.id, "name": t.name,
                               "weekdays": sorted(t.weekdays), "starts": t.starts_time,
                               "ends": t.ends_time} for t in templates.get(p.id, [])],
            } for p in posts.get(s.id, [])],
        } for s in schools],
        "terms": [{"key": key_of(t, "term"), "id": t.id, "name": t.name,
                   "school": school_keys.get(t.school_id) if t.school_id else None,
                   "starts_on": t.starts_on, "ends_on": t.ends_on}
                  for t in session.scalars(sa.select(Term).where(Term.station_id == station_id)
                                           .order_by(Term.id))],
        "closures": [{"key": key_of(c, "closure"), "id": c.id, "name": c.reason or "",
                      "kind": str(c.kind),
                      "school": school_keys.get(c.school_id) if c.school_id else None,
                      "starts_on": c.starts_on, "ends_on": c.ends_on}
                     for c in session.scalars(sa.select(Closure).where(
                         Closure.station_id == station_id).order_by(Closure.id))],
    }


def _guarded(ctx: SectionContext, **where: int) -> tuple[int, int]:
    """Future live shifts (of a post or template) and how many of them have guards."""
    assert ctx.station is not None
    shifts = schedule.future_shifts(ctx.session, ctx.station.id, **where)
    return len(shifts), sum(1 for _shift, task in shifts if task.filled)


def plan(ctx: SectionContext, current: dict[str, Any], wanted: dict[str, Any]) -> list[Change]:
    schools = current.get("schools", [])
    changes = diff_items(SECTION, "school", "crossing_guard.schools", schools,
                         wanted["schools"], skip=("posts",))
    for change in changes:
        if change.action == ARCHIVE:
            change.note = "removed when it has no posts left"
    stored_posts = [{**p, "school": s["key"]} for s in schools for p in s["posts"]]
    wanted_posts = [{**p, "school": s["key"]} for s in wanted["schools"] for p in s["posts"]]
    for change in diff_items(SECTION, "post", "", stored_posts, wanted_posts,
                             skip=("templates",)):
        item = change.wanted or change.current
        change.path = f"crossing_guard.schools[{item['school']}].posts[{change.key}]"
        if change.action == CREATE:
            change.fields.pop("school", None)
        if change.action == ARCHIVE:
            _mark(ctx, change, post_id=change.current["id"], what="switched off")
        changes.append(change)
    stored_templates = [{**t, "post": p["key"], "school": p["school"]}
                        for p in stored_posts for t in p["templates"]]
    wanted_templates = [{**t, "post": p["key"], "school": p["school"]}
                        for p in wanted_posts for t in p["templates"]]
    archived_posts = {c.key for c in changes if c.kind == "post" and c.action == ARCHIVE}
    for change in diff_items(SECTION, "template", "", stored_templates, wanted_templates):
        item = change.wanted or change.current
        change.path = (f"crossing_guard.schools[{item['school']}].posts[{item['post']}]"
                       f".templates[{change.key}]")
        if change.action == CREATE:
            change.fields.pop("school", None)
            change.fields.pop("post", None)
        if change.action == ARCHIVE and item["post"] in archived_posts:
            continue  # its post goes: the post's change says what happens to the shifts
        if change.action == ARCHIVE or (change.action == UPDATE and (
                {"weekdays", "starts", "ends"} & set(change.fields))):
            _mark(ctx, change, template_id=change.current["id"],
                  what="switched off" if change.action == ARCHIVE else "moved or cancelled")
        changes.append(change)
    for name, kind in (("terms", "term"), ("closures", "closure")):
        if wanted[name] is None:
            continue
        for change in diff_items(SECTION, kind, f"crossing_guard.{name}",
                                 current.get(name, []), wanted[name]):
            if kind == "closure" and change.action != ARCHIVE:
                _mark_closure(ctx, change)
            changes.append(change)
    return changes


def _mark(ctx: SectionContext, change: Change, what: str, **where: int) -> None:
    total, guarded = _guarded(ctx, **where)
    if total:
        change.note = f"{what}: {total} future shift(s) cancelled"
    if guarded:
        change.harm = HARM
        change.note += f", {guarded} with guards, who are told"


def _mark_closure(ctx: SectionContext, change: Change) -> None:
    item = change.wanted
    if ctx.station is None:
        return
    school_id = _school_id(ctx, item["school"]) if item["school"] else None
    covered = schedule.covered_shifts(ctx.session, ctx.station, item["starts_on"],
                                      item["ends_on"], school_id)
    if covered:
        change.note = f"{len(covered)} future shift(s) cancelled"
        guarded = sum(1 for _shift, task in covered if task.filled)
        if guarded:
            change.harm = HARM
            change.note += f", {guarded} with guards, who are told"


def _school_id(ctx: SectionContext, key: str) -> int | None:
    assert ctx.station is not None
    for school in ctx.session.scalars(sa.select(School).where(
            School.station_id == ctx.station.id)):
        if key_of(school, "school") == key:
            return school.id
    return None


def _post_id(ctx: SectionContext, key: str) -> int | None:
    assert ctx.station is not None
    for post in ctx.session.scalars(sa.select(Post).where(Post.station_id == ctx.station.id,
                                                          Post.active.is_(True))):
        if key_of(post, "post") == key:
            return post.id
    return None


def apply(ctx: SectionContext, changes: list[Change]) -> None:
    session, who = ctx.session, ctx.actor
    assert who is not None and ctx.station is not None

    def of(kind: str, *actions: str) -> list[Change]:
        return [c for c in changes if c.kind == kind and c.action in actions]

    for change in of("school", CREATE, UPDATE):
        item = change.wanted
        fields = {"key": item["key"], "name": item["name"], "address": item["address"],
                  "lat": item["lat"], "lon": item["lon"],
                  "team_group_id": ctx.group_id(item["team"])}
        if change.action == CREATE:
            create_school(session, who, **fields)
        else:
            update_school(session, who, change.current["id"], fields)
        ctx.progress(change)
    # What goes comes first: a new post or template may take the name of one dropped.
    for change in of("template", ARCHIVE):
        update_template(session, who, change.current["id"],
                                {"key": None, "active": False})
        ctx.progress(change)
    for change in of("post", ARCHIVE):
        # Switched off, never deleted: its shifts and their history stay; keys are freed.
        update_post(session, who, change.current["id"], {"key": None, "active": False})
        for template in change.current["templates"]:
            update_template(session, who, template["id"], {"key": None, "active": False})
        ctx.progress(change)
    for change in of("post", CREATE, UPDATE):
        item = change.wanted
        fields = {"key": item["key"], "name": item["name"], "kind": PostKind(item["kind"]),
                  "lat": item["lat"], "lon": item["lon"], "radius_m": item["radius_m"],
                  "min_guards": item["min_guards"], "max_guards": item["max_guards"]}
        school_id = _school_id(ctx, item["school"])
        if school_id is None:
            raise LookupError(item["school"])  # the plan created the school: it exists by now
        dropped = session.scalar(sa.select(Post.id).where(
            Post.station_id == ctx.station.id, Post.school_id == school_id,
            Post.name == item["name"], Post.active.is_(False))) if change.action == CREATE else None
        if dropped is not None:
            # A switched-off post of that name comes back (with its history), not a twin.
            update_post(session, who, dropped, {**fields, "active": True})
        elif change.action == CREATE:
            create_post(session, who, school_id, **fields)
        else:
            update_post(session, who, change.current["id"],
                                {**fields, "school_id": school_id})
        ctx.progress(change)
    for change in of("template", CREATE, UPDATE):
        item = change.wanted
        fields = {"key": item["key"], "name": item["name"], "weekdays": item["weekdays"],
                  "starts_time": item["starts"], "ends_time": item["ends"]}
        post_id = _post_id(ctx, item["post"])
        dropped = session.scalar(sa.select(Template.id).where(
            Template.station_id == ctx.station.id, Template.post_id == post_id,
            Template.name == item["name"], Template.active.is_(False))) \
            if change.action == CREATE else None
        if dropped is not None:
            update_template(session, who, dropped, {**fields, "active": True})
        elif change.action == CREATE:
            create_template(session, who, post_id=post_id, **fields)
        else:
            update_template(session, who, change.current["id"], fields)
        ctx.progress(change)
    for change in of("term", CREATE, UPDATE):
        item = change.wanted
        fields = {"key": item["key"], "name": item["name"], "starts_on": item["starts_on"],
                  "ends_on": item["ends_on"],
                  "school_id": _school_id(ctx, item["school"]) if item["school"] else None}
        if change.action == CREATE:
            create_term(session, who, **fields)
        else:
            update_term(session, who, change.current["id"], fields)
        ctx.progress(change)
    for change in of("closure", ARCHIVE, UPDATE):
        delete_closure(session, who, change.current["id"])
        if change.action == ARCHIVE:
            ctx.progress(change)
    for change in of("closure", CREATE, UPDATE):
        item = change.wanted
        create_closure(
            session, who, key=item["key"], kind=ClosureKind(item["kind"]), reason=item["name"],
            starts_on=item["starts_on"], ends_on=item["ends_on"],
            school_id=_school_id(ctx, item["school"]) if item["school"] else None)
        ctx.progress(change)
    for change in of("term", ARCHIVE):
        delete_term(session, who, change.current["id"])
        ctx.progress(change)
    for change in of("school", ARCHIVE):
        delete_school(session, who, change.current["id"])
        ctx.progress(change)
    if any(c.kind in ("template", "post", "term") and c.action != ARCHIVE for c in changes):
        # New or changed work: the terms not over yet get their shifts (existing ones stay).
        for term in schedule.terms_ahead(session, ctx.station):
            generate_term(session, who, term.id)


SECTION_SPEC = StationSection(
    SECTION, CrossingFileSchema, export, plan, apply, check=check,
    description="Schools with their posts and shift templates; terms and closures.")
