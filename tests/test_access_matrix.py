"""Every route, walked by every lower role and from another station (tests/fixtures/access_matrix.py)."""

from __future__ import annotations

import json
import os

from tests.fixtures.access_matrix import (
    ACCESS,
    CONSOLE,
    CONSOLE_PUBLIC,
    KNOWN_FINDINGS,
    MARKERS,
    PUBLIC,
    ROLES,
    SECRETS,
    STATE_REFUSALS,
    endpoints,
    request_kwargs,
)

REFUSED = {401, 403, 404}
# Routes that end the caller's own session or membership: never called by a role they allow.
ENDS_SESSION = {"auth.auth_logout", "me.me_delete", "me.me_membership_leave",
                "auth.auth_password_change", "stations.stations_join"}


def _leaks(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace")
    return [m for m in MARKERS if m in text]


def _text(answer) -> str:
    return answer.data.decode("utf-8", "replace")


def _code(answer) -> str | None:
    body = answer.get_json(silent=True)
    return body.get("code") if isinstance(body, dict) else None


def _call(matrix, spec, rule, method, station, headers):
    url = matrix.url_for_rule(rule, station)
    return url, matrix.client.open(url, method=method, headers=headers,
                                   **request_kwargs(spec, rule, method, matrix.ids))


def test_every_route_is_classified(app):
    names = {rule.endpoint for rule, _method in endpoints(app)}
    unclassified = sorted(names - set(ACCESS) - set(PUBLIC) - set(CONSOLE) - set(CONSOLE_PUBLIC))
    assert not unclassified, f"classify these routes in tests/fixtures/access_matrix.py: {unclassified}"
    assert not set(ACCESS) & set(PUBLIC)
    assert not set(CONSOLE) & set(CONSOLE_PUBLIC)
    assert not set(ACCESS) - names, "ACCESS names routes the app does not have"
    assert not set(CONSOLE) - names, "CONSOLE names routes the app does not have"


def _api_endpoints(app):
    """The API's routes: the console's pages are walked by tests/test_console_access.py."""
    return [(rule, method) for rule, method in endpoints(app)
            if rule.endpoint not in CONSOLE and rule.endpoint not in CONSOLE_PUBLIC]


def test_lower_roles_are_refused_and_see_nothing(access_matrix):
    spec = access_matrix.client.get("/api/openapi.json").json
    station = access_matrix.station.code
    discover = os.environ.get("ACCESS_MATRIX_DISCOVER")
    failures, seen = [], {}
    for rule, method in _api_endpoints(access_matrix.app):
        if rule.endpoint in PUBLIC or rule.endpoint in KNOWN_FINDINGS:
            continue
        allowed = ACCESS.get(rule.endpoint)
        for role in ROLES:
            if not discover and (allowed is None or role in allowed):
                continue
            if discover and rule.endpoint in ENDS_SESSION:
                continue
            url, answer = _call(access_matrix, spec, rule, method, station,
                                access_matrix.people[role])
            seen.setdefault(rule.endpoint, {})[role] = (
                answer.status_code, _code(answer),
                (answer.get_json(silent=True) or {}).get("details") if answer.status_code == 422
                else None)
            if discover:
                continue
            expected = {401} if role == "anonymous" else REFUSED
            if (answer.status_code not in expected
                    and _code(answer) not in STATE_REFUSALS.get(rule.endpoint, ())):
                seen.setdefault("_failures", []).append((rule.endpoint, role,
                                                         answer.status_code, _code(answer)))
                failures.append(f"{role} {method} {url}: {answer.status_code} "
                                f"{answer.get_data(as_text=True)[:200]}")
            elif (set(answer.get_json(silent=True) or ()) != {"code", "message", "details"}
                  or _leaks(answer.data)):
                failures.append(f"{role} {method} {url}: leaks {answer.data[:200]!r}")
    if discover or os.environ.get("ACCESS_MATRIX_REPORT"):
        with open(discover or os.environ["ACCESS_MATRIX_REPORT"], "w") as out:
            json.dump(seen, out, indent=1, ensure_ascii=False)
    assert not failures, "\n".join(failures)


def test_what_a_role_may_list_holds_no_secret_it_may_not_read(access_matrix):
    """Lists a role may open (care recipients, incidents, ...) are filtered for it."""
    spec = access_matrix.client.get("/api/openapi.json").json
    failures = []
    for rule, method in _api_endpoints(access_matrix.app):
        if method != "GET" or rule.endpoint in PUBLIC:
            continue
        for role in ROLES:
            url, answer = _call(access_matrix, spec, rule, method,
                                access_matrix.station.code, access_matrix.people[role])
            text = _text(answer)
            shown = [secret for secret, readers in SECRETS.items()
                     if role not in readers and secret in text]
            if shown:
                failures.append(f"{role} GET {url}: shows {shown}")
    assert not failures, "\n".join(failures)


def test_another_stations_admin_reaches_no_record_of_this_station(access_matrix):
    """From their own station's URL, with this station's ids: 404 and nothing shown."""
    spec = access_matrix.client.get("/api/openapi.json").json
    other = access_matrix.other.code
    failures = []
    for rule, method in _api_endpoints(access_matrix.app):
        names = set(rule.arguments) - {"station", "filename", "name", "code"}
        if rule.endpoint in PUBLIC or not names:
            continue
        if "<station>" not in rule.rule and rule.endpoint not in ACCESS:
            continue
        url, answer = _call(access_matrix, spec, rule, method, other, access_matrix.other_admin)
        if answer.status_code not in REFUSED:
            failures.append(f"{method} {url}: {answer.status_code} "
                            f"{answer.get_data(as_text=True)[:200]}")
        elif _leaks(answer.data) or any(s in _text(answer) for s in SECRETS):
            failures.append(f"{method} {url}: leaks {answer.data[:200]!r}")
    assert not failures, "\n".join(failures)
