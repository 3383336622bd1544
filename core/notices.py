"""Notices from officers: one message to the whole station, a group or a role, through the inbox."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import audit, clock, events, messages, notifications
from core.access import Actor
from core.errors import Invalid, NotFound, TooManyRequests
from core.models import Group, GroupMember, Membership, Notice, NoticeAudience, Task, User
from core.models.stations import Role

# Sensible limits: an officer's notices reach many phones at once.
PER_SENDER = (10, dt.timedelta(hours=1))   # one officer: 10 an hour
PER_STATION = (50, dt.timedelta(days=1))   # every officer of a station together: 50 a day
ID_KEY = re.compile(r"^[a-z][a-z0-9_]{0,30}_id$")
MAX_TARGET_IDS = 3


def send(session: so.Session, actor: Actor, *, audience: str, title: str, text: str,
         group_id: int | None = None, role: str | None = None,
         target: dict[str, Any] | None = None) -> Notice:
    """Send a notice (officers and admins) to everyone of ``audience`` but the sender.

    ``audience`` is ``station`` (every member), ``group`` (the members of ``group_id``) or
    ``role`` (the members holding ``role``). Each gets a ``core.notice`` in the inbox, pushed
    like every notification; the notice and its reach are audited (``notice.sent``).

    :raises Invalid: ``notice_audience_incomplete`` (a group or role audience without it),
        ``notice_audience_mixed`` (a group or role given for another audience),
        ``notice_blank`` (a title or text of spaces), ``notice_target_invalid``,
        ``notice_no_recipients``.
    :raises NotFound: ``group_not_found``, ``task_not_found`` (a target in no station's reach).
    :raises TooManyRequests: ``rate_limited`` past :data:`PER_SENDER` or :data:`PER_STATION`.
    """
    actor.require("officer", "admin")
    kind = NoticeAudience(audience)
    _check_audience(kind, group_id, role)
    title, text = title.strip(), text.strip()
    for field, value in (("title", title), ("text", text)):
        if not value:
            raise Invalid("notice_blank", field=field)
    group = _group(session, actor, group_id) if kind == NoticeAudience.GROUP else None
    stored_target = _check_target(session, actor, target) if target is not None else None
    _check_rate(session, actor)
    recipients = [uid for uid in _audience(session, actor, kind, group, role)
                  if uid != actor.user.id]
    if not recipients:
        raise Invalid("notice_no_recipients", audience=kind.value)
    notice = Notice(station_id=actor.station.id, sent_by=actor.user.id, audience=kind,
                    group_id=group.id if group else None, group_name=group.name if group else "",
                    role=role if kind == NoticeAudience.ROLE else None, title=title, text=text,
                    target=stored_target, recipients=len(recipients), sent_at=clock.now())
    session.add(notice)
    session.flush()
    notifications.notify_many(
        session, recipients, "core.notice", actor.station.id, target=stored_target,
        notice_id=notice.id, title=title, text=text,
        **notifications.named(session, "by", actor.user.id))
    audit.record(session, actor=actor.user, role=actor.role, action="notice.sent", record=notice,
                 audience=kind.value, group_id=notice.group_id, to_role=notice.role,
                 recipients=len(recipients), title=title)
    return notice


def sent(actor: Actor) -> sa.Select[Notice, User]:
    """The station's notices with their senders, newest first (officers and admins)."""
    actor.require("officer", "admin")
    return (sa.select(Notice, User).join(User, User.id == Notice.sent_by)
            .where(Notice.station_id == actor.station.id)
            .order_by(Notice.sent_at.desc(), Notice.id.desc()))


def _check_audience(kind: NoticeAudience, group_id: int | None, role: str | None) -> None:
    needs = {NoticeAudience.GROUP: ("group_id", group_id), NoticeAudience.ROLE: ("role", role)}
    for audience, (field, value) in needs.items():
        if audience == kind and value is None:
            raise Invalid("notice_audience_incomplete", field=field, audience=kind.value)
        if audience != kind and value is not None:
            raise Invalid("notice_audience_mixed", field=field, audience=kind.value)
    if role is not None and role not in {r.value for r in Role}:
        raise Invalid("invalid_role", field="role", role=role)


def _group(session: so.Session, actor: Actor, group_id: int | None) -> Group:
    group = session.scalar(sa.select(Group).where(Group.id == group_id,
                                                  Group.station_id == actor.station.id))
    if group is None:
        raise NotFound("group_not_found", field="group_id")
    return group


def _audience(session: so.Session, actor: Actor, kind: NoticeAudience, group: Group | None,
              role: str | None) -> list[int]:
    """The people a notice reaches: members with an account (pending seats have none)."""
    station_id = actor.station.id
    members = sa.select(Membership.user_id, Membership.roles).where(
        Membership.station_id == station_id, Membership.user_id.is_not(None))
    if kind == NoticeAudience.GROUP:
        assert group is not None
        members = members.join(GroupMember, sa.and_(
            GroupMember.station_id == Membership.station_id,
            GroupMember.user_id == Membership.user_id, GroupMember.group_id == group.id))
    rows = session.execute(members.order_by(Membership.user_id)).all()
    # Roles are a JSON list: filtered here, the same way on SQLite and PostgreSQL.
    return [uid for uid, roles in rows
            if uid is not None and (kind != NoticeAudience.ROLE or role in (roles or []))]


def _check_target(session: so.Session, actor: Actor, target: dict[str, Any]) -> dict[str, Any]:
    """A target as notifications carry it: a known kind and up to three ``<thing>_id`` ids.

    The core's own kinds are checked against the station (a task, a group); a plugin's ids
    are taken as given: a person who may not open the record is told so by the app's screen.
    """
    kind = target.get("kind")
    ids = {key: value for key, value in target.items() if key not in ("kind", "station")}
    if (not known_kind(session, kind)
            or target.get("station", actor.station.code) != actor.station.code
            or len(ids) > MAX_TARGET_IDS
            or any(not ID_KEY.match(key) or isinstance(value, bool) or not isinstance(value, int)
                   or not 0 < value < 2**63 for key, value in ids.items())):
        raise Invalid("notice_target_invalid", field="target")
    if kind == "core.task" and session.scalar(sa.select(Task.id).where(
            Task.id == ids.get("task_id"), Task.station_id == actor.station.id)) is None:
        raise NotFound("task_not_found", field="target")
    if kind == "core.group":
        _group(session, actor, ids.get("group_id"))
    return {"kind": kind, **ids}


def known_kind(session: so.Session, kind: Any) -> bool:
    """A kind the app can open: the core's, a notification's, or ``<plugin>.<thing>`` of an
    installed plugin (the home screen's cards name more than the notifications do)."""
    if not isinstance(kind, str) or not messages.CODE.match(kind):
        return False
    owner = kind.split(".")[0]
    if owner == "core":
        return kind in messages.CORE_TARGETS
    return kind in messages.TARGETS or owner in events.deployment(session).plugins


def _check_rate(session: so.Session, actor: Actor) -> None:
    now = clock.now()
    for limit, window, mine in (PER_SENDER + (True,), PER_STATION + (False,)):
        query = sa.select(Notice.sent_at).where(Notice.station_id == actor.station.id,
                                                Notice.sent_at > now - window)
        if mine:
            query = query.where(Notice.sent_by == actor.user.id)
        times = session.scalars(query.order_by(Notice.sent_at.desc()).limit(limit)).all()
        if len(times) >= limit:
            retry_after = max(1, int((times[-1] + window - now).total_seconds()) + 1)
            raise TooManyRequests("rate_limited", retry_after=retry_after)
