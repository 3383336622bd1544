"""Plan, apply and export a whole station: the core orders the sections, each owner does its part."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from core import audit, events, stations
from core.access import Actor
from core.errors import Conflict, Invalid, NotFound, PermissionDenied, WardensError
from core.models import Membership, Station, User
from core.station_file.document import FileErrors, dumps, file_keys, sections
from core.station_file.section import ARCHIVE, CREATE, UPDATE, Change, SectionContext

if TYPE_CHECKING:
    from sqlalchemy import orm as so


#: what ``--allow`` may name: harms a plan refuses unless told.
HARMS = {
    "cancel_guarded_shifts": "cancel future shifts that have guards signed up",
    "remove_last_admin": "take the admin role from the station's last admin",
    "remove_groups": "delete groups that have members",
}


@dataclass
class Plan:
    """What applying a file would do to one station."""

    station: str
    creates_station: bool = False
    changes: list[Change] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(c.action for c in self.changes)
        return {"created": counts[CREATE], "changed": counts[UPDATE],
                "archived": counts[ARCHIVE]}

    @property
    def harms(self) -> list[str]:
        return sorted({c.harm for c in self.changes if c.harm})

    @property
    def empty(self) -> bool:
        return not self.changes and not self.creates_station

    def as_dict(self) -> dict[str, Any]:
        return {"station": self.station, "creates_station": self.creates_station,
                "summary": self.summary, "harms": self.harms,
                "changes": [c.as_dict() for c in self.changes]}


def _station(session: so.Session, code: str, *, lock: bool) -> Station | None:
    query = sa.select(Station).where(Station.code == code)
    if lock:
        # Two applies to one station queue here: the second reads what the first committed.
        query = query.with_for_update()
    return session.scalar(query)


def _actor(session: so.Session, user: User, station: Station) -> Actor:
    membership = session.scalar(sa.select(Membership).where(
        Membership.station_id == station.id, Membership.user_id == user.id))
    if membership is None and user.is_superuser:
        # The deployment's superuser applies as the station's admin would (never stored:
        # the services that read as a member see an admin seat for this one transaction).
        membership = Membership(station_id=station.id, user_id=user.id, roles=["admin"])
    who = Actor(user, station, membership)
    who.require("admin")
    return who


def _context(session: so.Session, station: Station | None, document: dict[str, Any],
             actor: Actor | None = None,
             progress: Callable[[Change], None] | None = None) -> SectionContext:
    ctx = SectionContext(session, events.deployment(session), station, actor, document)
    if progress is not None:
        ctx.progress = progress
    return ctx


def make_plan(session: so.Session, user: User, document: dict[str, Any], *,
              code: str | None = None, lock: bool = False) -> Plan:
    """Compare a loaded file with the stored station (an admin of it, or the superuser).

    ``code`` (the API's station) must match the file's ``station.code``.
    """
    wanted_code = document["station"]["code"]
    if code is not None and code != wanted_code:
        raise FileErrors([{"path": "station.code",
                           "message": f"names station {wanted_code!r}, not {code!r}"}])
    station = _station(session, wanted_code, lock=lock)
    if station is None:
        if not user.is_superuser:
            raise NotFound("station_not_found") if code else PermissionDenied("superuser_required")
    else:
        _actor(session, user, station)
    ctx = _context(session, station, document)
    plan = Plan(wanted_code, creates_station=station is None)
    for section in sections(events.deployment(session)):
        if section.name not in document:
            continue  # a section left out of the file is left alone
        current = section.export(ctx) if station is not None else ([] if section.many else {})
        plan.changes += section.plan(ctx, current, document[section.name])
    return plan


def apply(session: so.Session, user: User, document: dict[str, Any], *, code: str | None = None,
          allow: set[str] | frozenset[str] = frozenset(),
          progress: Callable[[Change], None] | None = None,
          on_plan: Callable[[Plan], None] | None = None) -> Plan:
    """Bring the station to the file's state, in the caller's transaction (all or nothing).

    The station row is locked first, so two applies to one station run one after the other.
    Harms the plan lists (:data:`HARMS`) are refused (409 ``station_file_harmful``) unless
    ``allow`` names them. One ``station.applied`` audit event records the plan's summary.
    """
    unknown = sorted(set(allow) - set(HARMS))
    if unknown:
        raise Invalid("station_file_unknown_allow", allow=", ".join(unknown),
                      known=", ".join(sorted(HARMS)))
    plan = make_plan(session, user, document, code=code, lock=True)
    refused = [h for h in plan.harms if h not in allow]
    if refused:
        raise Conflict("station_file_harmful", harms=", ".join(refused),
                       changes=[c.path for c in plan.changes if c.harm in refused])
    if on_plan is not None:
        on_plan(plan)
    station = _station(session, plan.station, lock=False)
    if station is None:
        station = _create_station(session, user, document)
    who = _actor(session, user, station)
    ctx = _context(session, station, document, who, progress)
    ctx.allowed = frozenset(allow)
    applied: list[Change] = []
    try:
        for section in sections(events.deployment(session)):
            if section.name not in document:
                continue
            # Planned again at its turn: it sees what the sections before it did (a new
            # station's first admin seat, a starter bank loaded by switching a plugin on).
            steps = section.plan(ctx, section.export(ctx), document[section.name])
            late = sorted({c.harm for c in steps if c.harm and c.harm not in allow})
            if late:
                raise Conflict("station_file_harmful", harms=", ".join(late),
                               changes=[c.path for c in steps if c.harm in late])
            section.apply(ctx, steps)
            applied += steps
    except (FileErrors, Conflict) as exc:
        if isinstance(exc, FileErrors) or exc.code == "station_file_harmful":
            raise
        raise Invalid("station_file_refused", reason=exc.code, details=exc.details) from None
    except WardensError as exc:
        # A rule of a service the file broke: say which, in the file's words.
        raise Invalid("station_file_refused", reason=exc.code, details=exc.details) from None
    role = "superuser" if user.is_superuser and who.membership not in session else who.role
    audit.record(session, actor=user, role=role, action="station.applied", record=station,
                 station_id=station.id,
                 summary=plan.summary, harms_allowed=sorted(set(allow) & set(plan.harms)),
                 changes=[f"{c.action} {c.path}" for c in applied][:200])
    return plan


def _create_station(session: so.Session, user: User, document: dict[str, Any]) -> Station:
    wanted = document["station"]
    admins = [s["phone"] for s in document.get("seats", []) if "admin" in s["roles"]]
    if not admins:
        raise FileErrors([{"path": "seats", "message": "a new station needs a seat with the"
                           " admin role"}])
    station, _ = stations.create_station(
        session, user, code=wanted["code"], name=wanted["name"], timezone=wanted["timezone"],
        open_join=wanted["open_join"], admin_phone=admins[0])
    return station


def export(session: so.Session, user: User, code: str) -> dict[str, Any]:
    """The station's state as a file document (what ``plan`` then reports as no change)."""
    station = _station(session, code, lock=False)
    if station is None:
        raise NotFound("station_not_found")
    _actor(session, user, station)
    deployment = events.deployment(session)
    enabled = deployment.enabled_for(session, station.id)
    ctx = _context(session, station, {})
    document: dict[str, Any] = {}
    for section in sections(deployment):
        owner = deployment.station_section_owner.get(section.name)
        if owner is not None and owner not in enabled:
            continue  # a switched-off plugin's section stays out (and so is left alone)
        document[section.name] = file_keys(section.schema(many=section.many),
                                           _public(section.export(ctx)))
    return document


def _public(data: Any) -> Any:
    """Without the database ids export keeps for planning: a file names objects by key."""
    if isinstance(data, dict):
        return {k: _public(v) for k, v in data.items() if k != "id"}
    if isinstance(data, list):
        return [_public(v) for v in data]
    return data


def export_text(session: so.Session, user: User, code: str) -> str:
    return dumps(export(session, user, code))
