"""Long lists page by an opaque cursor (keyset: no OFFSET, no count) beside the numbered pages
phone clients have read since 1.0: the same rows in the same order, none twice, none missed."""

from __future__ import annotations

import datetime as dt

from core import clock, notifications
from tests.test_tasks import START


def inbox(client, person, **query):
    answer = client.get("/api/v1/me/notifications", query_string=query, headers=person.headers)
    assert answer.status_code == 200, answer.json
    return answer


def test_walking_the_inbox_by_cursor_gives_what_numbered_pages_give(client, world, session):
    clock.freeze(START)
    me = world.person("me")
    for number in range(45):
        # Many at the very same time: the tie-breaker (the id) keeps the order whole.
        if number % 10 == 0:
            clock.advance(dt.timedelta(minutes=1))
        notifications.notify(session, me.id, "core.waitlist_promoted", task_id=number,
                             title=f"t{number}", starts_at=START)
    session.commit()

    by_number = []
    for page in (1, 2, 3):
        answer = inbox(client, me, page=page, page_size=20)
        by_number += [n["id"] for n in answer.json]
    first = inbox(client, me, page_size=20)
    assert '"total": 45' in first.headers["X-Pagination"]  # as before, for the app's 1.0

    by_cursor, cursor, pages = [n["id"] for n in first.json], first.headers["X-Next-Cursor"], 1
    while cursor:
        answer = inbox(client, me, page_size=20, cursor=cursor)
        assert "X-Pagination" not in answer.headers  # no count on a page by cursor
        by_cursor += [n["id"] for n in answer.json]
        cursor, pages = answer.headers.get("X-Next-Cursor"), pages + 1
    assert by_cursor == by_number and len(set(by_cursor)) == 45 and pages == 3
    # a filter applies to the pages by cursor as to the numbered ones
    unread = inbox(client, me, page_size=5, unread="true")
    after = inbox(client, me, page_size=5, unread="true", cursor=unread.headers["X-Next-Cursor"])
    assert [n["id"] for n in unread.json + after.json] == by_number[:10]


def test_a_mangled_cursor_or_one_of_another_list_is_refused(client, world, session):
    me = world.person("me")
    for number in range(3):
        notifications.notify(session, me.id, "core.waitlist_promoted", task_id=number,
                             title="x", starts_at=START)
    session.commit()
    mangled = client.get("/api/v1/me/notifications?cursor=not-a-cursor", headers=me.headers)
    assert mangled.status_code == 422
    assert "cursor" in mangled.json["details"]["fields"]["query"]
    theirs = client.get("/api/v1/me/devices?page_size=1", headers=me.headers)
    assert theirs.status_code == 200
    mine = inbox(client, me, page_size=1).headers["X-Next-Cursor"]
    other_list = client.get(f"/api/v1/me/memberships?cursor={mine}", headers=me.headers)
    assert other_list.status_code == 422, other_list.json
    assert other_list.json["details"]["fields"]["query"]["cursor"]


def test_the_cursor_and_its_header_are_in_the_openapi_document(client):
    operation = client.get("/api/openapi.json").json["paths"]["/api/v1/me/notifications"]["get"]
    assert "cursor" in {p.get("name") for p in operation["parameters"]}
    assert "X-Next-Cursor" in operation["responses"]["200"]["headers"]
