"""A person's home screen: what to do now and next in every station, from every plugin switched on.

The core brings its own tasks and the unread count; each plugin switched on in a station adds
its cards through ``wardens_task_targets`` / ``wardens_today_cards`` (called through pluggy,
only for the stations that have it on). ``task_targets`` gives each task the screen a phone
opens for it (a crossing shift opens the shift, whose check-in needs the shift's id).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock, events, geofence, messages, targets
from core.hookspecs import TodayCard
from core.models import (
    Assignment,
    AssignmentStatus,
    Membership,
    Notification,
    Station,
    Task,
    User,
)
from core.models.tasks import TaskStatus

#: how far ahead "next" looks
HORIZON = dt.timedelta(days=7)
#: at most this many of the core's own tasks
CORE_TASKS = 5
S = AssignmentStatus
EXPECTED = (S.SIGNED_UP, S.WAITLISTED, S.CHECKED_IN)


@dataclass
class Today:
    """The home screen: the person's stations, their cards by time, the unread count."""

    generated_at: dt.datetime
    stations: list[Station]
    #: (the station, the card); the inbox's card has no station
    cards: list[tuple[Station | None, TodayCard]] = field(default_factory=list)
    unread_notifications: int = 0


def today(session: so.Session, user: User, *, station: str | None = None,
          now: dt.datetime | None = None, locale: str | None = None) -> Today:
    """What ``user`` should do now and next, across their stations (or one, by code).

    Cards under way come first, then by time; a plugin's card whose kind is not its own, or
    that is not a :class:`TodayCard`, is a bug in the plugin and fails loudly.
    """
    now = now or clock.now()
    locale = locale or user.locale
    user_id = user.id
    query = (sa.select(Station).join(Membership, Membership.station_id == Station.id)
             .where(Membership.user_id == user_id).order_by(Station.name, Station.id))
    if station is not None:
        query = query.where(Station.code == station)
    stations = list(session.scalars(query))
    found = Today(generated_at=now, stations=stations)
    if not stations:
        return found
    by_id = {s.id: s for s in stations}
    found.cards.extend((by_id[task.station_id], card)
                       for task, card in _core_cards(session, user_id, by_id, now))
    deployment = events.deployment(session)
    for place in stations:
        answers = deployment.results_by_plugin(session, place.id, "wardens_today_cards",
                                               session=session, station=place, user=user,
                                               now=now)
        for plugin, cards in answers.items():
            for card in cards or []:
                if not isinstance(card, TodayCard) or not card.kind.startswith(f"{plugin}."):
                    raise TypeError(f"plugin {plugin}: wardens_today_cards must return "
                                    f"TodayCards of kinds {plugin}.<noun>, not {card!r}")
                found.cards.append((place, _in_station(card, place)))
    unread_query = sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))
    if station is not None:
        unread_query = unread_query.where(Notification.station_id == stations[0].id)
    found.unread_notifications = int(session.scalar(unread_query) or 0)
    if found.unread_notifications:
        # The inbox is the person's, not a station's: its card carries no station.
        found.cards.append((None, TodayCard(
            kind="core.notifications", now=True, target=targets.target("core.notifications"),
            title=messages.render("today_unread", locale,
                                  {"count": found.unread_notifications}),
            details={"unread": found.unread_notifications})))
    far = now + dt.timedelta(days=3650)
    found.cards.sort(key=lambda pair: (not pair[1].now, pair[1].starts_at or pair[1].ends_at
                                       or far, pair[1].kind))
    return found


def _in_station(card: TodayCard, station: Station) -> TodayCard:
    if "station" in card.target:
        return card
    return TodayCard(**{**card.__dict__, "target": {"kind": card.target["kind"],
                                                   "station": station.code,
                                                   **{k: v for k, v in card.target.items()
                                                      if k != "kind"}}})


def _core_cards(session: so.Session, user_id: int, stations: dict[int, Station],
                now: dt.datetime) -> list[tuple[Task, TodayCard]]:
    """The person's next tasks of the core's own kinds (plugins card their own kinds)."""
    owners = events.deployment(session).kind_owners
    core_kinds = sorted(kind for kind, owner in owners.items() if owner is None)
    rows = session.execute(
        sa.select(Task, Assignment.status)
        .join(Assignment, Assignment.task_id == Task.id)
        .where(Assignment.user_id == user_id, Assignment.station_id.in_(list(stations)),
               Assignment.status.in_(EXPECTED), Task.kind.in_(core_kinds),
               Task.status != TaskStatus.CANCELLED, Task.ends_at > now,
               Task.starts_at < now + HORIZON)
        .order_by(Task.starts_at, Task.id).limit(CORE_TASKS)).all()
    cards = []
    for task, status in rows:
        station = stations[task.station_id]
        opens = geofence.station_rules(station.settings)["checkin_opens_minutes"]
        under_way = status == S.CHECKED_IN or (
            status == S.SIGNED_UP and task.starts_at - dt.timedelta(minutes=opens) <= now)
        cards.append((task, TodayCard(
            kind="core.task", title=task.title, starts_at=task.starts_at, ends_at=task.ends_at,
            now=under_way, status=str(status),
            target=targets.target("core.task", station.code, task_id=task.id))))
    return cards


def task_targets(session: so.Session, tasks: list[tuple[Task, Station]]) -> dict[int, dict[str, Any]]:
    """What the phone opens for each task: its plugin's screen, else the core's task."""
    deployment = events.deployment(session)
    found = {task.id: targets.target("core.task", station.code, task_id=task.id)
             for task, station in tasks}
    codes = {task.id: station.code for task, station in tasks}
    by_owner: dict[str, list[Task]] = defaultdict(list)
    for task, _station in tasks:
        owner = deployment.kind_owners.get(task.kind)
        if owner is not None:
            by_owner[owner].append(task)
    for owner, owned in sorted(by_owner.items()):
        answer = deployment.call_one("wardens_task_targets", deployment.plugins[owner].obj,
                                     session=session, tasks=owned) or {}
        for task_id, target in answer.items():
            if task_id in found:
                found[task_id] = {"kind": target["kind"], "station": codes[task_id],
                                  **{k: v for k, v in target.items() if k != "kind"}}
    return found
