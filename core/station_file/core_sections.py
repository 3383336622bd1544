"""The core's sections of the station file: station, seats, groups, plugins, points."""

from __future__ import annotations

import zoneinfo
from typing import TYPE_CHECKING, Any

import marshmallow as ma
import sqlalchemy as sa

from core import datum, geofence, ledger, phones, station_plugins, stations
from core.errors import Invalid
from core.models import Group, GroupMember, Membership, PointsRule, StationPlugin, User
from core.plugins import load_settings, secret_settings
from core.station_file.document import flatten
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

if TYPE_CHECKING:
    from core.plugins import Deployment

ROLE_ORDER = ["resident", "volunteer", "merchant", "partner", "officer", "admin"]


class PhoneField(ma.fields.String):
    """A phone number, kept in E.164 (+8613800000001)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return phones.normalize(text)
        except Invalid:
            raise ma.ValidationError("not a valid phone number") from None


# [station] ------------------------------------------------------------------------------------

def _timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ma.ValidationError("not a known time zone (e.g. Asia/Shanghai)") from None


class TaskRulesSchema(ma.Schema):
    """The check-in rules the station overrides (others keep the defaults)."""

    accuracy_limit_m = ma.fields.Integer(validate=ma.validate.Range(5, 1000))
    checkin_opens_minutes = ma.fields.Integer(validate=ma.validate.Range(0, 240))
    checkout_grace_minutes = ma.fields.Integer(validate=ma.validate.Range(0, 720))
    max_offline_minutes = ma.fields.Integer(validate=ma.validate.Range(0, 10080))
    refuse_mock_locations = ma.fields.Boolean()
    no_show_grace_minutes = ma.fields.Integer(validate=ma.validate.Range(0, 1440))
    position_retention_days = ma.fields.Integer(validate=ma.validate.Range(1, 3650))


class StationFieldsSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[a-z0-9][a-z0-9-]{1,31}$", error="use 2-32 lowercase letters, digits and hyphens"))
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    timezone = ma.fields.String(load_default="Asia/Shanghai", validate=_timezone)
    open_join = ma.fields.Boolean(load_default=False)
    default_crs = ma.fields.String(load_default=datum.DEFAULT, validate=ma.validate.OneOf(
        datum.CRS, error="must be one of wgs84, gcj02, bd09"), metadata={
            "description": "the datum of positions the app sends without saying (positions in "
                           "this file are always WGS-84)"})
    tasks = ma.fields.Nested(TaskRulesSchema, load_default=dict,
                             metadata={"description": "check-in rules that differ from the defaults"})


def _station_export(ctx: SectionContext) -> dict[str, Any]:
    station = ctx.station
    assert station is not None
    own = (station.settings or {}).get("tasks") or {}
    return {"code": station.code, "name": station.name, "timezone": station.timezone,
            "open_join": station.open_join, "default_crs": station.default_crs,
            "tasks": {k: v for k, v in own.items() if k in geofence.DEFAULTS}}


def _station_plan(ctx: SectionContext, current: dict[str, Any],
                  wanted: dict[str, Any]) -> list[Change]:
    if not current:  # a new station: the core creates it, this sets what creating does not
        return [Change("station", "station", wanted["code"], CREATE, "station",
                       {name: (None, value) for name, value in wanted.items() if value != {}},
                       wanted=wanted)]
    differ = {name: (current.get(name), value) for name, value in wanted.items()
              if name != "code" and current.get(name) != value}
    if not differ:
        return []
    return [Change("station", "station", wanted["code"], UPDATE, "station", differ,
                   wanted=wanted, current=current)]


# Fields of [station] kept in Station.settings (creating a station does not set them).
SETTINGS = frozenset({"tasks", "default_crs"})


def _station_apply(ctx: SectionContext, changes: list[Change]) -> None:
    assert ctx.actor is not None and ctx.station is not None
    for change in changes:
        fields = {name: after for name, (_before, after) in change.fields.items()
                  if change.action != CREATE or name in SETTINGS}
        if not fields:
            continue
        if SETTINGS & set(fields):
            settings = dict(ctx.station.settings or {})
            settings.update({name: fields.pop(name) for name in SETTINGS if name in fields})
            fields["settings"] = settings  # a new dict: JSON columns only see reassignment
        stations.update_station(ctx.session, ctx.actor, fields)
        ctx.progress(change)


STATION = StationSection(
    "station", StationFieldsSchema, _station_export, _station_plan, _station_apply, order=10,
    description="The station itself: code, name, time zone, open join, default datum, "
                "check-in rules.")


# [[seats]] ------------------------------------------------------------------------------------

class SeatSchema(ma.Schema):
    phone = PhoneField(required=True)
    roles = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(ROLE_ORDER)),
                           required=True, validate=ma.validate.Length(min=1))

    @ma.post_load
    def _ordered(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["roles"] = sorted(set(data["roles"]), key=ROLE_ORDER.index)
        return data


def _seats_check(seats: list[dict[str, Any]], document: dict[str, Any],
                 deployment: Deployment) -> list[tuple[str, str]]:
    seen: set[str] = set()
    errors = []
    for index, seat in enumerate(seats):
        if seat["phone"] in seen:
            errors.append((f"seats[{index}].phone", "appears twice"))
        seen.add(seat["phone"])
    return errors


def _memberships(ctx: SectionContext) -> list[tuple[Membership, str | None]]:
    assert ctx.station is not None
    return list(ctx.session.execute(
        sa.select(Membership, User.phone).outerjoin(User, User.id == Membership.user_id)
        .where(Membership.station_id == ctx.station.id).order_by(Membership.id)).all())  # type: ignore[arg-type]


def _seats_export(ctx: SectionContext) -> list[dict[str, Any]]:
    # Residents who joined by themselves are not listed: a file holds the station's staff.
    seats = []
    for membership, phone in _memberships(ctx):
        phone = phone or membership.pending_phone
        if phone and set(membership.roles) != {"resident"}:
            seats.append({"phone": phone, "roles": list(membership.roles), "id": membership.id})
    return sorted(seats, key=lambda s: s["phone"])


def _seats_plan(ctx: SectionContext, current: list[dict[str, Any]],
                wanted: list[dict[str, Any]]) -> list[Change]:
    keyed = [{"key": s["phone"], **s} for s in wanted]
    stored = {s["phone"]: s for s in current}
    changes = diff_items("seats", "seat", "seats", [{"key": s["phone"], **s} for s in current],
                         keyed, skip=("phone",))
    everyone = {(phone or m.pending_phone): m for m, phone in _memberships(ctx)} if ctx.station else {}
    for change in changes:
        if change.action == CREATE and change.key in everyone:
            # A resident who joined by themselves gets the seat's roles.
            member = everyone[change.key]
            change.action, change.current = UPDATE, {"id": member.id, "roles": member.roles}
            change.fields = {"roles": (list(member.roles), change.wanted["roles"])}
        elif change.action == ARCHIVE:
            change.note = "left out of the file: keeps only the resident role"
            change.fields = {"roles": (stored[change.key]["roles"], ["resident"])}
    admins_after = {s["phone"] for s in wanted if "admin" in s["roles"]}
    if not admins_after:
        for change in changes:
            before = (change.current or {}).get("roles") or []
            if "admin" in before:
                change.harm = "remove_last_admin"
    return changes


def _seats_apply(ctx: SectionContext, changes: list[Change]) -> None:
    assert ctx.actor is not None
    allow_last = "remove_last_admin" in ctx.allowed
    # Seats that gain roles first, so an admin seat moving between phones never leaves none.
    for change in sorted(changes, key=lambda c: c.action == ARCHIVE):
        if change.action == CREATE:
            stations.add_member(ctx.session, ctx.actor, change.key, change.wanted["roles"])
        else:
            roles = change.fields["roles"][1]
            stations.update_member(ctx.session, ctx.actor, change.current["id"], roles,
                                   allow_last_admin=allow_last)
        ctx.progress(change)


SEATS = StationSection(
    "seats", SeatSchema, _seats_export, _seats_plan, _seats_apply, check=_seats_check,
    many=True, order=20,
    description="People by phone and their roles (residents who join by themselves are left out).")


# [[groups]] -----------------------------------------------------------------------------------

class GroupFileSchema(ma.Schema):
    key = key_field()
    kind = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[a-z][a-z0-9_]{0,31}$", error="lowercase letters, digits and _ (e.g. patrol_team)"))
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 120))
    description = ma.fields.String(load_default="")
    polygon = ma.fields.List(ma.fields.Tuple((lat_field(), lon_field())),
                             load_default=None, validate=ma.validate.Length(min=3))
    leaders = ma.fields.List(PhoneField(), load_default=list)
    members = ma.fields.List(PhoneField(), load_default=list)

    @ma.post_load
    def _canonical(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data["polygon"] is not None:
            data["polygon"] = [list(point) for point in data["polygon"]]
        data["leaders"] = sorted(set(data["leaders"]))
        data["members"] = sorted(set(data["members"]) - set(data["leaders"]))
        return data


def _owned_kinds(deployment: Deployment) -> dict[str, str]:
    return {kind: s.name for s in deployment.station_sections.values() for kind in s.group_kinds}


def _groups_check(groups: list[dict[str, Any]], document: dict[str, Any],
                  deployment: Deployment) -> list[tuple[str, str]]:
    errors = []
    owned = _owned_kinds(deployment)
    keys: set[str] = set()
    names: set[str] = set()
    seats = {s["phone"] for s in document.get("seats", [])} if "seats" in document else None
    for index, group in enumerate(groups):
        where = f"groups[{index}]"
        if group["key"] in keys:
            errors.append((f"{where}.key", "appears twice"))
        if group["name"] in names:
            errors.append((f"{where}.name", "appears twice"))
        keys.add(group["key"])
        names.add(group["name"])
        if group["kind"] in owned:
            errors.append((f"{where}.kind", f"groups of kind {group['kind']} are set in the"
                           f" {owned[group['kind']]} section"))
        for field in ("leaders", "members"):
            for n, phone in enumerate(group[field]):
                if seats is not None and phone not in seats:
                    errors.append((f"{where}.{field}[{n}]", "has no seat in [[seats]]"))
    return errors


def _groups_export(ctx: SectionContext) -> list[dict[str, Any]]:
    assert ctx.station is not None
    owned = set(_owned_kinds(ctx.deployment))
    groups = ctx.session.scalars(sa.select(Group).where(Group.station_id == ctx.station.id)
                                 .order_by(Group.id)).all()
    people: dict[int, list[tuple[str, bool]]] = {}
    for group_id, phone, leader in ctx.session.execute(
            sa.select(GroupMember.group_id, User.phone, GroupMember.is_leader)
            .join(User, User.id == GroupMember.user_id)
            .where(GroupMember.station_id == ctx.station.id)):
        if phone:
            people.setdefault(group_id, []).append((phone, leader))
    return [{"key": key_of(g, "group"), "id": g.id, "kind": g.kind, "name": g.name,
             "description": g.description or "",
             "polygon": [list(p) for p in g.polygon] if g.polygon else None,
             "leaders": sorted(p for p, lead in people.get(g.id, []) if lead),
             "members": sorted(p for p, lead in people.get(g.id, []) if not lead)}
            for g in groups if g.kind not in owned]


def _registered(ctx: SectionContext, phones_: list[str]) -> dict[str, int]:
    if not phones_:
        return {}
    return dict(ctx.session.execute(sa.select(User.phone, User.id).where(
        User.phone.in_(phones_))).all())  # type: ignore[arg-type]


def _groups_plan(ctx: SectionContext, current: list[dict[str, Any]],
                 wanted: list[dict[str, Any]]) -> list[Change]:
    # Only registered people can be in a group: a phone not registered yet joins it at the
    # next apply after it registers (seats wait for them the same way).
    every = [p for g in wanted for p in (*g["leaders"], *g["members"])]
    known = _registered(ctx, every)
    reachable = [{**g, "leaders": [p for p in g["leaders"] if p in known],
                  "members": [p for p in g["members"] if p in known]} for g in wanted]
    changes = diff_items("groups", "group", "groups", current, reachable)
    for change in changes:
        if change.action == ARCHIVE and (change.current["leaders"] or change.current["members"]):
            change.harm = "remove_groups"
            change.note = "its members lose the duties the group gave them"
    return changes


def _groups_apply(ctx: SectionContext, changes: list[Change]) -> None:
    assert ctx.actor is not None
    session, who = ctx.session, ctx.actor
    # Deletions first: a new group may take the name of one the file drops.
    for change in sorted(changes, key=lambda c: c.action != ARCHIVE):
        if change.action == ARCHIVE:
            stations.delete_group(session, who, change.current["id"])
            ctx.progress(change)
            continue
        item = change.wanted
        fields = {"key": item["key"], "kind": item["kind"], "name": item["name"],
                  "description": item["description"], "polygon": item["polygon"]}
        if change.action == CREATE:
            group_id = stations.create_group(session, who, **fields).id
            before: dict[str, bool] = {}
        else:
            group_id = change.current["id"]
            stations.update_group(session, who, group_id, fields)
            before = {**{p: True for p in change.current["leaders"]},
                      **{p: False for p in change.current["members"]}}
        after = {**{p: False for p in item["members"]}, **{p: True for p in item["leaders"]}}
        ids = _registered(ctx, [*before, *after])
        for phone in before.keys() - after.keys():
            stations.remove_group_member(session, who, group_id, ids[phone])
        for phone, leader in after.items():
            if before.get(phone) != leader:
                stations.put_group_member(session, who, group_id, ids[phone], leader)
        ctx.progress(change)


GROUPS = StationSection(
    "groups", GroupFileSchema, _groups_export, _groups_plan, _groups_apply, check=_groups_check,
    many=True, order=30,
    description="Groups by key: kind, name, outline, leaders and members by phone.")


# [plugins.<name>] -----------------------------------------------------------------------------

class PluginSwitchSchema(ma.Schema):
    enabled = ma.fields.Boolean(required=True)
    settings = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)


class PluginsSchema(ma.Schema):
    """``[plugins.<name>]``: switched on or off, and the station's settings for it."""

    class Meta:
        unknown = ma.INCLUDE

    @ma.post_load
    def _each(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        loaded, errors = {}, {}
        for name, value in data.items():
            try:
                if not isinstance(value, dict):
                    raise ma.ValidationError(["must be a table"])
                loaded[name] = PluginSwitchSchema().load(value)
            except ma.ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise ma.ValidationError(errors)
        return loaded


def _plugins_check(plugins: dict[str, Any], document: dict[str, Any],
                   deployment: Deployment) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for name, switch in plugins.items():
        plugin = deployment.plugins.get(name)
        if plugin is None:
            errors.append((f"plugins.{name}", "is not installed in this deployment"))
            continue
        try:
            load_settings(plugin.info, {**plugin.defaults, **switch["settings"]})
        except ma.ValidationError as exc:
            errors += [(e["path"], e["message"])
                       for e in flatten(exc.messages, f"plugins.{name}.settings")]
    return errors


def _plugins_export(ctx: SectionContext) -> dict[str, Any]:
    assert ctx.station is not None
    rows = {r.name: r for r in ctx.session.scalars(sa.select(StationPlugin).where(
        StationPlugin.station_id == ctx.station.id))}
    found = {}
    for name, plugin in ctx.deployment.plugins.items():
        row = rows.get(name)
        secrets = set(secret_settings(plugin.info))
        found[name] = {"enabled": bool(row and row.enabled),
                       "settings": {k: v for k, v in ((row.settings or {}) if row else {}).items()
                                    if k not in secrets}}
    return found


def _plugins_plan(ctx: SectionContext, current: dict[str, Any],
                  wanted: dict[str, Any]) -> list[Change]:
    changes = []
    for name in ctx.deployment.plugins:
        before = current.get(name) or {"enabled": False, "settings": {}}
        after = wanted.get(name) or {"enabled": False, "settings": {}}
        differ = {field: (before[field], after[field]) for field in ("enabled", "settings")
                  if before[field] != after[field]}
        if differ:
            changes.append(Change("plugins", "plugin", name, UPDATE, f"plugins.{name}", differ,
                                  wanted=after, current=before))
    return changes


def _plugins_apply(ctx: SectionContext, changes: list[Change]) -> None:
    assert ctx.actor is not None
    for change in changes:
        settings: dict[str, Any] = {k: None for k in change.current["settings"]}
        settings.update(change.wanted["settings"])
        station_plugins.switch(ctx.session, ctx.actor, change.key,
                               enabled=change.wanted["enabled"], settings=settings)
        ctx.progress(change)


PLUGINS = StationSection(
    "plugins", PluginsSchema, _plugins_export, _plugins_plan, _plugins_apply,
    check=_plugins_check, order=40,
    description="Installed plugins switched on or off, with the station's settings for each.")


# [points] -------------------------------------------------------------------------------------

ALSO_FOR = "task_completed_also_for"


class PointsSchema(ma.Schema):
    """Event code -> amount the station gives instead of the deployment's default; and the task
    kinds whose completion books ``core.task_completed`` besides their own event."""

    class Meta:
        unknown = ma.INCLUDE

    task_completed_also_for = ma.fields.List(ma.fields.String(), metadata={
        "description": "task kinds that pay core.task_completed besides their own event"})

    @ma.post_load
    def _amounts(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        errors = {code: ["must be a whole number from 0 to 100000"] for code, amount in data.items()
                  if code != ALSO_FOR and (isinstance(amount, bool) or not isinstance(amount, int)
                                           or not 0 <= amount <= 100_000)}
        if errors:
            raise ma.ValidationError(errors)
        return data


def _points_check(points: dict[str, Any], document: dict[str, Any],
                  deployment: Deployment) -> list[tuple[str, str]]:
    errors = [(f'points."{code}"', "is not an event code of this deployment")
              for code in points if code != ALSO_FOR and code not in deployment.points_defaults]
    for n, kind in enumerate(points.get(ALSO_FOR) or []):
        found = deployment.task_kinds.get(kind)
        if found is None:
            errors.append((f"points.{ALSO_FOR}[{n}]", "is not a task kind of this deployment"))
        elif found.pays == ledger.TASK_COMPLETED:
            errors.append((f"points.{ALSO_FOR}[{n}]", "already pays core.task_completed"))
    return errors


def _points_export(ctx: SectionContext) -> dict[str, Any]:
    assert ctx.station is not None
    points: dict[str, Any] = dict(ctx.session.execute(
        sa.select(PointsRule.event_code, PointsRule.amount)
        .where(PointsRule.station_id == ctx.station.id)).all())  # type: ignore[arg-type]
    also = ledger.task_completed_also_for(ctx.station)
    if also:
        points[ALSO_FOR] = also
    return points


def _points_plan(ctx: SectionContext, current: dict[str, Any],
                 wanted: dict[str, Any]) -> list[Change]:
    changes = []
    for code in sorted((set(current) | set(wanted)) - {ALSO_FOR}):
        before, after = current.get(code), wanted.get(code)
        if before == after:
            continue
        action = CREATE if before is None else ARCHIVE if after is None else UPDATE
        note = "back to the default" if after is None else ""
        changes.append(Change("points", "points rule", code, action, f'points."{code}"',
                              {"amount": (before, after)}, note=note))
    before_kinds = sorted(current.get(ALSO_FOR) or [])
    after_kinds = sorted(set(wanted.get(ALSO_FOR) or []))
    if before_kinds != after_kinds:
        action = CREATE if not before_kinds else ARCHIVE if not after_kinds else UPDATE
        changes.append(Change("points", "points option", ALSO_FOR, action, f"points.{ALSO_FOR}",
                              {"kinds": (before_kinds or None, after_kinds or None)},
                              note="core.task_completed paid besides each kind's own event"))
    return changes


def _points_apply(ctx: SectionContext, changes: list[Change]) -> None:
    assert ctx.station is not None
    amounts = {c.key: c.fields["amount"][1] for c in changes if c.key != ALSO_FOR}
    if amounts:
        ledger.set_rules(ctx.session, ctx.station.id, amounts)
    for change in changes:
        if change.key == ALSO_FOR:
            ledger.set_task_completed_also_for(ctx.session, ctx.station,
                                               change.fields["kinds"][1] or [])
        ctx.progress(change)


POINTS = StationSection(
    "points", PointsSchema, _points_export, _points_plan, _points_apply, check=_points_check,
    order=50, description="Points per event code where the station differs from the default, "
                          "and the task kinds that also pay core.task_completed.")

SECTIONS = [STATION, SEATS, GROUPS, PLUGINS, POINTS]
