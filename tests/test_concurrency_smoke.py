"""Concurrent registrations of one phone on PostgreSQL: exactly one account."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from core.models import User


@pytest.mark.postgres_only
def test_concurrent_registrations_of_one_phone_make_one_account(app, live_world):
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def register() -> None:
        with app.test_client() as client:
            barrier.wait()
            answer = client.post("/api/v1/auth/register", json={
                "phone": "+8613911112222", "password": "s3cret-pass", "display_name": "x"})
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=register) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 9
    count = live_world.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.phone == "+8613911112222"))
    assert count == 1
