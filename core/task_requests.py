"""What a station member may do to tasks through the core's generic endpoints, decided here.

Roles and the task kind's policy (``TaskKind.generic_*``) are checked before anything changes,
then the one lifecycle in :mod:`core.tasks` runs; the views only parse, call and serialize.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, events, geofence, tasks
from core.access import Actor
from core.errors import Invalid, NotFound, PermissionDenied
from core.models import Assignment, AssignmentStatus, Checkin, Membership, Task, User

#: policy field -> what it lets the generic endpoints do
ACTIONS = ("sign_up", "assign", "withdraw", "edit", "cancel")


def open_task(session: so.Session, who: Actor, task_id: int) -> tuple[Task, Assignment | None]:
    """A task the member may see, with their assignment; a switched-off plugin's is 404."""
    who.require_member()
    task, mine = tasks.get_visible_task(session, who, task_id)
    # A switched-off plugin's tasks stay out of reach: its rules (hooks) would not run.
    owner = tasks.kind_owner(session, task.kind)
    if owner is not None and not events.deployment(session).is_enabled(session, who.station.id,
                                                                       owner):
        raise NotFound("plugin_disabled", plugin=owner)
    return task, mine


def require_generic(session: so.Session, task: Task, action: str) -> None:
    """403 ``task_managed_by_plugin`` when the kind's policy keeps ``action`` to its plugin."""
    if not getattr(tasks.kind_policy(session, task.kind), f"generic_{action}"):
        raise PermissionDenied("task_managed_by_plugin", kind=task.kind, action=action,
                               plugin=tasks.kind_owner(session, task.kind))


def create(session: so.Session, who: Actor, body: dict[str, Any]) -> Task:
    """Post a task (officers and admins) of the core's kind or a plugin's unmanaged public one."""
    who.require("officer", "admin")
    kind = body.get("kind", "general")
    owner = tasks.kind_owner(session, kind)
    policy = tasks.kind_policy(session, kind)
    if policy.private:
        raise Invalid("task_kind_private", field="kind", kind=kind)
    if policy.managed:
        raise Invalid("task_kind_managed", field="kind", kind=kind)
    if owner is not None and not events.deployment(session).is_enabled(session, who.station.id,
                                                                       owner):
        raise Invalid("unknown_task_kind", field="kind", kind=kind)
    task = tasks.create_task(session, who.station.id, created_by=who.user.id, **body)
    audit.record(session, actor=who.user, role=who.role, action="task.created", record=task,
                 title=task.title)
    return task


def listed(session: so.Session, who: Actor,
           **filters: Any) -> sa.Select[Task, AssignmentStatus]:
    """Tasks the member may see (see :func:`core.tasks.visible_tasks`)."""
    who.require_member()
    return tasks.visible_tasks(session, who, **filters)


def update(session: so.Session, who: Actor, task_id: int,
           changes: dict[str, Any]) -> tuple[Task, Assignment | None]:
    who.require("officer", "admin")
    task, mine = open_task(session, who, task_id)
    require_generic(session, task, "edit")
    tasks.update_task(session, task, changes)
    audit.record(session, actor=who.user, role=who.role, action="task.updated", record=task,
                 fields=sorted(changes))
    return task, mine


def cancel(session: so.Session, who: Actor, task_id: int,
           reason: str) -> tuple[Task, Assignment | None]:
    who.require("officer", "admin")
    task, mine = open_task(session, who, task_id)
    require_generic(session, task, "cancel")
    told = tasks.cancel_task(session, task, reason=reason)
    audit.record(session, actor=who.user, role=who.role, action="task.cancelled", record=task,
                 reason=reason, notified=len(told))
    return task, mine


def signups(session: so.Session, who: Actor,
            task_id: int) -> sa.Select[Assignment, User]:
    """A task's people (officers and admins)."""
    who.require("officer", "admin")
    task, _ = open_task(session, who, task_id)
    return tasks.assignments_query(task)


def sign_up(session: so.Session, who: Actor, task_id: int, user_id: int | None = None, *,
            waitlist: bool = True) -> Assignment:
    """Sign oneself up (volunteers and staff), or assign a member (officers and admins).

    ``waitlist=False``: a full task refuses (409 ``task_full``) rather than queue the person.
    """
    task, mine = open_task(session, who, task_id)
    if user_id is None or user_id == who.user.id:
        who.require("volunteer", "officer", "admin")
        require_generic(session, task, "sign_up")
        return tasks.sign_up(session, task, who.user.id, existing=mine, waitlist=waitlist)
    who.require("officer", "admin")
    require_generic(session, task, "assign")
    if session.scalar(sa.select(Membership.id).where(
            Membership.station_id == who.station.id, Membership.user_id == user_id)) is None:
        raise Invalid("not_a_member", field="user_id")
    assignment = tasks.sign_up(session, task, user_id, by=who.user.id, waitlist=waitlist)
    audit.record(session, actor=who.user, role=who.role, action="task.assigned", record=task,
                 user_id=user_id, status=str(assignment.status))
    return assignment


def withdraw(session: so.Session, who: Actor, task_id: int, user_id: int | None = None) -> None:
    """Withdraw oneself, or take someone off (officers and admins)."""
    task, _ = open_task(session, who, task_id)
    if user_id is not None and user_id != who.user.id:
        who.require("officer", "admin")
    require_generic(session, task, "withdraw")
    tasks.withdraw(session, task, who.user.id if user_id is None else user_id)
    if user_id is not None and user_id != who.user.id:
        audit.record(session, actor=who.user, role=who.role, action="task.unassigned",
                     record=task, user_id=user_id)


def check_in(session: so.Session, who: Actor, task_id: int,
             **report: Any) -> tasks.CheckinResult:
    """The member's own check-in or check-out, by the core's rules and the kind's policy."""
    task, mine = open_task(session, who, task_id)
    return tasks.check_in(session, task, who.user.id, assignment=mine, **report)


def checkins(session: so.Session, who: Actor, task_id: int) -> sa.Select[Any]:
    """A task's check-ins: all for officers and admins, their own for others."""
    task, _ = open_task(session, who, task_id)
    query = tasks.checkins_query(task)
    if not who.is_staff:
        query = query.where(Checkin.user_id == who.user.id)
    return query


def check_in_rules(who: Actor) -> dict[str, Any]:
    """The station's check-in rules (members): accuracy limit, when check-in opens and closes."""
    who.require_member()
    return geofence.station_rules(who.station.settings)


def change_check_in_rules(session: so.Session, who: Actor,
                          changes: dict[str, Any]) -> dict[str, Any]:
    """Change the station's check-in rules (admins, audited); rules left out keep their value."""
    who.require("admin")
    settings = dict(who.station.settings or {})
    before = geofence.station_rules(settings)
    settings["tasks"] = {**(settings.get("tasks") or {}), **changes}
    who.station.settings = settings  # a new dict: JSON columns only see reassignment
    after = geofence.station_rules(settings)
    audit.record(session, actor=who.user, role=who.role, action="station.task_settings_changed",
                 record=who.station, before=before, after=after)
    return after
