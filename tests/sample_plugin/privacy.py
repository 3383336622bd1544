"""The sample plugin's part of erasure: a person's notes lose their author and text."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm as so

from core.models import User
from tests.sample_plugin.models import SampleNote


def erase(session: so.Session, user: User) -> None:
    session.execute(sa.update(SampleNote).where(SampleNote.user_id == user.id)
                    .values(user_id=None, text=""))
