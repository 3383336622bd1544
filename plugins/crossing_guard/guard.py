"""The plugin's rules hold on every path: a crossing shift changed outside its endpoints is checked.

The core's generic task endpoints can sign people up for any task or withdraw them; for a
crossing shift that would skip the team check and the withdrawal cutoff. The plugin's own
services check those rules first and then act inside :func:`checked`; any other change of a
crossing shift's assignment is vetoed here (the error rolls the unit of work back).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.errors import Conflict, PermissionDenied
from core.models import Assignment, AssignmentStatus, Station, Task
from plugins.crossing_guard import settings
from plugins.crossing_guard.models import Post, School, Shift
from plugins.crossing_guard.team import is_guard

S = AssignmentStatus
FLAG = "crossing_guard.checked"


@contextmanager
def checked(session: so.Session) -> Iterator[None]:
    """The caller has applied the crossing-guard rules: let the core change go through."""
    depth = session.info.get(FLAG, 0)
    session.info[FLAG] = depth + 1
    try:
        yield
    finally:
        session.info[FLAG] = depth


def check_change(session: so.Session, station: Station, task: Task, assignment: Assignment,
                 previous: str | None) -> None:
    """Veto a sign-up by someone not qualified, or a withdrawal past the cutoff."""
    if session.info.get(FLAG):
        return
    joined = previous in (None, S.WITHDRAWN) and assignment.status in (S.SIGNED_UP,
                                                                       S.WAITLISTED)
    left = previous == S.SIGNED_UP and assignment.status == S.WITHDRAWN
    if not (joined or left):
        return  # promotions, check-ins, no-shows: the core's own business
    row = session.execute(
        sa.select(Shift, School).join(Post, Post.id == Shift.post_id)
        .join(School, School.id == Post.school_id)
        .where(Shift.station_id == station.id, Shift.task_id == task.id)).first()
    if row is None:
        return  # a task of this kind made outside the plugin: no rules of ours to apply
    if joined:
        if not is_guard(session, station.id, assignment.user_id, row.School):
            raise PermissionDenied("not_eligible")
        return
    rules = settings.for_station(session, station.id)
    if clock.now() > task.starts_at - rules.withdrawal_cutoff:
        raise Conflict("withdrawal_cutoff_passed", cutoff_hours=rules.cutoff_hours)
