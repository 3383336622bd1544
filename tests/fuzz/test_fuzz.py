"""Schemathesis over the whole served document, as the demo station's admin and a volunteer."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import create_app
from core import demo
from core.plugins import Deployment
from tests.fixtures.app import TEST_CONFIG

pytestmark = pytest.mark.fuzz

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection,
          ignored_auth]
# Ending the session would sign the fuzzer out for the rest of the run.
SESSION_ENDING = ("auth_logout", "auth_password_change", "me_delete", "me_membership_leave")
ROLES = os.environ.get("WARDENS_FUZZ_ROLES", "admin,volunteer1").split(",")
EXAMPLES = int(os.environ.get("WARDENS_FUZZ_EXAMPLES", "5"))
# CI runs derandomized (the same examples every time); `make fuzz` draws new ones.
RANDOM = os.environ.get("WARDENS_FUZZ_RANDOM") == "1"


@pytest.fixture(scope="session")
def fuzz_app(deployment: Deployment) -> Flask:
    """The app over a committed demo station (the fuzzer's writes are kept, like a real server's)."""
    with deployment.database.writer() as session:
        demo.seed(session)
        session.commit()
    return create_app({**TEST_CONFIG, "AUTH_LIMIT_PER_PHONE": "100000/minute",
                       "AUTH_LIMIT_PER_IP": "100000/minute"}, deployment=deployment)


@pytest.fixture(scope="session")
def tokens(fuzz_app: Flask) -> dict[str, str]:
    phones = {key: phone for key, phone, _name, _roles in demo.PEOPLE}
    found = {}
    with fuzz_app.test_client() as client:
        for role in ROLES:
            answer = client.post("/api/v1/auth/token", json={
                "grant_type": "password", "phone": phones[role], "password": demo.DEMO_PASSWORD})
            assert answer.status_code == 200, answer.json
            found[role] = answer.json["access_token"]
    return found


@pytest.fixture(scope="session")
def api_schema(fuzz_app: Flask) -> Any:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=EXAMPLES, deterministic=not RANDOM)
    return schema.exclude(operation_id=list(SESSION_ENDING))


def test_api_conforms_to_its_document(api_schema: Any, tokens: dict[str, str]) -> None:
    """Every operation, positive and negative data, each request as each role: no failure."""
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, tokens)
            except (Exception, BaseExceptionGroup) as error:  # every operation's, not the first one
                failures.append(f"{operation.label} [{mode.value}]: {_summary(error)}")
    if failures:
        pytest.fail(f"{len(failures)} failing operations:\n" + "\n\n".join(failures),
                    pytrace=False)


def _fuzz(operation: Any, mode: GenerationMode, tokens: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=not RANDOM, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case: Any) -> None:
        for token in tokens.values():  # each generated request, as each role
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    # Unsatisfiable: nothing to send that breaks the document (a lone free-text path parameter)
    with contextlib.suppress(Unsatisfiable):
        run()


def _summary(error: BaseException) -> str:
    """The failures' titles and the request that shows each, without the schema dumps."""
    text = str(error)
    keep = [line for line in text.splitlines()
            if line.startswith(("- ", "    curl", "[", "    `"))]
    return "\n".join(keep)[:3000] or text[:3000]
