"""A section of the station file as its owner sees it: schema, export, plan, apply; changes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import marshmallow as ma
import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy import orm as so

    from core.access import Actor
    from core.models import Station
    from core.plugins import Deployment

CREATE, UPDATE, ARCHIVE = "create", "update", "archive"
KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
KEY = re.compile(KEY_PATTERN)


def key_field(**kwargs: Any) -> ma.fields.String:
    """The ``key`` an object is addressed by in the file: stable across renames."""
    return ma.fields.String(required=True, validate=ma.validate.Regexp(
        KEY, error="must be lowercase letters, digits, '-', '_' or '.' (at most 64)"), **kwargs)


def lat_field(**kwargs: Any) -> ma.fields.Float:
    return ma.fields.Float(required=True, validate=ma.validate.Range(
        -90, 90, error="must be between {min} and {max}"), **kwargs)


def lon_field(**kwargs: Any) -> ma.fields.Float:
    return ma.fields.Float(required=True, validate=ma.validate.Range(
        -180, 180, error="must be between {min} and {max}"), **kwargs)


@dataclass
class Change:
    """One thing a plan would do: create, update or archive one object named by its key."""

    section: str
    kind: str  # what the object is, e.g. "route", "checkpoint", "seat"
    key: str
    action: str  # "create", "update" or "archive"
    path: str  # where it is in the file, e.g. "patrol.routes[night].checkpoints[gate]"
    #: field -> (before, after); before is None for a created object, after for an archived one.
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: a harm this change does to people (e.g. "cancel_guarded_shifts"): refused unless allowed.
    harm: str | None = None
    note: str = ""  # what else follows, in words, e.g. "3 future shifts cancelled, 2 guards told"
    wanted: Any = None  # the wanted item, for the section's apply
    current: Any = None  # the stored item as exported (with its ``id``), for the section's apply

    def as_dict(self) -> dict[str, Any]:
        return {"section": self.section, "kind": self.kind, "key": self.key,
                "action": self.action, "path": self.path, "harm": self.harm, "note": self.note,
                "fields": {name: {"before": before, "after": after}
                           for name, (before, after) in self.fields.items()}}


@dataclass
class SectionContext:
    """What a section's export, plan and apply work with."""

    session: so.Session
    deployment: Deployment
    #: None while the station does not exist yet (a plan for a new station: export nothing).
    station: Station | None
    #: who applies (an admin of the station or the superuser); None when only reading.
    actor: Actor | None = None
    #: the whole wanted file, loaded (for references between sections); {} when exporting.
    document: dict[str, Any] = field(default_factory=dict)
    #: called once per change applied (a progress bar).
    progress: Callable[[Change], None] = lambda change: None
    #: the harms ``--allow`` named (a section may act differently when allowed).
    allowed: frozenset[str] = frozenset()

    def group_id(self, key: str | None) -> int | None:
        """The id of the station's group with this key (``group-<id>`` for a group without)."""
        from core.models import Group

        if key is None or self.station is None:
            return None
        found = self.session.scalar(sa.select(Group.id).where(
            Group.station_id == self.station.id, Group.key == key))
        if found is None:
            found = implicit_id(key, "group")
            if found is not None:
                found = self.session.scalar(sa.select(Group.id).where(
                    Group.station_id == self.station.id, Group.id == found))
        if found is None:
            from core.errors import Invalid

            raise Invalid("station_file_reference", key=key, kind="group")
        return found

    def group_keys(self) -> dict[int, str]:
        """Group id -> key, for exporting references."""
        from core.models import Group

        if self.station is None:
            return {}
        rows = self.session.execute(sa.select(Group.id, Group.key).where(
            Group.station_id == self.station.id)).all()
        return {gid: key or f"group-{gid}" for gid, key in rows}


@dataclass(frozen=True)
class StationSection:
    """A top-level section of the station file and how its owner reads and writes it.

    ``export`` gives the stored state in the shape ``schema(many=many).load`` gives the file's;
    ``plan(ctx, current, wanted)`` lists the :class:`Change` objects; ``apply(ctx, changes)``
    carries them out through the owner's services (one transaction, opened by the core).
    """

    name: str
    schema: type[ma.Schema]
    export: Callable[[SectionContext], Any]
    plan: Callable[[SectionContext, Any, Any], list[Change]]
    apply: Callable[[SectionContext, list[Change]], None]
    #: cross-checks that need the whole file or the deployment (no database):
    #: (section data, document, deployment) -> [(path, message)].
    check: Callable[[Any, dict[str, Any], Deployment], list[tuple[str, str]]] | None = None
    #: an array of tables (``[[groups]]``) rather than one table.
    many: bool = False
    #: sections apply in this order (core: 10-50; plugins: 100 by default).
    order: int = 100
    description: str = ""
    #: group kinds whose groups this section manages (they stay out of ``[[groups]]``).
    group_kinds: tuple[str, ...] = ()
    #: the command line's step before validation: read the files the section names by path
    #: (relative to the station file's folder) into the data; (data, folder) -> data.
    inline_files: Callable[[Any, Path], Any] | None = None


def implicit_id(key: str, prefix: str) -> int | None:
    """The id in a ``<prefix>-<id>`` key that export gives an object stored without a key."""
    if key.startswith(f"{prefix}-") and key[len(prefix) + 1:].isdigit():
        return int(key[len(prefix) + 1:])
    return None


def key_of(row: Any, prefix: str) -> str:
    return row.key or f"{prefix}-{row.id}"


def diff_items(section: str, kind: str, path: str, current: Iterable[dict[str, Any]],
               wanted: Iterable[dict[str, Any]], *, skip: Iterable[str] = ()) -> list[Change]:
    """Creates, updates and archives between two keyed lists (compared field by field).

    ``path`` is the list's place, e.g. ``patrol.routes``; ``skip`` names fields compared
    elsewhere (nested lists). Items of ``current`` carry their ``id``.
    """
    skipped = {"key", "id", *skip}
    stored = {item["key"]: item for item in current}
    changes: list[Change] = []
    seen: set[str] = set()
    for item in wanted:
        key = item["key"]
        seen.add(key)
        before = stored.get(key)
        where = f"{path}[{key}]"
        if before is None:
            changes.append(Change(section, kind, key, CREATE, where, wanted=item, fields={
                name: (None, value) for name, value in item.items()
                if name not in skipped and value not in (None, [], {}, "")}))
            continue
        differ = {name: (before.get(name), value) for name, value in item.items()
                  if name not in skipped and before.get(name) != value}
        if differ:
            changes.append(Change(section, kind, key, UPDATE, where, fields=differ, wanted=item,
                                  current=before))
    for key, before in stored.items():
        if key not in seen:
            changes.append(Change(section, kind, key, ARCHIVE, f"{path}[{key}]", current=before))
    return changes


def without_none(data: Any) -> Any:
    """TOML has no null: a field without a value (or an empty table) is left out of the file."""
    if isinstance(data, dict):
        return {k: without_none(v) for k, v in data.items() if v is not None and v != {}}
    if isinstance(data, list):
        return [without_none(v) for v in data]
    return data
