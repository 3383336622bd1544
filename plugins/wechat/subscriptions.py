"""The subscription messages a person accepted in the mini-program (wx.requestSubscribeMessage)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from core import clock
from core.errors import Invalid
from core.models import User
from plugins.wechat.models import WechatSubscription


def of_user(session: so.Session, user_id: int) -> dict[str, WechatSubscription]:
    rows = session.scalars(sa.select(WechatSubscription).where(WechatSubscription.user_id == user_id))
    return {row.template_id: row for row in rows}


def offered(session: so.Session, user: User, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Each notification the deployment sends as a subscription message, with the person's state."""
    mine = of_user(session, user.id)
    result = []
    for code, template in sorted(settings["templates"].items()):
        row = mine.get(template["template_id"])
        result.append({"notification_code": code, "template_id": template["template_id"],
                       "long_term": template["long_term"],
                       "accepted": bool(row and row.active and (row.long_term or row.remaining)),
                       "remaining": row.remaining if row and not row.long_term else None})
    return result


def record(session: so.Session, user: User, results: dict[str, str],
           settings: dict[str, Any]) -> list[dict[str, Any]]:
    """Record what the person answered: "accept" allows one more message (a long-term template:
    messages until turned off); "reject" or "ban" stops them."""
    kinds = {t["template_id"]: t["long_term"] for t in settings["templates"].values()}
    unknown = sorted(set(results) - set(kinds))
    if unknown:
        raise Invalid("wechat_template_unknown", field="results", template_ids=unknown)
    mine = of_user(session, user.id)
    for template_id, answer in results.items():
        row = mine.get(template_id)
        if row is None:
            row = WechatSubscription(user_id=user.id, template_id=template_id,
                                     long_term=kinds[template_id], remaining=0, active=True)
            session.add(row)
        row.long_term = kinds[template_id]
        row.updated_at = clock.now()
        if answer == "accept":
            row.active = True
            if not row.long_term:
                row.remaining += 1
        else:
            row.active, row.remaining = False, 0
    session.flush()
    return offered(session, user, settings)
