"""Delivery by WeChat subscription message: a channel of its own beside the inbox and push."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import budgets
from core.hookspecs import Delivery
from core.models import IdentityLink, Notification, Station
from core.notifications import rendered, target_of
from plugins.wechat import identity, wechat_api
from plugins.wechat.models import WechatSubscription
from plugins.wechat.settings import TEXT, TITLE
from plugins.wechat.wechat_api import WechatError

REFUSED_BY_PERSON = 43101  # no accepted subscription left for the template
THING_MAX = 20  # WeChat's "thing" values hold at most 20 characters


def deliver(session: so.Session, notifications: list[Notification],
            settings: dict[str, Any]) -> list[Delivery]:
    """Send each notification whose code has a template to a person who signed in by WeChat and
    accepted the template; everyone else is skipped (the inbox and other channels still go).

    The deployment's ``sends_per_minute`` is counted in the database for every worker; a
    one-time acceptance is used up by the message it allowed.
    """
    user_ids = {n.user_id for n in notifications}
    openids = dict(session.execute(sa.select(IdentityLink.user_id, IdentityLink.subject).where(
        IdentityLink.provider == identity.PROVIDER, IdentityLink.user_id.in_(user_ids))).all())
    subscriptions = {(s.user_id, s.template_id): s for s in session.scalars(
        sa.select(WechatSubscription).where(WechatSubscription.user_id.in_(user_ids)))}
    stations = {s.id: s for s in session.scalars(sa.select(Station).where(
        Station.id.in_({n.station_id for n in notifications if n.station_id})))}
    outcomes = []
    for notification in notifications:
        template = settings["templates"].get(notification.code)
        openid = openids.get(notification.user_id)
        if template is None or openid is None:
            outcomes.append(Delivery("skipped"))
            continue
        subscription = subscriptions.get((notification.user_id, template["template_id"]))
        if subscription is None or not subscription.active or (
                not subscription.long_term and subscription.remaining <= 0):
            outcomes.append(Delivery("skipped", "no accepted subscription"))
            continue
        wait = budgets.take(session, f"wechat:{settings['app_id']}:send",
                            settings["sends_per_minute"], dt.timedelta(minutes=1))
        if wait is not None:
            outcomes.append(Delivery("retry", f"send_limit: at most {settings['sends_per_minute']}"
                                              " messages a minute", retry_after=wait))
            continue
        station = stations.get(notification.station_id) if notification.station_id else None
        outcomes.append(_send(session, settings, notification, template, openid, station,
                              subscription))
    return outcomes


def _send(session: so.Session, settings: dict[str, Any], notification: Notification,
          template: dict[str, Any], openid: str, station: Station | None,
          subscription: WechatSubscription) -> Delivery:
    try:
        wechat_api.send_subscription_message(session, settings, {
            "touser": openid, "template_id": template["template_id"],
            "page": page_of(settings["page"], notification, station),
            "data": {key: {"value": value} for key, value
                     in data_of(template, notification, station).items()},
            "miniprogram_state": settings["miniprogram_state"], "lang": "zh_CN"})
    except WechatError as exc:
        if exc.errcode == REFUSED_BY_PERSON:
            subscription.remaining = 0
            if subscription.long_term:
                subscription.active = False
            return Delivery("skipped", f"{exc.errcode}: {exc.errmsg}"[:300])
        if exc.errcode in wechat_api.BUSY or exc.errcode in wechat_api.TOKEN_REFUSED:
            return Delivery("retry", f"{exc.errcode}: {exc.errmsg}"[:300])
        return Delivery("failed", f"{exc.errcode}: {exc.errmsg}"[:300])
    if not subscription.long_term:
        subscription.remaining -= 1
    return Delivery("sent")


def page_of(page: str, notification: Notification, station: Station | None) -> str:
    """The mini-program page and, in its query, what to open (the notification's target)."""
    query: dict[str, Any] = {"notification_id": notification.id}
    target = target_of(notification, station.code) if station is not None else None
    if target is not None:
        query.update(target)
    return f"{page}?{urlencode(query)}"


def data_of(template: dict[str, Any], notification: Notification,
            station: Station | None) -> dict[str, str]:
    """Each template key's value: a parameter (times as the station reads them), the text or the
    title, cut to what WeChat takes."""
    params = notification.params or {}
    title, text = rendered(notification, "zh-CN", station)
    values = {}
    for key, source in template["data"].items():
        if source in (TEXT, TITLE):
            value = text if source == TEXT else title
        else:
            value = _plain(params.get(source, ""))
        values[key] = value[:THING_MAX] if key.startswith("thing") else value
    return values


def _plain(value: Any) -> str:
    if isinstance(value, str):
        try:  # a time stored in the station's zone reads as WeChat's "time" values do
            return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return str(value)
