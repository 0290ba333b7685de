"""Schemathesis against the management API's OpenAPI schema (/api/schema/), through Daphne,
signed in as staff: the schema is read with a staff session, each call made with a personal
admin token, as automation would.

Every generated request must be answered without a server error (5xx). The number of cases per
operation is OARLOCK_FUZZ_MANAGEMENT_EXAMPLES (``make test``: 10, ``make fuzz``: 200).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from accounts.admin_token_lifecycle import create_admin_token
from tests.live_server import LiveServer

EXAMPLES = int(os.environ.get("OARLOCK_FUZZ_MANAGEMENT_EXAMPLES", "10"))


@pytest.fixture
def staff(transactional_db: None) -> Any:
    return get_user_model().objects.create_user("fuzz-staff", is_staff=True, is_superuser=True)


def staff_session_headers(user: Any) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    return {"Cookie": f"{name}={client.cookies[name].value}"}


def fresh_token_headers(user: Any) -> dict[str, str]:
    # A new token per call: the fuzzer calls DELETE /api/admin-tokens/{id}/ too, and revokes
    # whatever token it happens to name — its own included.
    return {"Authorization": f"Bearer {create_admin_token(user=user, name='fuzz').secret}"}


def test_the_management_api_never_answers_a_server_error(live_server: LiveServer, staff: Any) -> None:
    # Each operation's cases are drawn from its strategy here rather than through schemathesis'
    # pytest plugin, whose lazy schemas do not run on pytest 9.
    # The schema is read as a signed-in staff member reads it (a session), so this keeps working
    # whichever authentication the schema view itself accepts.
    schema = schemathesis.openapi.from_url(live_server.url + "/api/schema/", headers=staff_session_headers(staff))
    statuses: Counter[str] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the schema lists no operations"
    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call_and_validate(
                base_url=live_server.url, headers=fresh_token_headers(staff), checks=[not_a_server_error]
            )
            statuses[f"{case.method} {case.path} {response.status_code}"] += 1

        call()
    print(
        "\nmanagement API fuzz:",
        len(operations),
        "operations,",
        sum(statuses.values()),
        "calls,",
        dict(Counter(key.rsplit(" ", 1)[1] for key in statuses.elements())),
    )
