"""The station file in the console: an admin downloads the export, uploads an edited file, reads
its plan as a diff and applies it with the CLI's refusals; nothing changes before the apply."""

from __future__ import annotations

import html
import io
import re
import tomllib

import sqlalchemy as sa

from core import demo
from core.models import AuditEvent, Station
from tests.fixtures.console import console_client, csrf_token

ADMIN = next(p for k, p, _n, _r in demo.PEOPLE if k == "admin")
OFFICER = next(p for k, p, _n, _r in demo.PEOPLE if k == "officer")


def _admin(matrix):
    matrix.app.extensions["wardens.throttle"].reset()
    browser = console_client(matrix.app, ADMIN, demo.DEMO_PASSWORD)
    browser.get("/console/language/en")
    return browser


def _exported(browser, code):
    answer = browser.get(f"/console/{code}/station-file/export.toml")
    assert answer.status_code == 200, answer.get_data(as_text=True)[-300:]
    assert f'filename="{code}.station.toml"' in answer.headers["Content-Disposition"]
    return answer.get_data(as_text=True)


def _plan(browser, code, text, *, as_file=True):
    page = f"/console/{code}/station-file"
    data = {"csrf_token": csrf_token(browser, page)}
    if as_file:
        data["file"] = (io.BytesIO(text.encode()), f"{code}.station.toml")
    else:
        data["text"] = text
    return browser.post(f"{page}/plan", data=data, content_type="multipart/form-data")


def _name(session, code):
    session.expire_all()
    return session.scalar(sa.select(Station.name).where(Station.code == code))


def test_an_edited_file_shows_its_one_change_and_applies_it(access_matrix, session):
    code = access_matrix.station.code
    browser = _admin(access_matrix)
    text = _exported(browser, code)
    document = tomllib.loads(text)
    assert document["station"]["code"] == code and "patrol" in document
    old = document["station"]["name"]

    # the export itself plans no change
    same = _plan(browser, code, text)
    assert same.status_code == 200 and "nothing would change" in same.get_data(as_text=True)

    edited = text.replace(f'name = "{old}"', 'name = "Xingfuli Police Station"', 1)
    planned = _plan(browser, code, edited)
    page = planned.get_data(as_text=True)
    assert planned.status_code == 200
    assert "0 created, 1 changed, 0 archived." in page
    rows = re.findall(r'<tr class="change-(\w+)', page)
    assert rows == ["update"]
    assert (f"<code>name</code>: <code>&#34;{old}&#34;</code> → "
            "<code>&#34;Xingfuli Police Station&#34;</code>") in page
    assert _name(session, code) == old  # a plan changes nothing

    # the plan's page sends the planned file back, as the browser holds it
    held = html.unescape(re.search(r'name="text" value="([^"]*)"', page).group(1))
    assert held == edited
    applied = browser.post(f"/console/{code}/station-file/apply", data={
        "text": held, "csrf_token": csrf_token(browser, f"/console/{code}/station-file")})
    assert applied.status_code == 200, applied.get_data(as_text=True)[-500:]
    assert 'id="applied"' in applied.get_data(as_text=True)
    assert _name(session, code) == "Xingfuli Police Station"
    last = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "station.applied")
                           .order_by(AuditEvent.id.desc())).first()
    assert last.details["summary"] == {"created": 0, "changed": 1, "archived": 0}


def test_a_broken_file_lists_its_mistakes_by_path_and_changes_nothing(access_matrix, session):
    code = access_matrix.station.code
    browser = _admin(access_matrix)
    text = _exported(browser, code)
    old = _name(session, code)

    syntax = _plan(browser, code, text + "\n[station\n")
    assert syntax.status_code == 422
    assert "not valid TOML" in syntax.get_data(as_text=True)

    wrong = text.replace('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"', 1)
    wrong = wrong.replace(f'name = "{old}"', 'name = "Renamed"', 1)
    refused = _plan(browser, code, wrong, as_file=False)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'<li><code>station\.timezone</code>: [^<]+</li>', page), page[-2000:]
    applied = browser.post(f"/console/{code}/station-file/apply", data={
        "text": wrong, "csrf_token": csrf_token(browser, f"/console/{code}/station-file")})
    assert applied.status_code == 422 and _name(session, code) == old

    empty = _plan(browser, code, "   ", as_file=False)
    assert empty.status_code == 422


def test_a_harm_is_refused_unless_ticked_as_the_cli_refuses_it(access_matrix, session):
    code = access_matrix.station.code
    browser = _admin(access_matrix)
    text = _exported(browser, code)
    document = tomllib.loads(text)
    admin_seat = next(s for s in document["seats"] if s["phone"] == ADMIN)
    assert "admin" in admin_seat["roles"]
    block = re.search(r'\[\[seats\]\]\nphone = "\+8613800000001"\nroles = \[[^\]]*\]', text)
    assert block, text[:1500]
    demoted = text.replace(block.group(0), '[[seats]]\nphone = "+8613800000001"\nroles = ["officer"]')
    planned = _plan(browser, code, demoted).get_data(as_text=True)
    assert 'class="harm-mark"' in planned and "remove_last_admin" in planned
    assert 'name="allow" value="remove_last_admin"' in planned
    refused = browser.post(f"/console/{code}/station-file/apply", data={
        "text": demoted, "csrf_token": csrf_token(browser, f"/console/{code}/station-file")})
    assert refused.status_code == 409
    assert "remove_last_admin" in refused.get_data(as_text=True)
    # still an admin: the page opens
    assert browser.get(f"/console/{code}/station-file").status_code == 200


def test_only_admins_reach_the_station_file(access_matrix):
    code = access_matrix.station.code
    access_matrix.app.extensions["wardens.throttle"].reset()
    officer = console_client(access_matrix.app, OFFICER, demo.DEMO_PASSWORD)
    assert officer.get(f"/console/{code}/station-file").status_code == 403
    answer = officer.get(f"/console/{code}/station-file/export.toml")
    assert answer.status_code == 403 and answer.mimetype == "text/html"
    assert "station-file" not in officer.get(f"/console/{code}/dashboard").get_data(as_text=True)
