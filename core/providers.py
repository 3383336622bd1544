"""The deployment's providers at a glance (``wardens providers check``): who texts, who signs
people in, which channels deliver; a test text only when asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from core import notifications, phones
from core.models import TextMessage

if TYPE_CHECKING:
    from core.plugins import Deployment

ROLES = (("wardens_send_text", "text messages"), ("wardens_verify_identity", "sign-in"),
         ("wardens_deliver_notifications", "notification channel"))
TEST_TEXT = "providers_check_text"


def lines(deployment: Deployment) -> list[str]:
    """One line per installed provider and its roles (settings were checked at start-up), and
    a warning when nothing can prove a phone. Nothing is sent."""
    found = []
    for name, plugin in deployment.plugins.items():
        roles = [role for hook, role in ROLES
                 if any(deployment.pm.get_name(impl.plugin) == name
                        for impl in getattr(deployment.pm.hook, hook).get_hookimpls())]
        if roles:
            found.append(f"{name} {plugin.info.version}: {', '.join(roles)}; settings checked")
    if not found:
        found.append("no provider plugin installed: the inbox is the only channel")
    if not deployment.proves_phones():
        found.append("warning: no text-message plugin and no sign-in provider: phones cannot"
                     " be verified")
    return found


def send_test_text(deployment: Deployment, phone: str) -> TextMessage:
    """Text ``phone`` through the outbox now (the first text provider takes it); the row says
    how it went."""
    phone = phones.normalize(phone)
    with deployment.database.writer() as session, session.begin():
        text_id = notifications.queue_text(session, phone, TEST_TEXT, {}, "zh-CN").id
    notifications.send_queued_texts(deployment.database, [text_id], worker="providers-check")
    with deployment.database.reader() as session:
        return session.scalars(sa.select(TextMessage).where(TextMessage.id == text_id)).one()
