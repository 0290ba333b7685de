"""``GET /api/usage/``: the report rows as JSON for staff; never for an inference key."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.admin_token_lifecycle import create_admin_token
from paddler_protocol.token_usage import TokenUsage
from tests.factories import make_api_key, make_tenant
from tests.usage.usage_drafts import at, make_draft, store

pytestmark = pytest.mark.django_db

URL = "/api/usage/"


@pytest.fixture
def inference_secret() -> str:
    key, secret = make_api_key(tenant=make_tenant(name="acme"), name="ci")
    store(
        make_draft(
            tenant_id=key.tenant_id,
            api_key_id=key.pk,
            started_at=at("2025-03-01 10:00"),
            tokens=TokenUsage(prompt_tokens=3, content_tokens=4),
        ),
        make_draft(
            tenant_id=key.tenant_id,
            api_key_id=key.pk,
            started_at=at("2025-03-02 10:00"),
            tokens=TokenUsage(prompt_tokens=10, reasoning_tokens=1),
        ),
    )
    return secret


@pytest.fixture
def http(client: Client) -> Client:
    client.defaults["HTTP_HOST"] = "localhost"
    return client


def test_staff_get_the_same_rows_as_the_report(http: Client, inference_secret: str) -> None:
    http.force_login(User.objects.create_superuser("ops", password="pw"))
    response = http.get(URL, {"group_by": "day", "since": "2025-03-02"})
    assert response.status_code == 200
    assert response.json() == [
        {
            "day": "2025-03-02",
            "requests": 1,
            "prompt_tokens": 10,
            "cached_prompt_tokens": 0,
            "completion_tokens": 1,
            "content_tokens": 0,
            "reasoning_tokens": 1,
            "tool_call_tokens": 0,
            "undeterminable_tokens": 0,
            "total_tokens": 11,
        }
    ]


def test_the_default_grouping_is_by_tenant(http: Client, inference_secret: str) -> None:
    http.force_login(User.objects.create_superuser("ops", password="pw"))
    [row] = http.get(URL).json()
    assert (row["tenant"], row["requests"], row["total_tokens"]) == ("acme", 2, 18)


def test_http_basic_credentials_are_not_accepted(http: Client, inference_secret: str) -> None:
    User.objects.create_superuser("ops", password="pw")
    response = http.get(URL, HTTP_AUTHORIZATION="Basic b3BzOnB3")  # ops:pw, right password
    assert response.status_code in (401, 403)
    assert "Basic" not in response.get("WWW-Authenticate", "")


def test_a_personal_admin_token_reads_the_report(http: Client, inference_secret: str) -> None:
    token = create_admin_token(user=User.objects.create_superuser("ops", password="pw"), name="cron")
    response = http.get(URL, HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    assert response.status_code == 200


def test_staff_without_the_view_permission_on_usage_records_are_refused(http: Client, inference_secret: str) -> None:
    http.force_login(User.objects.create_user("ops", password="pw", is_staff=True))
    assert http.get(URL).status_code == 403


def test_a_bad_filter_is_a_400_naming_the_field(http: Client, inference_secret: str) -> None:
    http.force_login(User.objects.create_superuser("ops", password="pw"))
    response = http.get(URL, {"since": "yesterday", "group_by": "planet"})
    assert response.status_code == 400
    assert set(response.json()) == {"since", "group_by"}


def test_an_inference_key_is_not_accepted(http: Client, inference_secret: str) -> None:
    response = http.get(URL, HTTP_AUTHORIZATION=f"Bearer {inference_secret}")
    assert response.status_code in (401, 403)


def test_a_non_staff_user_is_refused(http: Client, inference_secret: str) -> None:
    http.force_login(User.objects.create_user("someone", password="pw"))
    assert http.get(URL).status_code == 403
