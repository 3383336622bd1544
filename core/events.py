"""Core events, told to the plugins switched on for the station concerned."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import orm as so

if TYPE_CHECKING:
    from core.models import Assignment, Membership, Task, User
    from core.plugins import Deployment


def deployment(session: so.Session) -> Deployment:
    """The deployment a session belongs to (set by ``Deployment`` on its database)."""
    return session.info["deployment"]


def _hooks(session: so.Session, station_id: int | None) -> Any:
    found = session.info.get("deployment")
    return found.hooks_for(session, station_id) if found else None


def _station(session: so.Session, station_id: int) -> Any:
    from core.models import Station

    return session.get(Station, station_id)


def membership_created(session: so.Session, membership: Membership) -> None:
    hooks = _hooks(session, membership.station_id)
    if hooks:
        hooks.wardens_membership_created(
            session=session, station=_station(session, membership.station_id),
            membership=membership,
        )


def membership_removed(session: so.Session, membership: Membership) -> None:
    """Tell every installed plugin (switched on or not) that a person leaves a station."""
    from core.models import User

    found = session.info.get("deployment")
    if found is not None and membership.user_id is not None:
        found.pm.hook.wardens_membership_removed(
            session=session, station=_station(session, membership.station_id),
            user=session.get(User, membership.user_id))


def plugin_switched(session: so.Session, station_id: int, plugin: str, enabled: bool) -> None:
    """Tell every installed plugin that a station switched ``plugin`` on or off."""
    found = session.info.get("deployment")
    if found is not None:
        found.forget_switches(session)  # the session's cached switches are stale now
        # Every installed plugin hears of it: the switched one itself, on or off.
        found.pm.hook.wardens_plugin_switched(session=session, station=_station(session, station_id),
                                      plugin=plugin, enabled=enabled)


def user_erased(session: so.Session, user: User) -> None:
    hooks = _hooks(session, None)  # every installed plugin: erasure reaches all data
    if hooks:
        hooks.wardens_user_erased(session=session, user=user)


def assignment_changed(
    session: so.Session, task: Task, assignment: Assignment, previous: str | None
) -> None:
    hooks = _hooks(session, task.station_id)
    if hooks:
        hooks.wardens_assignment_changed(
            session=session, station=_station(session, task.station_id), task=task,
            assignment=assignment, previous=previous,
        )


def task_completed(session: so.Session, task: Task, assignment: Assignment) -> None:
    hooks = _hooks(session, task.station_id)
    if hooks:
        hooks.wardens_task_completed(
            session=session, station=_station(session, task.station_id), task=task,
            assignment=assignment,
        )
